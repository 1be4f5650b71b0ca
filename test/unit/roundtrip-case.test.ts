// Bulk streaming copies in roundtrip cases: rare, fitting the guest's huge pages,
// and kept (at their smallest) by shrinking when the failure needs them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAGE } from '../../properties/guest.js';
import { BULK_PAGES, guardedSize, moveLength, type RoundTripCase, roundTripCase, WINDOW } from '../../properties/roundtrip.js';

const HUGE_PAGE = 2 << 20;
// Hugetlb pages the guest reserves (vm/image/init-script.ts).
const GUEST_HUGE_PAGES = 4;
const SWIOTLB_MAX = 256 << 10;

describe('bulk copies', () => {
  it('only the streaming copy moves the bulk pages', () => {
    const c = fc.sample(roundTripCase, { numRuns: 1, seed: 3 })[0]!;
    expect(moveLength({ ...c, to: 'copy', len: 10, bulkPages: 64 })).toBe(10 + 64 * PAGE);
    expect(moveLength({ ...c, to: 'xfer', len: 10, bulkPages: 64 })).toBe(10);
    expect(moveLength({ ...c, to: 'pwrite', len: 10, bulkPages: 64 })).toBe(10);
  });

  it('are rare, pass 256 KiB and stay under 400 KiB', () => {
    const drawn = fc.sample(roundTripCase, { numRuns: 4000, seed: 7 });
    const bulk = drawn.filter((c) => c.bulkPages > 0);
    expect(bulk.length / drawn.length).toBeGreaterThan(0.2);
    expect(bulk.length / drawn.length).toBeLessThan(0.3);
    for (const c of bulk) {
      expect(c.bulkPages).toBeGreaterThanOrEqual(BULK_PAGES.min);
      expect(c.bulkPages).toBeLessThanOrEqual(BULK_PAGES.max);
      expect(moveLength({ ...c, to: 'copy', dstKind: 'huge' })).toBeGreaterThan(SWIOTLB_MAX);
      expect(moveLength({ ...c, to: 'copy', dstKind: 'huge' })).toBeLessThan(400 << 10);
      // Not into a disk-backed file: background writeback would make a lost dirty mark show at random.
      expect(moveLength({ ...c, to: 'copy', dstKind: 'disk' })).toBe(c.len);
    }
  });

  it('the largest source and destination, guards included, each fit in one huge page', () => {
    const size = guardedSize(PAGE - 1, WINDOW + BULK_PAGES.max * PAGE);
    expect(size).toBeLessThanOrEqual(HUGE_PAGE);
    expect(2 * Math.ceil(size / HUGE_PAGE)).toBeLessThanOrEqual(GUEST_HUGE_PAGES);
  });

  // A stand-in for unlimited-segments on swiotlb: a huge page makes one segment of it all.
  const tooLongSegment = (c: RoundTripCase) => c.to === 'copy' && (c.srcKind === 'huge' || c.dstKind === 'huge') && moveLength(c) > SWIOTLB_MAX;

  it('a failure that needs the bulk shrinks to the smallest bulk copy', () => {
    const out = fc.check(fc.property(roundTripCase, (c) => !tooLongSegment(c)), { seed: 42, numRuns: 2000 });
    expect(out.failed).toBe(true);
    expect(out.counterexample![0]).toMatchObject({ to: 'copy', bulkPages: BULK_PAGES.min, len: 1, srcOffset: 0, dstOffset: 0 });
  });

  it('a failure that does not need it loses the bulk', () => {
    const out = fc.check(fc.property(roundTripCase, (c) => !(c.bulkPages > 0 && c.len > 100)), { seed: 42, numRuns: 2000 });
    expect(out.failed).toBe(true);
    expect(out.counterexample![0]).toMatchObject({ len: 101 });
    const again = fc.check(fc.property(roundTripCase, (c) => !(c.to === 'copy' && c.len > 100)), { seed: 42, numRuns: 2000 });
    expect(again.counterexample![0]).toMatchObject({ to: 'copy', len: 101, bulkPages: 0 });
  });
});
