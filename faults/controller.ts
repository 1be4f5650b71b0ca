// Arms a fault plan in the guest through debugfs, reads the points' counters
// back, and clears it. Plans are validated before anything is written.
import { type FaultPlan, type FaultSpec, parsePlan } from './plan.js';
import { type PointName, pointNames, points } from './points.js';

// The driver's defaults of the knobs beyond the schedule (driver/dmafi.c).
const DEFAULT_PAGES = 0; // a random count
const DEFAULT_TIMEOUT_MS = 5000;

// What the controller needs of a guest: its files (debugfs). The properties'
// Guest is one; faults/ depends on nothing above it.
export interface GuestFiles {
  readFile(path: string): Promise<string>;
  writeFile(path: string, text: string): Promise<void>;
}

export interface PointCounters {
  readonly evaluated: number;
  readonly injected: number;
}

export class FaultController {
  // faultsDir: /sys/kernel/debug/edu_dma/<pci>/faults
  constructor(
    private readonly guest: GuestFiles,
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
    // Every knob the point has is written, with its default when the plan leaves
    // it out: nothing an earlier plan set may leak into this one.
    const info: { errnos: readonly number[]; defaultErrno?: number; extra?: string } = points[spec.point];
    if (info.errnos.length) knobs.push(['errno', spec.errno ?? info.defaultErrno ?? info.errnos[0]!]);
    if (info.extra === 'pages') knobs.push(['pages', spec.pages ?? DEFAULT_PAGES]);
    if (info.extra === 'timeout_ms') knobs.push(['timeout_ms', spec.timeoutMs ?? DEFAULT_TIMEOUT_MS]);
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
