// The race property's judge: a serial order of the calls, keeping program and
// real-time order, in which each result is the model's.
import { describe, expect, it } from 'vitest';
import type { ActorOp, AdminOp } from '../../properties/race/case.js';
import { linearize, type Observed } from '../../properties/race/linearize.js';
import { EAGAIN, EBADF, EEXIST, EFAULT, ENODEV, initialState, PCI } from '../../properties/race/model.js';

const at = (actor: number, op: ActorOp | AdminOp, got: [number, number], t0: number, t1: number, len = 100): Observed => ({ call: { actor, op, len }, got, t0, t1 });
const close0 = (t0: number, t1: number) => at(0, { op: 'close', file: 0 }, [0, 0], t0, t1);
const xfer1 = (got: [number, number], t0: number, t1: number) => at(1, { op: 'xfer', file: 0, dir: 'to' }, got, t0, t1);

describe('linearize', () => {
  it('lets an overlapping transfer go either side of a close', () => {
    expect(linearize(initialState(1, 2), [[close0(0, 10)], [xfer1([0, 0], 5, 20)]]).ok).toBe(true);
    expect(linearize(initialState(1, 2), [[close0(0, 10)], [xfer1([-1, EBADF], 5, 20)]]).ok).toBe(true);
  });

  it('refuses a transfer that succeeded on a file closed before it began', () => {
    const verdict = linearize(initialState(1, 2), [[close0(0, 10)], [xfer1([0, 0], 11, 20)]]);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.prefix.map((o) => o.call.op.op)).toEqual(['close']);
      expect(verdict.unexplained[0]!.want).toEqual([-1, EBADF]);
    }
  });

  it('refuses an EBADF from before the close began', () => {
    expect(linearize(initialState(1, 2), [[close0(10, 20)], [xfer1([-1, EBADF], 0, 5)]]).ok).toBe(false);
  });

  it('ends the files of an unbound device for good, a rebind notwithstanding', () => {
    const admin = [at(-1, { op: 'unbind' }, [PCI.length, 0], 0, 10), at(-1, { op: 'bind' }, [PCI.length, 0], 11, 20)];
    expect(linearize(initialState(1, 1), [[at(0, { op: 'pread', file: 0 }, [-1, ENODEV], 21, 30)], admin]).ok).toBe(true);
    expect(linearize(initialState(1, 1), [[at(0, { op: 'pread', file: 0 }, [100, 0], 21, 30)], admin]).ok).toBe(false);
    expect(linearize(initialState(1, 1), [[at(0, { op: 'pread', file: 0 }, [100, 0], 5, 30)], admin]).ok).toBe(true);
  });

  it('unloads the module only once every file is closed, and a failed unload changes nothing', () => {
    const rmmod = (got: [number, number], t0: number, t1: number) => at(-1, { op: 'rmmod' }, got, t0, t1);
    // Refused while the file is open; allowed (or still refused) once its close ended.
    expect(linearize(initialState(1, 1), [[close0(20, 30)], [rmmod([-1, EAGAIN], 0, 10)]]).ok).toBe(true);
    expect(linearize(initialState(1, 1), [[close0(20, 30)], [rmmod([0, 0], 0, 10)]]).ok).toBe(false);
    expect(linearize(initialState(1, 1), [[close0(0, 10)], [rmmod([0, 0], 11, 20)]]).ok).toBe(true);
    expect(linearize(initialState(1, 1), [[close0(0, 10)], [rmmod([-1, EAGAIN], 11, 20), at(-1, { op: 'insmod' }, [-1, EEXIST], 21, 30)]]).ok).toBe(true);
    // Loaded again: the admin's old sysfs descriptors are dead for good.
    const reload = [rmmod([0, 0], 11, 20), at(-1, { op: 'insmod' }, [0, 0], 21, 30)];
    expect(linearize(initialState(1, 1), [[close0(0, 10)], [...reload, at(-1, { op: 'unbind' }, [-1, ENODEV], 31, 40)]]).ok).toBe(true);
    expect(linearize(initialState(1, 1), [[close0(0, 10)], [...reload, at(-1, { op: 'unbind' }, [PCI.length, 0], 31, 40)]]).ok).toBe(false);
  });

  it('fails a transfer from a page another actor unmapped earlier, and only that actor', () => {
    const unmap = at(1, { op: 'munmap', owner: 0, page: 0 }, [0, 0], 0, 5);
    expect(linearize(initialState(1, 2), [[at(0, { op: 'xfer', file: 0, dir: 'to' }, [-1, EFAULT], 6, 9)], [unmap]]).ok).toBe(true);
    expect(linearize(initialState(1, 2), [[at(0, { op: 'xfer', file: 0, dir: 'from' }, [0, 0], 6, 9)], [unmap]]).ok).toBe(true);
    expect(linearize(initialState(1, 2), [[at(0, { op: 'xfer', file: 0, dir: 'to' }, [0, 0], 6, 9)], [unmap]]).ok).toBe(false);
  });

  it('lets a call that began before an unbind ended fault on a page unmapped after the unbind took effect', () => {
    // Seen on the default driver (swiotlb): a1's pread passed the device check,
    // the unbind marked the device gone and waited for it (a0's xfer got
    // ENODEV), a0 unmapped a1's destination, and a1's copy_to_user faulted.
    const unbind = at(-1, { op: 'unbind' }, [PCI.length, 0], 6_900, 116_900);
    const a0 = [at(0, { op: 'xfer', file: 0, dir: 'to' }, [-1, ENODEV], 7_500, 11_200), at(0, { op: 'munmap', owner: 1, page: 1 }, [0, 0], 11_200, 11_500)];
    const pread = (t0: number, t1: number) => at(1, { op: 'pread', file: 0 }, [-1, EFAULT], t0, t1);
    expect(linearize(initialState(1, 2), [a0, [pread(100, 100_200)], [unbind]]).ok).toBe(true);
    // One that began after the unbind ended can only find the device gone.
    expect(linearize(initialState(1, 2), [a0, [pread(117_000, 117_100)], [unbind]]).ok).toBe(false);
    // Nor does a page that is still mapped fault.
    const other = [at(0, { op: 'xfer', file: 0, dir: 'to' }, [-1, ENODEV], 7_500, 11_200), at(0, { op: 'munmap', owner: 1, page: 0 }, [0, 0], 11_200, 11_500)];
    expect(linearize(initialState(1, 2), [other, [pread(100, 100_200)], [unbind]]).ok).toBe(false);
  });

  it('keeps program order within an actor', () => {
    const lane = [at(0, { op: 'close', file: 0 }, [-1, EBADF], 0, 1), at(0, { op: 'close', file: 0 }, [0, 0], 2, 3)];
    expect(linearize(initialState(1, 1), [lane]).ok).toBe(false);
  });

  // Found by race on iommu: a call looks its descriptor up when it begins, so
  // one that began before a close ended may meet the device after the close.
  it('lets a call that began before a close of its descriptor ended still find the file', () => {
    const lanes = [
      [at(0, { op: 'close', file: 1 }, [0, 0], 0, 3), at(0, { op: 'copy', file: 0 }, [0, 0], 4, 8)],
      [at(1, { op: 'pwrite', file: 1 }, [-1, ENODEV], 2, 18)],
      [at(-1, { op: 'unbind' }, [PCI.length, 0], 5, 15)],
    ];
    expect(linearize(initialState(2, 2), lanes).ok).toBe(true);
    // Begun after the close ended, it cannot.
    const late = [lanes[0]!, [at(1, { op: 'pwrite', file: 1 }, [-1, ENODEV], 4, 18)], lanes[2]!];
    expect(linearize(initialState(2, 2), late).ok).toBe(false);
  });
});
