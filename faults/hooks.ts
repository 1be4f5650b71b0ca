// Where a guest's fault points are armed and the resources they guard are
// counted: the driver's own hooks (dmafi, compiled into the reference driver),
// or dmatap, which intercepts the calls of a driver built without them
// (driver/dmatap, loaded before the driver with target=<module>).
import { type PointName, pointNames } from './points.js';

export interface FaultHooks {
  readonly name: 'dmafi' | 'dmatap';
  // The points it can arm (a fault plan naming another is refused).
  readonly points: readonly PointName[];
  // Its faults directory, given the debugfs directory of the driver's device
  // (dmafi's points are per device, dmatap's per target module).
  faultsDir(deviceDebugfs: string): string;
  // dmatap's ledger: its counts of what the driver holds replace the driver's own.
  readonly ledger?: string;
  // dmatap's findings (misuse, and what was held at a check or unload), one per line.
  readonly findings?: string;
}

export const dmafiHooks: FaultHooks = {
  name: 'dmafi',
  points: pointNames,
  faultsDir: (deviceDebugfs) => `${deviceDebugfs}/faults`,
};

const DMATAP = '/sys/kernel/debug/dmatap';

// dmatap's points carry dmafi's names and knobs; it has none of the points
// that only the driver can consult (the device's timeout, its interrupt,
// signals). Its writeback pause comes right after pin_user_pages_fast().
export const dmatapHooks: FaultHooks = {
  name: 'dmatap',
  points: ['gup_partial', 'gup_fail', 'sg_alloc_fail', 'dma_map_fail', 'coherent_alloc_fail', 'kmalloc_fail', 'pageout', 'writeback'],
  faultsDir: () => `${DMATAP}/faults`,
  ledger: `${DMATAP}/ledger`,
  findings: `${DMATAP}/findings`,
};

// The ledger entries an interceptor's ledger provides in place of the driver's.
export const INTERCEPTED_LEDGER = ['pinned_pages', 'sg_tables', 'dma_mappings', 'coherent_buffers', 'allocations', 'findings'] as const;
