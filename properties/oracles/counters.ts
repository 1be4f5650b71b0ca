// Leak counters: the driver's own ledger (debugfs) and the kernel's FOLL_PIN
// counters (/proc/vmstat), read together so a case can compare before and after.
import { type Guest, PATHS } from '../guest.js';

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

// Ledger entries that must return to their baseline after every call.
export const heldResources = ['pinned_pages', 'sg_tables', 'dma_mappings', 'coherent_buffers', 'dma_in_flight', 'quarantined', 'allocations'] as const;

// The module's objects file alone (lifecycle reads it while no device is bound).
export async function readObjects(guest: Guest): Promise<Record<string, number> | undefined> {
  const reply = await guest.call('readfile', OBJECTS);
  return reply.ret > 0 ? parseKeyValues(Buffer.from(reply.payload, 'hex').toString()) : undefined;
}

export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^-?\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

export async function readCounters(guest: Guest, ledgerPath: string): Promise<Counters> {
  // The agent answers in order, so the refresh lands before the reads: one round trip.
  const [, ledgerText, vmstatText, swiotlb, objects] = await Promise.all([
    guest.writeFile('/proc/sys/vm/stat_refresh', '1'),
    guest.readFile(ledgerPath),
    guest.readFile('/proc/vmstat'),
    guest.call('readfile', SWIOTLB_USED),
    readObjects(guest),
  ]);
  const vmstat = parseKeyValues(vmstatText);
  return {
    ledger: parseKeyValues(ledgerText),
    pinsAcquired: vmstat.nr_foll_pin_acquired ?? NaN,
    pinsReleased: vmstat.nr_foll_pin_released ?? NaN,
    ...(swiotlb.ret > 0 ? { swiotlbUsed: Number(Buffer.from(swiotlb.payload, 'hex').toString().trim()) } : {}),
    objects: objects ?? {},
  };
}
