// The driver's error-handling sites: /sys/kernel/debug/edu_dma/sites lists exactly
// the sites of driver/edu_sites.h, each marked once in the sources, and a call
// that takes one error path counts exactly the sites on that path; faults/summary
// gives every fault point's counters in one read.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultController } from '../../faults/controller.js';
import type { FaultSpec } from '../../faults/plan.js';
import { type PointName, pointNames } from '../../faults/points.js';
import { driverDir } from '../../vm/build/driver.js';
import {
  bootDriverGuest, type DriverGuest, EFAULT, EINTR, EINVAL, EIO, ENODEV, ENOSPC, ENOTTY, ETIMEDOUT, FROM_DEVICE, PAGE, result, TO_DEVICE, WINDOW,
} from './driver-fixture.js';

const SITES = '/sys/kernel/debug/edu_dma/sites';
const PCI = '0000:00:01.0';
const ENOMEM = 12;
const IOC_XFER = 0x4018ed01;
const IOC_COPY = 0x4020ed02;
const IOC_BUF_XFER = 0x4010ed03;
const NEVER = 0xffffffff;

// The names of the sites of edu_sites.h, in order.
async function declaredSites(): Promise<string[]> {
  const header = await readFile(join(driverDir, 'edu_sites.h'), 'utf8');
  return [...header.matchAll(/^EDU_SITE\((\w+),\s*"/gm)].map((m) => m[1]!);
}

let g: DriverGuest;
let fd: number;
let faults: FaultController;
let pid: number;
const h = { rw: 0, ro: 0, none: 0 };

async function sites(): Promise<Map<string, string>> {
  const text = await g.guest.readFile(SITES);
  return new Map(text.trim().split('\n').map((line) => line.split(' ') as [string, string]));
}

async function counts(): Promise<Record<string, number>> {
  return Object.fromEntries([...(await sites())].map(([name, hits]) => [name, Number(hits)]));
}

// Runs `action` and returns the sites it hit, with their hit counts.
async function hits(action: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = await counts();
  await action();
  const after = await counts();
  return Object.fromEntries(Object.entries(after).filter(([name, n]) => n !== before[name]).map(([name, n]) => [name, n - before[name]!]));
}

// One call with `point` armed at its first evaluation, for the agent only.
async function withFault<T>(spec: Omit<FaultSpec, 'schedule'> & { nth?: number }, call: () => Promise<T>): Promise<T> {
  await faults.arm({ faults: [{ point: spec.point, schedule: { nth: spec.nth ?? 1 }, ...(spec.errno ? { errno: spec.errno } : {}) }] }, pid);
  try {
    return await call();
  } finally {
    await faults.clear([spec.point]);
  }
}

beforeAll(async () => {
  g = await bootDriverGuest();
  fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
  faults = new FaultController(g.guest, (await g.ledger()).replace(/\/ledger$/, '/faults'));
  pid = (await g.guest.call('getpid')).ret;
  h.rw = await g.guest.alloc(4 * PAGE);
  h.ro = await g.guest.alloc(2 * PAGE, 'anon', 'r');
  h.none = await g.guest.alloc(2 * PAGE, 'anon', 'none');
  await g.markBaseline();
});
afterAll(() => g?.close());

describe('the site list', () => {
  it('edu_dma/sites lists exactly the sites of edu_sites.h, in order, each with a count', async () => {
    const declared = await declaredSites();
    expect(declared.length).toBeGreaterThanOrEqual(40);
    expect(new Set(declared).size).toBe(declared.length);
    const listed = await sites();
    expect([...listed.keys()]).toEqual(declared);
    for (const [name, hits] of listed) expect(hits, name).toMatch(/^\d+$/);
    expect(await g.sh(`stat -c %a ${SITES}`)).toBe('400\n');
  });

  it('every site is marked by exactly one edu_site(name) in driver/*.c, and nothing else is', async () => {
    const declared = await declaredSites();
    const files = (await readdir(driverDir)).filter((f) => f.endsWith('.c'));
    const uses: string[] = [];
    for (const f of files) {
      const text = (await readFile(join(driverDir, f), 'utf8')).replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      uses.push(...[...text.matchAll(/\bedu_site\((\w+)\)/g)].map((m) => m[1]!));
    }
    expect([...uses].sort()).toEqual([...declared].sort());
  });
});

describe('a call that takes an error path counts exactly the sites on it', () => {
  const rows: [string, () => Promise<[number, number]>, [number, number], Record<string, number>][] = [
    ['XFER with bad flags', () => result(g.guest, 'xfer', fd, h.rw, 0, 16, 0, 3), [-1, EINVAL], { xfer_bad_flags: 1 }],
    ['XFER with reserved set', () => result(g.guest, 'xfer', fd, h.rw, 0, 16, 0, TO_DEVICE, 1), [-1, EINVAL], { xfer_reserved: 1 }],
    ['XFER past the window', () => result(g.guest, 'xfer', fd, h.rw, 0, 2, WINDOW - 1, TO_DEVICE), [-1, EINVAL], { xfer_range: 1 }],
    ['XFER wrapping around the address space (the pin returns 0)', () => result(g.guest, 'xfer_raw', fd, '0xfffffffffffffff0', 32, 0, TO_DEVICE), [-1, EFAULT], { pin_fail: 1, pinned_err_release: 1 }],
    ['XFER of PROT_NONE memory', () => result(g.guest, 'xfer', fd, h.none, 0, 64, 0, TO_DEVICE), [-1, EFAULT], { pin_fail: 1, pinned_err_release: 1 }],
    ['unknown ioctl', () => result(g.guest, 'ioctl_raw', fd, 0x1234), [-1, ENOTTY], { ioctl_unknown: 1 }],
    ['XFER with an unreadable argument', () => result(g.guest, 'ioctl_raw', fd, IOC_XFER), [-1, EFAULT], { xfer_arg_fault: 1 }],
    ['COPY with an unreadable argument', () => result(g.guest, 'ioctl_raw', fd, IOC_COPY), [-1, EFAULT], { copy_arg_fault: 1 }],
    ['BUF_XFER with an unreadable argument', () => result(g.guest, 'ioctl_raw', fd, IOC_BUF_XFER), [-1, EFAULT], { buf_xfer_arg_fault: 1 }],
    ['COPY with flags', () => result(g.guest, 'copy', fd, h.rw, 0, h.rw, 2 * PAGE, 64, 1), [-1, EINVAL], { copy_bad_flags: 1 }],
    ['COPY over 16 MiB', () => result(g.guest, 'copy', fd, h.rw, 0, h.rw, 2 * PAGE, (16 << 20) + 1), [-1, EINVAL], { copy_too_long: 1 }],
    ['COPY wrapping around the address space', () => result(g.guest, 'copy_raw', fd, '0xfffffffffffffff0', '0x10000', 64), [-1, EFAULT], { copy_overflow: 1 }],
    ['overlapping COPY', () => result(g.guest, 'copy', fd, h.rw, 0, h.rw, 100, PAGE), [-1, EINVAL], { copy_overlap: 1 }],
    ['COPY to read-only memory', () => result(g.guest, 'copy', fd, h.rw, 0, h.ro, 0, 64), [-1, EFAULT], { pin_fail: 1, pinned_err_release: 1, copy_dst_unwind: 1 }],
    ['read into PROT_NONE', () => result(g.guest, 'pread', fd, h.none, 0, 16, 0), [-1, EFAULT], { read_fault: 1 }],
    ['write at the end', () => result(g.guest, 'pwrite', fd, h.rw, 0, 16, WINDOW), [-1, ENOSPC], { write_nospc: 1 }],
    ['write from PROT_NONE', () => result(g.guest, 'pwrite', fd, h.none, 0, 16, 0), [-1, EFAULT], { write_fault: 1 }],
    ['BUF_XFER with bad flags', () => result(g.guest, 'buf_xfer', fd, 0, 0, 16, 0), [-1, EINVAL], { buf_xfer_bad_flags: 1 }],
    ['BUF_XFER past the buffer', () => result(g.guest, 'buf_xfer', fd, PAGE - 8, 0, 16, TO_DEVICE), [-1, EINVAL], { buf_xfer_range: 1 }],
    ['mmap of two pages', () => result(g.guest, 'mapfd', fd, 2 * PAGE, 0, 'rw'), [-1, EINVAL], { mmap_bad_range: 1 }],
    ['gup_fail', () => withFault({ point: 'gup_fail' }, () => result(g.guest, 'xfer', fd, h.rw, 0, 64, 0, TO_DEVICE)), [-1, EFAULT], { pin_fail: 1, pinned_err_release: 1 }],
    ['sg_alloc_fail', () => withFault({ point: 'sg_alloc_fail' }, () => result(g.guest, 'xfer', fd, h.rw, 0, 64, 0, FROM_DEVICE)), [-1, ENOMEM], { pinned_sg_alloc: 1, pinned_err_release: 1 }],
    ['dma_map_fail', () => withFault({ point: 'dma_map_fail', errno: EIO }, () => result(g.guest, 'xfer', fd, h.rw, 0, 64, 0, TO_DEVICE)), [-1, EIO], { pinned_dma_map: 1 }],
    ['kmalloc_fail on XFER', () => withFault({ point: 'kmalloc_fail' }, () => result(g.guest, 'xfer', fd, h.rw, 0, 64, 0, TO_DEVICE)), [-1, ENOMEM], { pinned_alloc: 1 }],
    ['kmalloc_fail on the destination of a COPY', () => withFault({ point: 'kmalloc_fail', nth: 2 }, () => result(g.guest, 'copy', fd, h.rw, 0, h.rw, 2 * PAGE, 64)), [-1, ENOMEM], { pinned_alloc: 1, copy_dst_unwind: 1 }],
    ['kmalloc_fail on open', () => withFault({ point: 'kmalloc_fail' }, () => result(g.guest, 'open', '/dev/edu-dma0', 'rw')), [-1, ENOMEM], { open_alloc: 1 }],
    ['coherent_alloc_fail on open', () => withFault({ point: 'coherent_alloc_fail' }, () => result(g.guest, 'open', '/dev/edu-dma0', 'rw')), [-1, ENOMEM], { buf_alloc: 1, open_err_free: 1 }],
    ['signal before the DMA engine (XFER)', () => withFault({ point: 'signal' }, () => result(g.guest, 'xfer', fd, h.rw, 0, 64, 0, TO_DEVICE)), [-1, EINTR], { engine_lock_intr: 1 }],
    ['signal between COPY chunks', () => withFault({ point: 'signal', nth: 2 }, () => result(g.guest, 'copy', fd, h.rw, 0, h.rw, 2 * PAGE, 5000)), [-1, EINTR], { engine_lock_intr: 1 }],
    ['signal before the file buffer (read)', () => withFault({ point: 'signal' }, () => result(g.guest, 'pread', fd, h.rw, 0, 64, 0)), [-1, EINTR], { buf_lock_intr: 1 }],
    ['signal before the DMA engine (write)', () => withFault({ point: 'signal', nth: 2 }, () => result(g.guest, 'pwrite', fd, h.rw, 0, 64, 0)), [-1, EINTR], { engine_lock_intr: 1 }],
    ['signal before the file buffer (BUF_XFER)', () => withFault({ point: 'signal' }, () => result(g.guest, 'buf_xfer', fd, 0, 0, 64, TO_DEVICE)), [-1, EINTR], { buf_lock_intr: 1 }],
    ['dma_timeout', () => withFault({ point: 'dma_timeout' }, () => result(g.guest, 'xfer', fd, h.rw, 0, 64, 0, TO_DEVICE)), [-1, ETIMEDOUT], { dma_timeout: 1 }],
    ['irq_late', () => withFault({ point: 'irq_late' }, () => result(g.guest, 'xfer', fd, h.rw, 0, 64, 0, FROM_DEVICE)), [-1, ETIMEDOUT], { dma_timeout: 1 }],
  ];
  it.each(rows)('%s', async (_name, call, want, sitesHit) => {
    let got: [number, number] = [0, 0];
    expect(await hits(async () => (got = await call()))).toEqual(sitesHit);
    expect(got).toEqual(want);
    await g.expectClean();
  });

  it('a wedged device: the timeout while the engine runs, the quarantine, later calls refused, unbind', async () => {
    const param = '/sys/module/edu_dma/parameters/dma_timeout_ms';
    const old = (await g.guest.readFile(param)).trim();
    const run = async (call: () => Promise<[number, number]>) => {
      await g.guest.writeFile(param, '1');
      try {
        return await call();
      } finally {
        await g.guest.writeFile(param, old);
      }
    };
    let got: [number, number] = [0, 0];
    expect(await hits(async () => (got = await run(() => result(g.guest, 'xfer', fd, h.rw, 100, 3000, 0, TO_DEVICE))))).toEqual({ dma_timeout: 1, dma_timeout_busy: 1, xfer_quarantine: 1 });
    expect(got).toEqual([-1, ETIMEDOUT]);
    expect(await hits(async () => (got = await result(g.guest, 'xfer', fd, h.rw, 0, 64, 0, TO_DEVICE)))).toEqual({ dma_wedged: 1 });
    expect(got).toEqual([-1, EIO]);
    await g.sh(`echo ${PCI} > /sys/bus/pci/drivers/edu_dma/unbind`);
    expect(await hits(async () => (got = await result(g.guest, 'xfer', fd, h.rw, 0, 64, 0, TO_DEVICE)))).toEqual({ enter_gone: 1 });
    expect(got).toEqual([-1, ENODEV]);
    await g.guest.must('close', fd);
    await g.sh(`echo ${PCI} > /sys/bus/pci/drivers/edu_dma/bind`);
    fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');

    expect(await hits(async () => (got = await run(() => result(g.guest, 'copy', fd, h.rw, 100, h.rw, 2 * PAGE, 3000))))).toEqual({ dma_timeout: 1, dma_timeout_busy: 1, copy_quarantine: 1 });
    expect(got).toEqual([-1, ETIMEDOUT]);
    await g.guest.must('close', fd);
    await g.sh(`echo ${PCI} > /sys/bus/pci/drivers/edu_dma/unbind; echo ${PCI} > /sys/bus/pci/drivers/edu_dma/bind`);
    fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    await g.markBaseline();
  });
});

describe('faults/summary', () => {
  it('counts every point since the device was bound: arming does not reset it, its growth matches the per-point files', async () => {
    const summaryFile = `${faults.faultsDir}/summary`;
    expect(await g.sh(`stat -c %a ${summaryFile}`)).toBe('400\n');
    const read = async () =>
      Object.fromEntries(
        (await g.guest.readFile(summaryFile)).trim().split('\n').map((line) => {
          const [name, evaluated, injected] = line.split(' ');
          return [name!, { evaluated: Number(evaluated), injected: Number(injected) }];
        }),
      );
    const before = await read();
    const points: PointName[] = ['gup_fail', 'gup_partial', 'signal', 'kmalloc_fail'];
    await faults.arm({ faults: points.map((point) => ({ point, schedule: { nth: NEVER } })) }, pid);
    await faults.arm({ faults: [{ point: 'dma_map_fail', schedule: { nth: 2 } }] }, pid);
    expect(await read()).toEqual(before);
    try {
      expect(await result(g.guest, 'copy', fd, h.rw, 10, h.rw, 2 * PAGE, 5000)).toEqual([-1, ENOMEM]);
      expect(await result(g.guest, 'xfer', fd, h.rw, 10, 5000 % WINDOW, 0, TO_DEVICE)).toEqual([0, 0]);
      const after = await read();
      expect(Object.keys(after)).toEqual(pointNames);
      const grown = Object.fromEntries(
        Object.entries(after).map(([name, c]) => [name, { evaluated: c.evaluated - before[name]!.evaluated, injected: c.injected - before[name]!.injected }]),
      );
      const sinceArmed = await faults.counters([...points, 'dma_map_fail']);
      for (const point of [...points, 'dma_map_fail'] as PointName[]) expect(grown[point], point).toEqual(sinceArmed[point]);
      expect(grown.dma_map_fail).toEqual({ evaluated: 2, injected: 1 });
      expect(grown.gup_fail).toEqual({ evaluated: 3, injected: 0 });
      expect(grown.kmalloc_fail).toEqual({ evaluated: 3, injected: 0 });
      expect(grown.signal).toEqual({ evaluated: 1, injected: 0 });
    } finally {
      await faults.clear();
    }
    await g.expectClean();
  });
});
