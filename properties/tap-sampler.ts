// Samples dmatap's per-call-site counters after every case (calls, and
// injections by point), with its fault points' injection counters and its
// findings, and hands the per-case deltas to the audit: the error-path audit
// of a driver without hooks, one call site of an intercepted function at a time.
import { type AuditCollector } from '../audit/collector.js';
import { type Counts, delta, injectedDelta, parsePointSummary, parseTapSites, type PointSummary, type TapSiteCounts, wasReset } from '../audit/counters.js';
import { failsCall } from '../faults/points.js';
import type { FaultHooks } from '../faults/hooks.js';
import type { Machine } from '../vm/machine.js';
import type { Guest } from './guest.js';
import type { CaseSampler } from './site-sampler.js';

interface Sample {
  readonly machine: Machine;
  readonly sites: Record<string, TapSiteCounts>;
  readonly points: PointSummary;
  readonly findings: number;
}

// The counts of `after` since `before`; a count that went down was reset (a new target instance, a reset), so counts from 0.
function since(before: TapSiteCounts | undefined, after: TapSiteCounts): { calls: number; points: Counts } {
  const reset = before !== undefined && (after.calls < before.calls || wasReset(before.points, after.points));
  const base = before && !reset ? before : { calls: 0, points: {} };
  return { calls: after.calls - base.calls, points: delta(base.points, after.points) };
}

export class TapSiteSampler implements CaseSampler {
  private last: Sample | undefined;

  constructor(
    readonly collector: AuditCollector,
    readonly profile: string,
    private readonly hooks: Required<Pick<FaultHooks, 'sites' | 'ledger'>>,
  ) {}

  async sample(guest: Guest, machine: Machine, faultsDir: string, property: string): Promise<void> {
    const [sitesReply, pointsReply, ledgerReply] = await Promise.all([
      guest.call('readfile', this.hooks.sites),
      guest.call('readfile', `${faultsDir}/summary`),
      guest.call('readfile', this.hooks.ledger),
    ]);
    if (sitesReply.ret < 0) return;
    const text = (r: { payload: string }) => Buffer.from(r.payload, 'hex').toString();
    const sites = parseTapSites(text(sitesReply), this.hooks.sites);
    const points = pointsReply.ret < 0 ? {} : parsePointSummary(text(pointsReply));
    const findings = ledgerReply.ret < 0 ? 0 : Number(/^findings (\d+)$/m.exec(text(ledgerReply))?.[1] ?? 0);
    const base = this.last?.machine === machine ? this.last : { sites: {} as Record<string, TapSiteCounts>, points: {}, findings: 0 };
    const hits: Counts = {};
    const calls: Counts = {};
    const sitePoints: Record<string, Counts> = {};
    for (const [name, now] of Object.entries(sites)) {
      const d = since(base.sites[name], now);
      if (d.calls) calls[name] = d.calls;
      const injected = Object.entries(d.points).filter(([, n]) => n > 0);
      if (!injected.length) continue;
      sitePoints[name] = Object.fromEntries(injected);
      const failures = injected.filter(([p]) => failsCall(p)).reduce((n, [, k]) => n + k, 0);
      if (failures) hits[name] = failures;
    }
    this.collector.add({
      property,
      profile: this.profile,
      sites: hits,
      injected: injectedDelta(base.points, points),
      sitePoints,
      calls,
      findings: findings >= base.findings ? findings - base.findings : findings,
    });
    this.last = { machine, sites, points, findings };
  }
}
