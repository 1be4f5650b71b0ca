// Device lifecycle: several devices, unbind and rebind, probes failing at each of
// their checks, module unload, concurrent users, signals during a transfer and a
// device that never completes.
import { afterEach, describe, expect, it } from 'vitest';
import { readCounters } from '../../properties/oracles/counters.js';
import {
  bootDriverGuest, type DriverGuest, EBUSY, EINTR, EIO, ENODEV, ENOSPC, ETIMEDOUT, FROM_DEVICE, PAGE, result, TO_DEVICE,
} from './driver-fixture.js';

const ENOMEM = 12;

const PCI = '0000:00:01.0';
const unbind = `echo ${PCI} > /sys/bus/pci/drivers/edu_dma/unbind`;
const bind = `echo ${PCI} > /sys/bus/pci/drivers/edu_dma/bind`;
let g: DriverGuest | undefined;

afterEach(async () => {
  await g?.close();
  g = undefined;
});

async function pinsBalanced(d: DriverGuest): Promise<boolean> {
  await d.guest.writeFile('/proc/sys/vm/stat_refresh', '1');
  const vmstat = await d.guest.readFile('/proc/vmstat');
  const get = (k: string) => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(vmstat)?.[1]);
  return get('nr_foll_pin_acquired') === get('nr_foll_pin_released');
}

describe('lifecycle', () => {
  it('gives each of two devices its own node, state and data', async () => {
    g = await bootDriverGuest({ extraQemuArgs: ['-device', 'edu'] });
    expect((await g.sh('ls /dev/ | grep edu-dma')).split(/\s+/).filter(Boolean)).toEqual(['edu-dma0', 'edu-dma1']);
    // A directory per device, and the module's sites and objects files.
    const entries = (await g.sh('ls /sys/kernel/debug/edu_dma')).split(/\s+/).filter(Boolean);
    expect(entries).toHaveLength(4);
    expect(entries.filter((e) => /^[\da-f]{4}:/.test(e))).toHaveLength(2);
    expect(entries).toContain('sites');
    // The module's objects across bindings: two device states, a pci_dev reference count each.
    const objects = await g.sh('cat /sys/kernel/debug/edu_dma/objects');
    expect(objects).toMatch(/^devices 2$/m);
    expect(objects.match(/^pci_dev_refs@[\da-f]{4}:[\da-f]{2}:[\da-f]{2}\.\d \d+$/gm)).toHaveLength(2);
    const fds = [await g.guest.must('open', '/dev/edu-dma0', 'rw'), await g.guest.must('open', '/dev/edu-dma1', 'rw')];
    const b = await g.guest.alloc(PAGE);
    for (const [i, fd] of fds.entries()) {
      await g.guest.fill(b, 0, 1000, 70 + i);
      expect(await result(g.guest, 'pwrite', fd, b, 0, 1000, 0)).toEqual([1000, 0]);
    }
    for (const [i, fd] of fds.entries()) {
      expect(await result(g.guest, 'pread', fd, b, 0, 1000, 0)).toEqual([1000, 0]);
      expect(await g.guest.check(b, 0, 1000, 70 + i)).toBe(-1);
    }
  });

  it('unbind with a file open and a mapping: calls fail with -ENODEV, the buffer goes with the device and its mapping faults, rebind works', async () => {
    g = await bootDriverGuest();
    const fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    const map = await g.guest.must('mapfd', fd, PAGE, 0, 'rw');
    const b = await g.guest.alloc(PAGE);
    await g.guest.fill(map, 0, PAGE, 81);
    await g.sh(unbind);
    expect(await result(g.guest, 'xfer', fd, b, 0, 100, 0, TO_DEVICE)).toEqual([-1, ENODEV]);
    expect(await result(g.guest, 'copy', fd, b, 0, b, 2048, 100)).toEqual([-1, ENODEV]);
    expect(await result(g.guest, 'pread', fd, b, 0, 100, 0)).toEqual([-1, ENODEV]);
    expect(await result(g.guest, 'pwrite', fd, b, 0, 100, 0)).toEqual([-1, ENODEV]);
    expect(await result(g.guest, 'buf_xfer', fd, 0, 0, 100, TO_DEVICE)).toEqual([-1, ENODEV]);
    expect(await result(g.guest, 'mapfd', fd, PAGE, 0, 'rw')).toEqual([-1, ENODEV]);
    expect(await result(g.guest, 'open', '/dev/edu-dma0', 'rw')).toEqual([-1, 2]);
    // remove zapped the mapping and freed the buffer: touching it is SIGBUS (EFAULT from the agent).
    expect(await result(g.guest, 'check', map, 0, PAGE, 81, 0)).toEqual([-1, 14]);
    expect(await result(g.guest, 'fill', map, 0, PAGE, 82, 0)).toEqual([-1, 14]);
    await g.guest.must('close', fd);
    expect(await result(g.guest, 'check', map, 0, PAGE, 82, 0)).toEqual([-1, 14]);
    await g.guest.free(map);

    await g.sh(bind);
    const again = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    await g.guest.fill(b, 0, 100, 83);
    expect(await result(g.guest, 'xfer', again, b, 0, 100, 0, TO_DEVICE)).toEqual([0, 0]);
    await g.guest.must('close', again);
    await g.expectClean();
    expect(await pinsBalanced(g)).toBe(true);
  });

  it('a probe failing at any of its checks gives that check\'s errno, unwinds completely, and only once', async () => {
    g = await bootDriverGuest();
    const param = '/sys/module/edu_dma/parameters/probe_fault';
    const sites = async () => new Map((await g!.guest.readFile('/sys/kernel/debug/edu_dma/sites')).trim().split('\n').map((l) => {
      const [name, n] = l.split(' ');
      return [name!, Number(n)] as const;
    }));
    const bindErrno = async () => {
      const reply = await g!.guest.call('writefile', '/sys/bus/pci/drivers/edu_dma/bind', Buffer.from(PCI).toString('hex'));
      return reply.ret < 0 ? reply.errno : 0;
    };
    expect(await g.sh(`stat -c %a ${param}; cat ${param}`)).toBe('600\n0\n');
    expect((await g.machine.exec(`echo 9 > ${param}`)).code).not.toBe(0);
    await g.sh(unbind);
    // check -> [errno, the sites its unwind passes]
    const checks: [number, string[]][] = [
      [ENOMEM, ['probe_alloc']],
      [EIO, ['probe_enable', 'probe_err_put']],
      [EBUSY, ['probe_iomap', 'probe_err_put']],
      [EIO, ['probe_dma_mask', 'probe_err_put']],
      [ENOSPC, ['probe_irq_vectors', 'probe_err_put']],
      [EBUSY, ['probe_request_irq', 'probe_err_put']],
      [ENOMEM, ['probe_ida', 'probe_err_free_irq', 'probe_err_put']],
      [EBUSY, ['probe_misc_register', 'probe_err_debugfs', 'probe_err_free_irq', 'probe_err_put']],
    ];
    for (const [i, [errno, passed]] of checks.entries()) {
      const before = await sites();
      await g.sh(`echo ${i + 1} > ${param}`);
      expect(await bindErrno(), `check ${i + 1}`).toBe(errno);
      const after = await sites();
      const hit = [...after].filter(([name, n]) => n !== before.get(name)).map(([name, n]) => [name, n - before.get(name)!]);
      expect(hit, `check ${i + 1}`).toEqual(passed.map((name) => [name, 1]));
      // probe_fault is back to 0; not bound; no device directory, node or device number left.
      expect(await g.sh(`cat ${param}; test -e /sys/bus/pci/drivers/edu_dma/${PCI} && echo bound; ls /sys/kernel/debug/edu_dma; ls /dev | grep edu-dma || true`)).toBe('0\nobjects\nsites\n');
    }
    // One shot: the next bind works, with the first device number and a fresh debugfs directory.
    expect(await bindErrno()).toBe(0);
    const fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    const b = await g.guest.alloc(PAGE);
    await g.guest.fill(b, 0, 500, 95);
    expect(await result(g.guest, 'xfer', fd, b, 0, 500, 0, TO_DEVICE)).toEqual([0, 0]);
    expect(await result(g.guest, 'xfer', fd, b, 1000, 500, 0, FROM_DEVICE)).toEqual([0, 0]);
    expect(await g.guest.check(b, 1000, 500, 95)).toBe(-1);
    await g.guest.must('close', fd);
    await g.expectClean();
  });

  it('unbind during a long copy stops it between chunks (-ENODEV), then nothing is held', async () => {
    g = await bootDriverGuest();
    const fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    const len = 8 << 20;
    const src = await g.guest.alloc(len);
    const dst = await g.guest.alloc(len);
    const copy = result(g.guest, 'copy', fd, src, 0, dst, 0, len);
    await new Promise((r) => setTimeout(r, 300));
    await g.sh(unbind);
    // 8 MiB is 4096 chunks: the copy did not run to its end, unbind waited for one chunk.
    expect(await copy).toEqual([-1, ENODEV]);
    expect(await result(g.guest, 'xfer', fd, src, 0, 100, 0, TO_DEVICE)).toEqual([-1, ENODEV]);
    await g.guest.must('close', fd);
    expect(await pinsBalanced(g)).toBe(true);
    await g.sh(bind);
    await g.expectClean();
  });

  it('refuses module unload while a file or a mapping is open; unload and reload work after', async () => {
    g = await bootDriverGuest();
    const fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    const map = await g.guest.must('mapfd', fd, PAGE, 0, 'rw');
    const busy = await g.machine.exec('rmmod edu_dma');
    expect(busy.code).not.toBe(0);
    expect(busy.stderr + busy.stdout).toMatch(/in use|busy|unavailable/i);
    await g.guest.must('close', fd);
    expect((await g.machine.exec('rmmod edu_dma')).code).not.toBe(0);
    await g.guest.free(map);
    await g.sh('rmmod edu_dma');
    expect(await g.sh('ls /dev')).not.toMatch(/edu-dma/);
    await g.sh('insmod /lib/dmafault/edu_dma.ko');
    const again = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    const b = await g.guest.alloc(PAGE);
    await g.guest.fill(b, 0, 500, 91);
    expect(await result(g.guest, 'xfer', again, b, 0, 500, 0, TO_DEVICE)).toEqual([0, 0]);
    await g.guest.must('close', again);
    await g.expectClean();
  });

  it('serialises concurrent users of the device', async () => {
    g = await bootDriverGuest();
    // A shell on another channel writes and reads back [2048, 3072) while the agent uses [0, 2000).
    const shell = g.machine.exec(
      'head -c 1024 /dev/urandom > /tmp/p; bad=0; for i in $(seq 40); do ' +
        'dd if=/tmp/p of=/dev/edu-dma0 bs=1024 seek=2 count=1 conv=notrunc 2>/dev/null; ' +
        'dd if=/dev/edu-dma0 of=/tmp/q bs=1024 skip=2 count=1 2>/dev/null; cmp -s /tmp/p /tmp/q || bad=$((bad+1)); done; echo bad=$bad',
    );
    const fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    const b = await g.guest.alloc(2 * PAGE);
    for (let i = 0; i < 60; i++) {
      await g.guest.fill(b, 0, 2000, 100 + i);
      expect(await result(g.guest, 'xfer', fd, b, 0, 2000, 0, TO_DEVICE)).toEqual([0, 0]);
      expect(await result(g.guest, 'xfer', fd, b, PAGE, 2000, 0, FROM_DEVICE)).toEqual([0, 0]);
      expect(await g.guest.check(b, PAGE, 2000, 100 + i)).toBe(-1);
    }
    expect((await shell).stdout.trim()).toBe('bad=0');
    await g.guest.must('close', fd);
    await g.expectClean();
  });

  it('serialises concurrent transfers on one file (two processes sharing it)', async () => {
    g = await bootDriverGuest();
    const fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    const b = await g.guest.alloc(4 * PAGE);
    const children = [
      await g.guest.must('hammer', fd, b, 0, 2000, 0, 150),
      await g.guest.must('hammer', fd, b, 2 * PAGE, 2000, 2048, 150),
    ];
    for (const pid of children) expect(await result(g.guest, 'reap', pid)).toEqual([0, 0]);
    await g.guest.must('close', fd);
    await g.expectClean();
  });

  it('a signal ends a long copy with -EINTR and everything is released', async () => {
    g = await bootDriverGuest();
    const fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    const len = 16 << 20;
    const src = await g.guest.alloc(len);
    const dst = await g.guest.alloc(len);
    const copy = result(g.guest, 'copy', fd, src, 0, dst, 0, len);
    await new Promise((r) => setTimeout(r, 500));
    await g.sh('killall -USR1 dmafault-agent');
    expect(await copy).toEqual([-1, EINTR]);
    await g.guest.must('close', fd);
    await g.expectClean();
    expect(await pinsBalanced(g)).toBe(true);
  });
});

describe('a device that never completes', () => {
  it('fails the call with -ETIMEDOUT, keeps the memory until the device is stopped, then releases it', async () => {
    g = await bootDriverGuest({ driverParams: 'dma_timeout_ms=1' });
    const fd = await g.guest.must('open', '/dev/edu-dma0', 'rw');
    const b = await g.guest.alloc(2 * PAGE);
    expect(await result(g.guest, 'xfer', fd, b, 3000, 3000, 0, FROM_DEVICE)).toEqual([-1, ETIMEDOUT]);
    const held = await readCounters(g.guest, await g.ledger());
    expect(held.ledger).toMatchObject({ quarantined: 1, pinned_pages: 2, dma_mappings: 1, dma_in_flight: 1 });
    expect(await result(g.guest, 'xfer', fd, b, 0, 100, 0, TO_DEVICE)).toEqual([-1, EIO]);
    expect(await result(g.guest, 'pread', fd, b, 0, 100, 0)).toEqual([-1, EIO]);
    await g.guest.must('close', fd);
    await g.sh(unbind);
    expect(await pinsBalanced(g)).toBe(true);
  });
});
