// Property: data moved to the device and back, by any of the driver's paths and
// through any kind of user buffer, arrives byte-exact; the guard bytes around
// both buffers are untouched; what the device wrote survives being paged out
// and back in; and afterwards nothing is left pinned, mapped or bounced.
import fc from 'fast-check';
import { type BufferKind, DEVICE_NODE, type Guest, PAGE, XFER_FROM_DEVICE, XFER_TO_DEVICE } from './guest.js';
import { FaultController } from '../faults/controller.js';
import { pswpin } from './oracles/swap.js';
import { PropertyFailure } from './failure.js';
import type { GuestSession } from './session.js';

export const WINDOW = 4095;
// Buffer kinds MADV_PAGEOUT moves to swap. A disk file's dirty pages stay in the
// page cache (direct reclaim does not write file pages), hugetlb pages stay put.
const SWAPPABLE: readonly BufferKind[] = ['anon', 'memfd', 'file'];
const MADV_PAGEOUT = 21;
// Pages a bulk copy adds: 256-384 KiB, so that in a huge page a segment may pass
// swiotlb's 256 KiB mapping limit. One costs ~80 ms more than a small copy: 1 in 12 cases.
export const BULK_PAGES = { min: 64, max: 96 };

// 'ro' is an anonymous buffer made read-only after it was filled (sources only).
export type SourceKind = BufferKind | 'ro';

export interface RoundTripCase {
  readonly srcOffset: number;
  readonly dstOffset: number;
  readonly len: number;
  readonly devOffset: number;
  readonly seed: number;
  readonly srcKind: SourceKind;
  readonly dstKind: BufferKind;
  // How data reaches the device and comes back; 'copy' is the streaming copy ioctl.
  readonly to: 'xfer' | 'pwrite' | 'copy';
  readonly from: 'xfer' | 'pread';
  // Page the destination out after the device wrote it, then check it (the
  // kinds swap can take: anon, memfd and tmpfs files; never for disk or huge).
  readonly pageout: boolean;
  // Write the destination's pinned pages back while the device is about to
  // write them (zero-copy 'from' only); what the device wrote must still reach
  // the file once the clean page cache is dropped: that is the dirty mark.
  readonly writeback: boolean;
  // Whole pages the streaming copy moves on top of len ('copy' only, and not
  // into 'disk': whether background writeback cleaned those pages before the
  // device wrote them is timing, so a lost dirty mark would show only now and
  // then there; the writeback pager is the deterministic check for it).
  readonly bulkPages: number;
}

export const roundTripCase: fc.Arbitrary<RoundTripCase> = fc
  .record({
    srcOffset: fc.integer({ min: 0, max: PAGE - 1 }),
    dstOffset: fc.integer({ min: 0, max: PAGE - 1 }),
    len: fc.integer({ min: 1, max: WINDOW }),
    devSlack: fc.nat({ max: WINDOW - 1 }),
    seed: fc.nat(),
    srcKind: fc.constantFrom<SourceKind>('anon', 'file', 'memfd', 'huge', 'ro'),
    dstKind: fc.constantFrom<BufferKind>('anon', 'file', 'memfd', 'huge', 'disk'),
    to: fc.constantFrom('xfer' as const, 'pwrite' as const, 'copy' as const),
    from: fc.constantFrom('xfer' as const, 'pread' as const),
    pageout: fc.boolean(),
    writeback: fc.boolean(),
    // Shrinks to no bulk when the failure does not need it, else towards BULK_PAGES.min.
    bulkPages: fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer(BULK_PAGES), weight: 1 }),
  })
  .map(({ devSlack, ...rest }) => ({ ...rest, pageout: rest.pageout && SWAPPABLE.includes(rest.dstKind), devOffset: devSlack % (WINDOW - rest.len + 1) }));

// The plain zero-copy round trip: anonymous buffers, zero-copy both ways, no pageout.
export const zeroCopyRoundTripCase: fc.Arbitrary<RoundTripCase> = roundTripCase.map((c) => ({
  ...c,
  srcKind: 'anon',
  dstKind: 'anon',
  to: 'xfer',
  from: 'xfer',
  pageout: false,
  writeback: false,
  bulkPages: 0,
}));

// Bytes the case moves: len, plus the bulk pages of a streaming copy.
export function moveLength(c: RoundTripCase): number {
  return c.to === 'copy' && c.dstKind !== 'disk' ? c.len + c.bulkPages * PAGE : c.len;
}

// Bytes of a guarded buffer: a guard page, the data at `offset`, guard bytes to the
// page end and one more guard page. A 'huge' one must fit in one 2 MiB page.
export function guardedSize(offset: number, len: number): number {
  return Math.ceil((PAGE + offset + len) / PAGE) * PAGE + PAGE;
}

export { PropertyFailure } from './failure.js';

interface Guarded {
  readonly handle: number;
  readonly size: number;
  readonly start: number;
  readonly guardSeed: number;
}

// A mapping with a guard page before the data and guard bytes after it.
// With `dataSeed`, the buffer itself is then filled with data.
async function guarded(guest: Guest, kind: SourceKind, offset: number, len: number, guardSeed: number, dataSeed?: number): Promise<Guarded> {
  const size = guardedSize(offset, len);
  const handle = await guest.alloc(size, kind === 'ro' ? 'anon' : kind);
  const start = PAGE + offset;
  await Promise.all([
    guest.fill(handle, 0, size, guardSeed),
    dataSeed === undefined ? undefined : guest.fill(handle, start, len, dataSeed),
  ]);
  if (kind === 'ro') await guest.must('mprotect', handle, 0, size, 'r');
  return { handle, size, start, guardSeed };
}

// A requested page-out must have happened, or the case tests nothing of it.
async function expectPagedOut(guest: Guest, b: Guarded): Promise<void> {
  const resident = await guest.call('mincore', b.handle, 0, b.size);
  if (resident.ret !== 0) {
    throw new PropertyFailure(`page-out requested, but ${resident.ret} of ${b.size / PAGE} destination pages are still resident (errno ${resident.errno}; is there swap?): the case did not test what it claims`);
  }
}

async function expectGuards(guest: Guest, what: string, b: Guarded, len: number): Promise<void> {
  const end = b.start + len;
  const [before, after] = await Promise.all([
    guest.check(b.handle, 0, b.start, b.guardSeed),
    guest.check(b.handle, end, b.size - end, b.guardSeed, end),
  ]);
  if (before !== -1) throw new PropertyFailure(`${what}: guard byte ${b.start - before} before the buffer was overwritten`);
  if (after !== -1) throw new PropertyFailure(`${what}: guard byte ${after} after the buffer was overwritten`);
}

async function expectCall(guest: Guest, what: string, want: number, op: string, ...args: number[]): Promise<void> {
  const reply = await guest.call(op, ...args);
  guest.expect(reply, { ret: want, errno: 0 });
  if (reply.ret !== want) throw new PropertyFailure(`${what}: ${op} returned ${reply.ret} errno ${reply.errno}, expected ${want}`);
}

// Moves the source to the destination along the case's path.
async function move(guest: Guest, faults: FaultController, fd: number, c: RoundTripCase, src: Guarded, dst: Guarded): Promise<void> {
  if (c.to === 'copy') return expectCall(guest, 'copy', 0, 'copy', fd, src.handle, src.start, dst.handle, dst.start, moveLength(c));
  if (c.to === 'xfer') await expectCall(guest, 'to device', 0, 'xfer', fd, src.handle, src.start, c.len, c.devOffset, XFER_TO_DEVICE);
  else await expectCall(guest, 'to device', c.len, 'pwrite', fd, src.handle, src.start, c.len, c.devOffset);
  if (c.from === 'pread') return expectCall(guest, 'from device', c.len, 'pread', fd, dst.handle, dst.start, c.len, c.devOffset);
  if (!c.writeback) return expectCall(guest, 'from device', 0, 'xfer', fd, dst.handle, dst.start, c.len, c.devOffset, XFER_FROM_DEVICE);
  // Armed only now, so the pin of this transfer is the one that pauses.
  await faults.arm({ faults: [{ point: 'writeback', schedule: { nth: 1 } }] }, (await guest.call('getpid')).ret);
  const reply = await guest.call('writeback', faults.pointDir('writeback'), dst.handle, dst.start, c.len, 'xfer', fd, dst.handle, dst.start, c.len, c.devOffset, XFER_FROM_DEVICE);
  guest.expect(reply, { ret: 0, errno: 0 });
  await faults.clear(['writeback']);
  if (reply.ret !== 0) throw new PropertyFailure(`from device (pages written back while pinned): xfer returned ${reply.ret} errno ${reply.errno}, expected 0`);
  if (!/paused=1/.test(reply.payload)) throw new PropertyFailure(`the writeback pause did not happen (${reply.payload})`);
}

// Requests are pipelined where their order does not matter: the agent answers in order.
export async function checkRoundTrip(session: GuestSession, c: RoundTripCase): Promise<void> {
  const guest = await session.guest();
  const mark = session.consoleMark();
  const before = await session.caseBaseline();
  const n = moveLength(c);
  const [fd, src, dst] = await Promise.all([
    guest.must('open', DEVICE_NODE, 'rw'),
    guarded(guest, c.srcKind, c.srcOffset, n, c.seed ^ 0x5a5a, c.seed),
    guarded(guest, c.dstKind, c.dstOffset, n, c.seed ^ 0xa5a5),
  ]);
  const faults = new FaultController(guest, session.faultsDir);
  const writeback = c.writeback && c.from === 'xfer' && c.to !== 'copy';
  try {
    await move(guest, faults, fd, { ...c, writeback }, src, dst);
    // Drop what can be dropped: swap anonymous pages out, evict clean file pages
    // (dirty ones stay). Hugetlb pages cannot be paged out: madvise refuses them.
    const swapIns = c.pageout ? await pswpin(guest) : 0;
    if (c.pageout || writeback) await guest.call('madvise', dst.handle, 0, dst.size, MADV_PAGEOUT);
    if (c.pageout) await expectPagedOut(guest, dst);
    const [bad, srcBad] = await Promise.all([
      guest.check(dst.handle, dst.start, n, c.seed),
      guest.check(src.handle, src.start, n, c.seed),
      expectGuards(guest, 'destination', dst, n),
      expectGuards(guest, 'source', src, n),
    ]);
    if (bad !== -1) throw new PropertyFailure(`data differs at byte ${bad} of ${n} after the round trip`);
    if (c.pageout && (await pswpin(guest)) <= swapIns) throw new PropertyFailure('the destination was paged out, yet reading it back swapped nothing in: the case did not test what it claims');
    if (srcBad !== -1) throw new PropertyFailure(`the source buffer changed at byte ${srcBad}`);
  } finally {
    if (writeback) await faults.clear(['writeback']);
    await Promise.all([guest.free(src.handle), guest.free(dst.handle), guest.must('close', fd)]);
  }
  await session.endCase(mark, before);
}

export function roundTripProperty(session: GuestSession, _options: unknown = {}, cases = roundTripCase): fc.IAsyncProperty<[RoundTripCase]> {
  // The writeback pause is a point of the driver's own (dmafi): without it, no writeback cases.
  const possible = session.hooks.points.includes('writeback') ? cases : cases.map((c) => ({ ...c, writeback: false }));
  return fc.asyncProperty(possible, (c) => session.runCase(() => checkRoundTrip(session, c)));
}
