// --intercept's pure parts: the fault cases only arm what dmatap can, and the
// counters take what dmatap counts from its ledger, not the driver's.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dmafiHooks, dmatapHooks } from '../../faults/hooks.js';
import { faultCases } from '../../properties/fault-case.js';
import type { Guest } from '../../properties/guest.js';
import { OBJECTS, readCounters, readObjects } from '../../properties/oracles/counters.js';
import { findLeaks } from '../../properties/oracles/leaks.js';

// A guest whose files hold `files`; other requests answer as for a missing file.
function fileGuest(files: Record<string, string>): Guest {
  return {
    readFile: async (path: string) => files[path] ?? '',
    writeFile: async () => undefined,
    call: async (_op: string, path: string) => (files[path] === undefined ? { ret: -1, errno: 2, payload: '' } : { ret: files[path]!.length, errno: 0, payload: Buffer.from(files[path]!).toString('hex') }),
  } as unknown as Guest;
}

describe('--intercept', () => {
  it('arms only the points dmatap has, yet every one of them', () => {
    const seen = new Set(fc.sample(faultCases(dmatapHooks.points), 2000).map((c) => c.plan.faults[0]!.point));
    expect([...seen].sort()).toEqual([...dmatapHooks.points].sort());
    const all = new Set(fc.sample(faultCases(dmafiHooks.points), 4000).map((c) => c.plan.faults[0]!.point));
    expect(all.has('irq_late') && all.has('dma_timeout')).toBe(true);
  });

  it("counts held resources from dmatap's ledger, the driver's own entries beside them", async () => {
    const guest = fileGuest({
      '/dev/ledger': 'pinned_pages 0\nsg_tables 0\nquarantined 0\ndma_in_flight 0\n',
      [dmatapHooks.ledger!]: 'pinned_pages 2\nsg_tables 1\ndma_mappings 0\ncoherent_buffers 1\nallocations 1\nfindings 0\n',
      '/proc/vmstat': 'nr_foll_pin_acquired 5\nnr_foll_pin_released 5\n',
    });
    const withTap = await readCounters(guest, '/dev/ledger', dmatapHooks.ledger);
    expect(withTap.ledger).toMatchObject({ pinned_pages: 2, sg_tables: 1, quarantined: 0, findings: 0 });
    const without = await readCounters(guest, '/dev/ledger');
    expect(without.ledger.pinned_pages).toBe(0);
    // A new finding is a leak like any other held resource.
    expect(findLeaks(withTap, { ...withTap, ledger: { ...withTap.ledger, findings: 1 } })).toEqual([{ counter: 'ledger.findings', before: 0, after: 1 }]);
  });

  it("takes the module-wide resources, the module's own pci_dev references and the findings from dmatap, the device states from the driver", async () => {
    const guest = fileGuest({
      [OBJECTS]: 'devices 2\npci_dev_refs@0000:00:01.0 5\nallocations 3\npinned_pages 0\npins_total 7\n',
      [dmatapHooks.ledger!]: 'pinned_pages 1\nallocations 6\npci_dev_refs 2\nfindings 1\n',
    });
    expect(await readObjects(guest, dmatapHooks.ledger)).toEqual({ devices: 2, allocations: 6, pinned_pages: 1, pins_total: 7, pci_dev_refs: 2, findings: 1 });
    expect(await readObjects(guest)).toEqual({ devices: 2, 'pci_dev_refs@0000:00:01.0': 5, allocations: 3, pinned_pages: 0, pins_total: 7 });
    // A dmatap without the count reads as not a number: never equal to what is expected.
    const old = fileGuest({ [OBJECTS]: 'devices 1\n', [dmatapHooks.ledger!]: 'allocations 1\n' });
    expect((await readObjects(old, dmatapHooks.ledger))!.pci_dev_refs).toBeNaN();
    expect((await readObjects(old, dmatapHooks.ledger))!.findings).toBeNaN();
  });
});
