// Samples the driver's error-site counters and the fault points' injection
// counters after every case, and hands the per-case deltas to the audit.
import { type AuditCollector } from '../audit/collector.js';
import { type Counts, delta, injectedDelta, parsePointSummary, parseSiteCounts, type PointSummary, wasReset } from '../audit/counters.js';
import type { Machine } from '../vm/machine.js';
import { type Guest, PATHS } from './guest.js';

export const SITES_FILE = `${PATHS.debugfs}/sites`;

// What a session calls after each case, when an audit is collecting.
export interface CaseSampler {
  sample(guest: Guest, machine: Machine, faultsDir: string, property: string): Promise<void>;
}

interface Sample {
  readonly machine: Machine;
  readonly sites: Counts;
  readonly points: PointSummary;
}

export class SiteSampler implements CaseSampler {
  private last: Sample | undefined;

  constructor(
    readonly collector: AuditCollector,
    readonly profile: string,
  ) {}

  // Records what happened since the previous sample (on a new machine: since boot).
  async sample(guest: Guest, machine: Machine, faultsDir: string, property: string): Promise<void> {
    const [sitesReply, pointsReply] = await Promise.all([guest.call('readfile', SITES_FILE), guest.call('readfile', `${faultsDir}/summary`)]);
    // The module is unloaded or the device unbound: nothing to read now.
    if (sitesReply.ret < 0) return;
    const sites = parseSiteCounts(Buffer.from(sitesReply.payload, 'hex').toString(), SITES_FILE);
    const points = pointsReply.ret < 0 ? {} : parsePointSummary(Buffer.from(pointsReply.payload, 'hex').toString());
    const base = this.last?.machine === machine ? this.last : { sites: {}, points: {} };
    // The counters of one file restart together (module reload): then all of them are new.
    const hits = wasReset(base.sites, sites) ? sites : delta(base.sites, sites);
    this.collector.add({ property, profile: this.profile, sites: hits, injected: injectedDelta(base.points, points) });
    this.last = { machine, sites, points };
  }
}
