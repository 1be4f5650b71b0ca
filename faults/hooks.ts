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
  // dmatap's call sites of the target: "<fn> <where> <calls> <injected> <sym> [<point>=<n>...]".
  readonly sites?: string;
  // The functions it intercepts, each with the points that act on its calls
  // (none: it cannot fail, as a release or a sync).
  readonly functions?: Readonly<Record<string, readonly PointName[]>>;
}

export const dmafiHooks: FaultHooks = {
  name: 'dmafi',
  points: pointNames,
  faultsDir: (deviceDebugfs) => `${deviceDebugfs}/faults`,
};

const DMATAP = '/sys/kernel/debug/dmatap';

const PIN: readonly PointName[] = ['gup_fail', 'gup_partial', 'pageout'];
// Releases, syncs, references, and the requests no point fails.
const RELEASE: readonly PointName[] = [];

// The hook table of driver/dmatap/tap_wrap.c, with the points each wrapper consults.
const DMATAP_FUNCTIONS: Readonly<Record<string, readonly PointName[]>> = {
  pin_user_pages_fast: [...PIN, 'writeback'],
  pin_user_pages: PIN,
  pin_user_pages_remote: PIN,
  get_user_pages_fast: PIN,
  unpin_user_page: RELEASE,
  unpin_user_pages: RELEASE,
  unpin_user_pages_dirty_lock: RELEASE,
  sg_alloc_table_from_pages_segment: ['sg_alloc_fail'],
  sg_alloc_table: ['sg_alloc_fail'],
  sg_free_table: RELEASE,
  dma_map_sgtable: ['dma_map_fail'],
  dma_map_sg_attrs: ['dma_map_fail'],
  dma_map_page_attrs: ['dma_map_fail'],
  dma_unmap_sg_attrs: RELEASE,
  dma_unmap_page_attrs: RELEASE,
  dma_sync_sg_for_cpu: RELEASE,
  dma_sync_sg_for_device: RELEASE,
  dma_sync_single_for_cpu: RELEASE,
  dma_sync_single_for_device: RELEASE,
  dma_alloc_attrs: ['coherent_alloc_fail'],
  dma_free_attrs: RELEASE,
  dma_mmap_attrs: RELEASE,
  kmalloc_trace: ['kmalloc_fail'],
  kmalloc_node_trace: ['kmalloc_fail'],
  __kmalloc: ['kmalloc_fail'],
  __kmalloc_node: ['kmalloc_fail'],
  kmalloc_large: ['kmalloc_fail'],
  kmalloc_large_node: ['kmalloc_fail'],
  kvmalloc_node: ['kmalloc_fail'],
  kfree: RELEASE,
  kvfree: RELEASE,
  request_threaded_irq: RELEASE,
  devm_request_threaded_irq: RELEASE,
  free_irq: RELEASE,
  wait_for_completion_timeout: ['irq_late'],
  wait_for_completion_interruptible_timeout: ['irq_late'],
  wait_for_completion_killable_timeout: ['irq_late'],
  pci_dev_get: RELEASE,
  pci_dev_put: RELEASE,
  pci_get_device: RELEASE,
  pci_get_subsys: RELEASE,
  pci_get_class: RELEASE,
  pci_get_slot: RELEASE,
  pci_get_domain_bus_and_slot: RELEASE,
};

// dmatap's points carry dmafi's names and knobs; it has none of the points
// that only the driver can consult (the device's own timeout, signals). Its
// writeback pause comes right after pin_user_pages_fast(); its irq_late holds
// the target's next interrupt back past a timed wait and delivers it at the
// next one (driver/dmatap/tap_irq.c).
export const dmatapHooks: FaultHooks = {
  name: 'dmatap',
  points: ['gup_partial', 'gup_fail', 'sg_alloc_fail', 'dma_map_fail', 'coherent_alloc_fail', 'kmalloc_fail', 'pageout', 'writeback', 'irq_late'],
  faultsDir: () => `${DMATAP}/faults`,
  ledger: `${DMATAP}/ledger`,
  findings: `${DMATAP}/findings`,
  sites: `${DMATAP}/sites`,
  functions: DMATAP_FUNCTIONS,
};

// The ledger entries an interceptor's ledger provides in place of the driver's.
export const INTERCEPTED_LEDGER = ['pinned_pages', 'sg_tables', 'dma_mappings', 'coherent_buffers', 'allocations', 'findings'] as const;
