// Leak counters: the driver's own ledger (debugfs) and the kernel's FOLL_PIN
// counters (/proc/vmstat), read together so a case can compare before and after.
import { type Guest, PATHS } from '../guest.js';
import { INTERCEPTED_LEDGER } from '../../faults/hooks.js';

export interface Counters {
  readonly ledger: Readonly<Record<string, number>>;
  readonly pinsAcquired: number;
  readonly pinsReleased: number;
  // swiotlb slots in use; undefined when the guest has no swiotlb debugfs.
  readonly swiotlbUsed?: number;
  // The module's objects across bindings (edu_dma/objects): empty while it is not loaded.
  readonly objects: Readonly<Record<string, number>>;
}

export const OBJECTS = `${PATHS.debugfs}/objects`;

export const SWIOTLB_USED = '/sys/kernel/debug/swiotlb/io_tlb_used';

// Ledger entries that must return to their baseline after every call
// (findings: an interceptor's, which must not grow).
export const heldResources = ['pinned_pages', 'sg_tables', 'dma_mappings', 'coherent_buffers', 'dma_in_flight', 'quarantined', 'allocations', 'findings'] as const;

// The references to PCI devices the target module holds, through an
// interceptor: what it took with pci_dev_get() or a pci_get_*() search and
// has not put.
export const TARGET_PCI_REFS = 'pci_dev_refs';

// The module's objects file alone (lifecycle reads it while no device is
// bound). Through an interceptor, whose ledger is the target module's (every
// binding's summed, as the file's), the resources it counts come from its
// ledger instead, and so do the pci_dev references (the module's own, in
// place of the file's count of what the kernel holds of each device): the
// driver's own file then adds only what no call shows, the device states alive.
export async function readObjects(guest: Guest, interceptorLedger?: string): Promise<Record<string, number> | undefined> {
  const [reply, interceptorText] = await Promise.all([guest.call('readfile', OBJECTS), interceptorLedger === undefined ? undefined : guest.readFile(interceptorLedger)]);
  if (reply.ret <= 0) return undefined;
  const objects = parseKeyValues(Buffer.from(reply.payload, 'hex').toString());
  return interceptorText === undefined ? objects : moduleWide(objects, parseKeyValues(interceptorText));
}

// The objects with the resources and pci_dev references an interceptor counts taken from its ledger.
function moduleWide(objects: Record<string, number>, interceptor: Record<string, number>): Record<string, number> {
  const out = Object.fromEntries(Object.entries(objects).filter(([key]) => !key.startsWith('pci_dev_refs@')));
  for (const key of INTERCEPTED_LEDGER) if (Object.hasOwn(out, key)) out[key] = interceptor[key] ?? NaN;
  out[TARGET_PCI_REFS] = interceptor[TARGET_PCI_REFS] ?? NaN;
  // What it found wrong with the module's calls (a put of a reference not held, say).
  out.findings = interceptor.findings ?? NaN;
  return out;
}

export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

// With `interceptorLedger` (dmatap's), the entries it counts replace the driver's own.
// The driver's ledger with the intercepted entries taken from the interceptor's.
function intercepted(driver: Record<string, number>, interceptor: Record<string, number>): Record<string, number> {
  const out = { ...driver };
  for (const key of INTERCEPTED_LEDGER) out[key] = interceptor[key] ?? NaN;
  return out;
}

export async function readCounters(guest: Guest, ledgerPath: string, interceptorLedger?: string): Promise<Counters> {
  // The agent answers in order, so the refresh lands before the reads: one round trip.
  const [, ledgerText, vmstatText, swiotlb, objects, interceptorText] = await Promise.all([
    guest.writeFile('/proc/sys/vm/stat_refresh', '1'),
    guest.readFile(ledgerPath),
    guest.readFile('/proc/vmstat'),
    guest.call('readfile', SWIOTLB_USED),
    readObjects(guest, interceptorLedger),
    interceptorLedger === undefined ? undefined : guest.readFile(interceptorLedger),
  ]);
  const vmstat = parseKeyValues(vmstatText);
  return {
    ledger: interceptorText === undefined ? parseKeyValues(ledgerText) : intercepted(parseKeyValues(ledgerText), parseKeyValues(interceptorText)),
    pinsAcquired: vmstat.nr_foll_pin_acquired ?? NaN,
    pinsReleased: vmstat.nr_foll_pin_released ?? NaN,
    ...(swiotlb.ret > 0 ? { swiotlbUsed: Number(Buffer.from(swiotlb.payload, 'hex').toString().trim()) } : {}),
    objects: objects ?? {},
  };
}
