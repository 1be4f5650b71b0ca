import { describe, expect, it } from 'vitest';
import type { Counters } from '../../properties/oracles/counters.js';
import { parseKeyValues } from '../../properties/oracles/counters.js';
import { findLeaks, isClean } from '../../properties/oracles/leaks.js';

const counters = (ledger: Record<string, number>, acquired: number, released: number, objects: Record<string, number> = {}): Counters => ({
  ledger: { pinned_pages: 0, sg_tables: 0, dma_mappings: 0, coherent_buffers: 0, dma_in_flight: 0, quarantined: 0, pins_total: 0, ...ledger },
  pinsAcquired: acquired,
  pinsReleased: released,
  objects: { devices: 1, 'pci_dev_refs@0000:00:01.0': 3, coherent_buffers: 0, pins_total: 0, ...objects },
});

describe('leak oracle', () => {
  it('parses the ledger and vmstat formats', () => {
    expect(parseKeyValues('pinned_pages 3\nsg_tables 0\nnr_foll_pin_acquired 12\njunk\n')).toEqual({ pinned_pages: 3, sg_tables: 0, nr_foll_pin_acquired: 12 });
  });

  it('names a module-wide object left behind, but not a running total', () => {
    expect(findLeaks(counters({}, 0, 0), counters({}, 0, 0, { devices: 2, 'pci_dev_refs@0000:00:01.0': 4, pins_total: 9 }))).toEqual([
      { counter: 'objects.devices', before: 1, after: 2 },
      { counter: 'objects.pci_dev_refs@0000:00:01.0', before: 3, after: 4 },
    ]);
  });

  it('passes when nothing changed, whatever running totals did', () => {
    expect(findLeaks(counters({}, 10, 10), counters({ pins_total: 40 }, 50, 50))).toEqual([]);
  });

  it('catches a page the kernel still counts as pinned even when the ledger says zero', () => {
    expect(findLeaks(counters({}, 10, 10), counters({}, 12, 11))).toEqual([
      { counter: 'vmstat.nr_foll_pin_acquired-released', before: 0, after: 1 },
    ]);
  });

  it('catches every held resource of the ledger', () => {
    const after = counters({ pinned_pages: 1, sg_tables: 1, dma_mappings: 1, coherent_buffers: 1, dma_in_flight: 1, quarantined: 1 }, 0, 0);
    expect(findLeaks(counters({}, 0, 0), after).map((l) => l.counter)).toEqual([
      'ledger.pinned_pages', 'ledger.sg_tables', 'ledger.dma_mappings', 'ledger.coherent_buffers', 'ledger.dma_in_flight', 'ledger.quarantined',
    ]);
  });

  it('judges on deltas, so an earlier leak does not fail a clean case', () => {
    expect(findLeaks(counters({}, 14, 12), counters({}, 20, 18))).toEqual([]);
    expect(isClean(counters({}, 14, 12))).toBe(false);
  });

  it('treats unreadable vmstat counters as a failure, not a pass', () => {
    expect(findLeaks(counters({}, 0, 0), counters({}, NaN, NaN))).toHaveLength(1);
  });
});
