// Bad input to the driver: each gets its exact errno, and nothing is held after.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bootDriverGuest, type DriverGuest, EFAULT, EINVAL, ENOSPC, ENOTTY, FROM_DEVICE, PAGE, result, TO_DEVICE, WINDOW,
} from './driver-fixture.js';

let g: DriverGuest;
let fd: number;
// Handles: rw (4 pages), ro (read-only), none (PROT_NONE), holey (page 1 of 3 unmapped).
const h = { rw: 0, ro: 0, none: 0, holey: 0 };

beforeAll(async () => {
  g = await bootDriverGuest();
  fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
  await g.markBaseline();
  h.rw = await g.guest.alloc(4 * PAGE);
  h.ro = await g.guest.alloc(2 * PAGE, 'anon', 'r');
  h.none = await g.guest.alloc(2 * PAGE, 'anon', 'none');
  h.holey = await g.guest.alloc(3 * PAGE);
  await g.guest.must('munmap', h.holey, PAGE, PAGE);
});
afterAll(() => g?.close());
afterEach(() => g.expectClean());

describe('zero-copy transfer (EDU_DMA_IOC_XFER)', () => {
  const rows: [string, () => (string | number)[], [number, number]][] = [
    ['NULL address', () => ['xfer_raw', fd, 0, 16, 0, TO_DEVICE], [-1, EFAULT]],
    ['NULL address, device writes', () => ['xfer_raw', fd, 0, 16, 0, FROM_DEVICE], [-1, EFAULT]],
    ['kernel address', () => ['xfer_raw', fd, '0xffff888000000000', 16, 0, TO_DEVICE], [-1, EFAULT]],
    ['range running into an unmapped hole', () => ['xfer', fd, h.holey, PAGE - 8, 64, 0, TO_DEVICE], [-1, EFAULT]],
    ['read-only memory the device must write', () => ['xfer', fd, h.ro, 0, 64, 0, FROM_DEVICE], [-1, EFAULT]],
    ['read-only memory the device reads', () => ['xfer', fd, h.ro, 0, 64, 0, TO_DEVICE], [0, 0]],
    ['PROT_NONE memory, device reads', () => ['xfer', fd, h.none, 0, 64, 0, TO_DEVICE], [-1, EFAULT]],
    ['PROT_NONE memory, device writes', () => ['xfer', fd, h.none, 0, 64, 0, FROM_DEVICE], [-1, EFAULT]],
    ['zero length', () => ['xfer', fd, h.rw, 0, 0, 0, TO_DEVICE], [0, 0]],
    ['zero length at a NULL address', () => ['xfer_raw', fd, 0, 0, 0, FROM_DEVICE], [0, 0]],
    ['length beyond the window', () => ['xfer', fd, h.rw, 0, WINDOW + 1, 0, TO_DEVICE], [-1, EINVAL]],
    ['offset plus length past the window', () => ['xfer', fd, h.rw, 0, 2, WINDOW - 1, TO_DEVICE], [-1, EINVAL]],
    ['offset plus length overflowing', () => ['xfer', fd, h.rw, 0, 2, 0xffffffff, TO_DEVICE], [-1, EINVAL]],
    ['no direction', () => ['xfer', fd, h.rw, 0, 16, 0, 0], [-1, EINVAL]],
    ['both directions', () => ['xfer', fd, h.rw, 0, 16, 0, 3], [-1, EINVAL]],
    ['unknown flag', () => ['xfer', fd, h.rw, 0, 16, 0, TO_DEVICE | 4], [-1, EINVAL]],
    ['reserved field not zero', () => ['xfer', fd, h.rw, 0, 16, 0, TO_DEVICE, 1], [-1, EINVAL]],
    ['the whole window', () => ['xfer', fd, h.rw, 100, WINDOW, 0, FROM_DEVICE], [0, 0]],
  ];
  it.each(rows)('%s', async (_name, args, expected) => {
    const [op, ...rest] = args();
    expect(await result(g.guest, op as string, ...rest)).toEqual(expected);
  });
});

describe('streaming copy (EDU_DMA_IOC_COPY)', () => {
  const rows: [string, () => (string | number)[], [number, number]][] = [
    ['zero length', () => ['copy', fd, h.rw, 0, h.rw, 2 * PAGE, 0], [0, 0]],
    ['beyond the 16 MiB limit', () => ['copy', fd, h.rw, 0, h.rw, 2 * PAGE, 16 * 1024 * 1024 + 1], [-1, EINVAL]],
    ['overlapping buffers', () => ['copy', fd, h.rw, 0, h.rw, 100, PAGE], [-1, EINVAL]],
    ['flags not zero', () => ['copy', fd, h.rw, 0, h.rw, 2 * PAGE, 64, 1], [-1, EINVAL]],
    ['reserved not zero', () => ['copy', fd, h.rw, 0, h.rw, 2 * PAGE, 64, 0, 1], [-1, EINVAL]],
    ['read-only destination', () => ['copy', fd, h.rw, 0, h.ro, 0, 64], [-1, EFAULT]],
    ['PROT_NONE source', () => ['copy', fd, h.none, 0, h.rw, 0, 64], [-1, EFAULT]],
    ['destination running into a hole', () => ['copy', fd, h.rw, 0, h.holey, PAGE - 100, 200], [-1, EFAULT]],
    ['a valid copy', () => ['copy', fd, h.rw, 10, h.rw, 2 * PAGE + 5, 5000], [0, 0]],
  ];
  it.each(rows)('%s', async (_name, args, expected) => {
    const [op, ...rest] = args();
    expect(await result(g.guest, op as string, ...rest)).toEqual(expected);
  });
});

describe('bounce path, buffer transfers, mmap and ioctl numbers', () => {
  const rows: [string, () => (string | number)[], [number, number]][] = [
    ['read into an unmapped page', () => ['pread', fd, h.holey, PAGE, 16, 0], [-1, EFAULT]],
    ['read running into an unmapped page: short count', () => ['pread', fd, h.holey, PAGE - 10, 100, 0], [10, 0]],
    ['write running into an unmapped page: short count', () => ['pwrite', fd, h.holey, PAGE - 10, 100, 0], [10, 0]],
    ['read into PROT_NONE', () => ['pread', fd, h.none, 0, 16, 0], [-1, EFAULT]],
    ['read into read-only memory', () => ['pread', fd, h.ro, 0, 16, 0], [-1, EFAULT]],
    ['write from PROT_NONE', () => ['pwrite', fd, h.none, 0, 16, 0], [-1, EFAULT]],
    ['read at the end of device memory', () => ['pread', fd, h.rw, 0, 16, WINDOW], [0, 0]],
    ['read past the end', () => ['pread', fd, h.rw, 0, 16, WINDOW + 100], [0, 0]],
    ['write at the end', () => ['pwrite', fd, h.rw, 0, 16, WINDOW], [-1, ENOSPC]],
    ['write past the end', () => ['pwrite', fd, h.rw, 0, 16, WINDOW + 100], [-1, ENOSPC]],
    ['read clipped at the end', () => ['pread', fd, h.rw, 0, 100, WINDOW - 10], [10, 0]],
    ['zero-length read', () => ['pread', fd, h.rw, 0, 0, 0], [0, 0]],
    ['negative position', () => ['pread', fd, h.rw, 0, 16, -1], [-1, EINVAL]],
    ['buffer transfer past the buffer', () => ['buf_xfer', fd, PAGE - 8, 0, 16, TO_DEVICE], [-1, EINVAL]],
    ['buffer transfer past the window', () => ['buf_xfer', fd, 0, WINDOW - 8, 16, TO_DEVICE], [-1, EINVAL]],
    ['buffer transfer with bad flags', () => ['buf_xfer', fd, 0, 0, 16, 0], [-1, EINVAL]],
    ['mapping more than the buffer', () => ['mapfd', fd, 2 * PAGE, 0, 'rw'], [-1, EINVAL]],
    ['mapping at an offset past it', () => ['mapfd', fd, PAGE, PAGE, 'rw'], [-1, EINVAL]],
    ['private mapping', () => ['mapfd', fd, PAGE, 0, 'rwp'], [-1, EINVAL]],
    ['read-only private mapping', () => ['mapfd', fd, 1, 0, 'rp'], [-1, EINVAL]],
    ['zero-length mapping (the kernel refuses it)', () => ['mapfd', fd, 0, 0, 'rw'], [-1, EINVAL]],
    ['mapping at an unaligned offset (the kernel refuses it)', () => ['mapfd', fd, 16, 100, 'rw'], [-1, EINVAL]],
    ['unknown ioctl number', () => ['ioctl_raw', fd, 0x1234], [-1, ENOTTY]],
    ['known magic, unknown number', () => ['ioctl_raw', fd, 0x4018ed7f], [-1, ENOTTY]],
  ];
  it.each(rows)('%s', async (_name, args, expected) => {
    const [op, ...rest] = args();
    expect(await result(g.guest, op as string, ...rest)).toEqual(expected);
  });

  it('a shared mapping of the buffer reads back what is written through it, and goes', async () => {
    const m = await g.guest.must('mapfd', fd, 100, 0, 'rw');
    await g.guest.fill(m, 0, 100, 7);
    expect(await g.guest.check(m, 0, 100, 7)).toBe(-1);
    expect(await result(g.guest, 'buf_xfer', fd, 0, 0, 100, TO_DEVICE)).toEqual([0, 0]);
    expect(await result(g.guest, 'pread', fd, h.rw, 0, 100, 0)).toEqual([100, 0]);
    expect(await g.guest.check(h.rw, 0, 100, 7)).toBe(-1);
    await g.guest.free(m);
  });

  it('logs nothing above dev_dbg for any of it', async () => {
    const lines = (await g.sh('dmesg')).split('\n').filter((l) => /edu[_-]dma|0000:00:01\.0/.test(l));
    expect(lines.filter((l) => !/taints kernel|^\S*\s*pci 0000:00:01\.0: /.test(l.replace(/^\[[^\]]*\]\s*/, '')))).toEqual([]);
  });
});
