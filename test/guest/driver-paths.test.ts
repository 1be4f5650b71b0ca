// Every data path of the driver moves data byte-exact, with every kind of user
// buffer, including buffers that were paged out; and nothing is held after.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BufferKind } from '../../properties/guest.js';
import { bootDriverGuest, type DriverGuest, FROM_DEVICE, MADV_PAGEOUT, PAGE, result, TO_DEVICE, WINDOW } from './driver-fixture.js';

let g: DriverGuest;
let fd: number;

beforeAll(async () => {
  g = await bootDriverGuest();
  fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
  await g.markBaseline();
});
afterAll(() => g?.close());
afterEach(() => g.expectClean());

async function roundTrip(kind: BufferKind, offset: number, len: number, devOffset: number, seed: number) {
  const size = kind === 'huge' ? 2 * 1024 * 1024 : offset + len + PAGE;
  const src = await g.guest.alloc(size, kind);
  const dst = await g.guest.alloc(size, kind);
  await g.guest.fill(src, offset, len, seed);
  await g.guest.fill(dst, 0, size, seed + 1);
  expect(await result(g.guest, 'xfer', fd, src, offset, len, devOffset, TO_DEVICE)).toEqual([0, 0]);
  expect(await result(g.guest, 'xfer', fd, dst, offset, len, devOffset, FROM_DEVICE)).toEqual([0, 0]);
  expect(await g.guest.check(dst, offset, len, seed)).toBe(-1);
  expect(await g.guest.check(dst, 0, offset, seed + 1)).toBe(-1);
  expect(await g.guest.check(dst, offset + len, size - offset - len, seed + 1, offset + len)).toBe(-1);
  await g.guest.free(src);
  await g.guest.free(dst);
}

describe('zero-copy transfers with every kind of buffer', () => {
  it.each(['anon', 'file', 'memfd', 'huge'] as const)('%s buffer, unaligned, spanning pages', async (kind) => {
    await roundTrip(kind, PAGE - 1000, 3000, 7, 11);
    await roundTrip(kind, 0, WINDOW, 0, 12);
  });
});

describe('bounce path', () => {
  it('pwrite then pread at any device offset is byte-exact', async () => {
    const b = await g.guest.alloc(2 * PAGE);
    for (const [pos, len] of [[0, 1], [0, WINDOW], [1000, 2000], [WINDOW - 1, 1]] as const) {
      await g.guest.fill(b, 10, len, pos + len);
      expect(await result(g.guest, 'pwrite', fd, b, 10, len, pos)).toEqual([len, 0]);
      await g.guest.fill(b, 0, 2 * PAGE, 99);
      expect(await result(g.guest, 'pread', fd, b, 20, len, pos)).toEqual([len, 0]);
      expect(await g.guest.check(b, 20, len, pos + len)).toBe(-1);
    }
    await g.guest.free(b);
  });

  it('read and write advance the file offset, and lseek moves it', async () => {
    const b = await g.guest.alloc(PAGE);
    await g.guest.fill(b, 0, 300, 5);
    expect(await result(g.guest, 'lseek', fd, 100, 0)).toEqual([100, 0]);
    expect(await result(g.guest, 'write', fd, b, 0, 150)).toEqual([150, 0]);
    expect(await result(g.guest, 'write', fd, b, 150, 150)).toEqual([150, 0]);
    expect(await result(g.guest, 'lseek', fd, 0, 1)).toEqual([400, 0]);
    expect(await result(g.guest, 'lseek', fd, 0, 2)).toEqual([WINDOW, 0]);
    expect(await result(g.guest, 'read', fd, b, 0, 10)).toEqual([0, 0]);
    expect(await result(g.guest, 'lseek', fd, 100, 0)).toEqual([100, 0]);
    await g.guest.fill(b, 0, PAGE, 6);
    expect(await result(g.guest, 'read', fd, b, 0, 300)).toEqual([300, 0]);
    expect(await g.guest.check(b, 0, 300, 5)).toBe(-1);
    await g.guest.free(b);
  });

  it('agrees with the zero-copy path in both directions', async () => {
    const b = await g.guest.alloc(2 * PAGE);
    await g.guest.fill(b, 0, 2000, 21);
    expect(await result(g.guest, 'xfer', fd, b, 0, 2000, 500, TO_DEVICE)).toEqual([0, 0]);
    expect(await result(g.guest, 'pread', fd, b, PAGE, 2000, 500)).toEqual([2000, 0]);
    expect(await g.guest.check(b, PAGE, 2000, 21)).toBe(-1);
    await g.guest.fill(b, 0, 1000, 22);
    expect(await result(g.guest, 'pwrite', fd, b, 0, 1000, 3000)).toEqual([1000, 0]);
    expect(await result(g.guest, 'xfer', fd, b, PAGE + 1, 1000, 3000, FROM_DEVICE)).toEqual([0, 0]);
    expect(await g.guest.check(b, PAGE + 1, 1000, 22)).toBe(-1);
    await g.guest.free(b);
  });
});

describe('paged-out user buffers', () => {
  async function pagedOut(seed: number): Promise<number> {
    const b = await g.guest.alloc(2 * PAGE);
    await g.guest.fill(b, 0, 2 * PAGE, seed);
    expect(await result(g.guest, 'madvise', b, 0, 2 * PAGE, MADV_PAGEOUT)).toEqual([0, 0]);
    expect(await result(g.guest, 'mincore', b, 0, 2 * PAGE)).toEqual([0, 0]);
    return b;
  }

  it('are faulted in by the bounce path, contents intact', async () => {
    const src = await pagedOut(31);
    expect(await result(g.guest, 'pwrite', fd, src, 100, 3000, 0)).toEqual([3000, 0]);
    const dst = await pagedOut(32);
    expect(await result(g.guest, 'pread', fd, dst, 200, 3000, 0)).toEqual([3000, 0]);
    expect(await g.guest.check(dst, 200, 3000, 31, 100)).toBe(-1);
    expect(await g.guest.check(dst, 0, 200, 32)).toBe(-1);
    expect(await g.guest.check(dst, 3200, 2 * PAGE - 3200, 32, 3200)).toBe(-1);
    await g.guest.free(src);
    await g.guest.free(dst);
  });

  it('are faulted in by the pin of the zero-copy path, contents intact', async () => {
    const src = await pagedOut(41);
    expect(await result(g.guest, 'xfer', fd, src, 100, 3000, 0, TO_DEVICE)).toEqual([0, 0]);
    const dst = await pagedOut(42);
    expect(await result(g.guest, 'xfer', fd, dst, 200, 3000, 0, FROM_DEVICE)).toEqual([0, 0]);
    expect(await g.guest.check(dst, 200, 3000, 41, 100)).toBe(-1);
    expect(await g.guest.check(dst, 0, 200, 42)).toBe(-1);
    await g.guest.free(src);
    await g.guest.free(dst);
  });
});

describe('streaming copy', () => {
  it.each([
    ['1 MiB, unaligned, anon to memfd', 1 << 20, 123, 4001, 'anon', 'memfd'],
    ['16 MiB, the documented limit', 16 << 20, 0, 1, 'anon', 'anon'],
  ] as const)('%s', async (_name, len, srcOff, dstOff, srcKind, dstKind) => {
    const src = await g.guest.alloc(len + 2 * PAGE, srcKind);
    const dst = await g.guest.alloc(len + 2 * PAGE, dstKind);
    await g.guest.fill(src, srcOff, len, 51);
    await g.guest.fill(dst, 0, len + 2 * PAGE, 52);
    expect(await result(g.guest, 'copy', fd, src, srcOff, dst, dstOff, len)).toEqual([0, 0]);
    expect(await g.guest.check(dst, dstOff, len, 51)).toBe(-1);
    expect(await g.guest.check(dst, 0, dstOff, 52)).toBe(-1);
    expect(await g.guest.check(dst, dstOff + len, len + 2 * PAGE - dstOff - len, 52, dstOff + len)).toBe(-1);
    await g.guest.free(src);
    await g.guest.free(dst);
  });
});

describe('mmap of the DMA buffer', () => {
  it('moves data between the mapping and the device, and outlives close', async () => {
    const own = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    const map = await g.guest.must('mapfd', own, PAGE, 0, 'rw');
    await g.guest.fill(map, 0, PAGE, 61);
    expect(await result(g.guest, 'buf_xfer', own, 96, 10, 2000, TO_DEVICE)).toEqual([0, 0]);
    const b = await g.guest.alloc(PAGE);
    expect(await result(g.guest, 'pread', own, b, 0, 2000, 10)).toEqual([2000, 0]);
    expect(await g.guest.check(b, 0, 2000, 61, 96)).toBe(-1);
    await g.guest.fill(b, 0, 500, 62);
    expect(await result(g.guest, 'pwrite', own, b, 0, 500, 3000)).toEqual([500, 0]);
    expect(await result(g.guest, 'buf_xfer', own, 1000, 3000, 500, FROM_DEVICE)).toEqual([0, 0]);
    expect(await g.guest.check(map, 1000, 500, 62)).toBe(-1);

    await g.guest.must('close', own);
    expect(await g.guest.check(map, 1000, 500, 62)).toBe(-1);
    await g.guest.fill(map, 0, PAGE, 63);
    expect(await g.guest.check(map, 0, PAGE, 63)).toBe(-1);
    await g.guest.free(map);
    await g.guest.free(b);
  });
});
