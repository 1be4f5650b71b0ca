// What one case of each property costs: the guest's busy time on its own
// clock, and the host's wall time. The guest runs at a fixed icount shift, so
// its clock counts the instructions it executed, not host time: the guest
// figure stays put when the host is loaded. Every round runs the same
// cases (one seed), so the spread between rounds is measurement noise alone.
import { findProperty } from '../properties/registry.js';
import { runProperty } from '../properties/runner.js';
import { GuestSession } from '../properties/session.js';
import type { Progress } from '../vm/progress.js';
import type { Environment } from '../vm/setup.js';
import { GUEST_TIME_SHIFT } from './overhead.js';
import { median, round, spreadPct } from './stats.js';

export const COSTED_PROPERTIES = ['roundtrip', 'faults', 'badinput', 'lifecycle'] as const;


// The time the guest's tasks ran, in ns on its clock: rq_cpu_time of
// /proc/schedstat (the scheduler's own sum, no idle). Not its elapsed time:
// while the guest idles waiting for the host's next request, icount's
// sleep=off jumps its clock from timer to timer, as far as the host is slow.
async function guestBusyNs(session: GuestSession): Promise<bigint> {
  const text = await (await session.guest()).readFile('/proc/schedstat');
  const cpus = text.split('\n').filter((l) => /^cpu\d+ /.test(l)).map((l) => l.split(' ')[7] ?? '');
  if (!cpus.length || cpus.some((v) => !/^\d+$/.test(v))) throw new Error(`cannot read rq_cpu_time from the guest's /proc/schedstat:\n${text}`);
  return cpus.reduce((sum, v) => sum + BigInt(v), 0n);
}

export async function measurePropertyCosts(env: Environment, progress: Progress, rounds = 5, cases = 40): Promise<Record<string, number>> {
  const driver = await env.driver();
  const session = new GuestSession(() => env.boot('direct', driver, { icountShift: GUEST_TIME_SHIFT }), progress);
  const result: Record<string, number> = {};
  try {
    for (const name of COSTED_PROPERTIES) {
      const entry = findProperty(name)!;
      const guestMs: number[] = [];
      const wallMs: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const guest = await session.guest();
        const t0 = await guestBusyNs(session);
        const w0 = performance.now();
        const report = await runProperty(entry, session, { numRuns: cases, seed: 1 });
        const w1 = performance.now();
        if (!report.passed) throw new Error(`${name} failed during the benchmark: ${report.error}`);
        if ((await session.guest()) !== guest) throw new Error(`${name} replaced its guest during the benchmark: the guest clock cannot span it`);
        const t1 = await guestBusyNs(session);
        guestMs.push(Number(t1 - t0) / 1e6 / cases);
        wallMs.push((w1 - w0) / cases);
      }
      progress(`${name}: ${round(median(guestMs), 3)} ms of guest CPU a case (spread ${spreadPct(guestMs)}%), ${round(median(wallMs), 1)} ms wall (spread ${spreadPct(wallMs)}%)`);
      result[`case_guest_cpu_ms_${name}`] = round(median(guestMs), 3);
      result[`case_guest_cpu_spread_pct_${name}`] = spreadPct(guestMs);
      result[`case_wall_ms_${name}`] = round(median(wallMs), 1);
      result[`case_wall_spread_pct_${name}`] = spreadPct(wallMs);
    }
  } finally {
    await session.close();
  }
  return result;
}
