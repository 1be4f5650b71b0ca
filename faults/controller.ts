// Arms a fault plan in the guest through debugfs, reads the points' counters
// back, and clears it. Plans are validated before anything is written.
import type { Guest } from '../properties/guest.js';
import { type FaultPlan, type FaultSpec, parsePlan } from './plan.js';
import { type PointName, pointNames } from './points.js';

export interface PointCounters {
  readonly evaluated: number;
  readonly injected: number;
}

export class FaultController {
  // faultsDir: /sys/kernel/debug/edu_dma/<pci>/faults
  constructor(
    private readonly guest: Guest,
    readonly faultsDir: string,
  ) {}

  pointDir(point: PointName): string {
    return `${this.faultsDir}/${point}`;
  }

  // Arms every fault of the plan, for process `pid` only (0: any process).
  async arm(plan: FaultPlan, pid: number): Promise<void> {
    const checked = parsePlan(plan);
    await Promise.all(checked.faults.flatMap((spec) => this.writes(spec, pid)));
  }

  private writes(spec: FaultSpec, pid: number): Promise<void>[] {
    const dir = this.pointDir(spec.point);
    const s = spec.schedule;
    const knobs: [string, number][] = [
      ['armed', 0],
      ['nth', s.nth ?? 0],
      ['interval', s.interval ?? 0],
      ['probability', s.probability ?? 0],
      ['seed', s.seed ?? 0],
      ['times', s.times ?? (s.nth !== undefined ? 1 : -1)],
      ['pid', pid],
      ['verbose', 0],
    ];
    if (spec.errno !== undefined) knobs.push(['errno', spec.errno]);
    if (spec.pages !== undefined) knobs.push(['pages', spec.pages]);
    if (spec.timeoutMs !== undefined) knobs.push(['timeout_ms', spec.timeoutMs]);
    knobs.push(['armed', 1]);
    // The agent answers in order, so "armed" lands last.
    return knobs.map(([knob, value]) => this.guest.writeFile(`${dir}/${knob}`, String(value)));
  }

  async counters(which: readonly PointName[] = pointNames): Promise<Record<string, PointCounters>> {
    const values = await Promise.all(
      which.flatMap((p) => [this.guest.readFile(`${this.pointDir(p)}/evaluated`), this.guest.readFile(`${this.pointDir(p)}/injected`)]),
    );
    return Object.fromEntries(which.map((p, i) => [p, { evaluated: Number(values[2 * i]), injected: Number(values[2 * i + 1]) }]));
  }

  // Disarms the given points (default: all).
  async clear(which: readonly PointName[] = pointNames): Promise<void> {
    await Promise.all(which.map((p) => this.guest.writeFile(`${this.pointDir(p)}/armed`, '0')));
  }
}
