// Guests restored from snapshots: the first cold boot of a guest saves one,
// the next guest of the same kind starts from it and must be indistinguishable
// (driver loaded, counters at their baseline, edu configured, DMA working); a
// snapshot that cannot be restored gives way to a cold boot and is replaced;
// a driver that will not load fails the boot without touching the snapshot.
import { stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BootError } from '../../vm/errors.js';
import type { Machine } from '../../vm/machine.js';
import type { BootExtras } from '../../vm/setup.js';
import { alive, environment, qemuProcessesFor } from './helpers.js';

let machines: Machine[] = [];

// A kernel argument of this run's own: a snapshot key no other test shares.
// A driver parameter too, to see it reach a driver loaded after a restore.
const tag = `dmafault.test=${process.pid}`;
const params = `dma_timeout_ms=${3000 + (process.pid % 5000)}`;

async function boot(extra: BootExtras = {}, faults = true): Promise<Machine> {
  const env = await environment();
  const driver = await env.driver(null, { faults });
  const machine = await env.boot('direct', driver, { driverParams: params, extraKernelArgs: [tag], ...extra });
  machines.push(machine);
  return machine;
}

async function snapshotDir(machine: Machine): Promise<string> {
  const env = await environment();
  return join(env.cache, 'snapshots', machine.snapshotKey!);
}

// What the properties see of a fresh guest: the module's objects, the device's
// ledger and fault counters, the edu function's PCI configuration, the driver's parameter.
async function state(machine: Machine): Promise<string> {
  const { stdout, code } = await machine.exec([
    'cd /sys/kernel/debug/edu_dma',
    'cat objects */ledger */faults/summary',
    'for d in /sys/bus/pci/devices/*; do [ "$(cat $d/vendor)" = 0x1234 ] && od -An -tx1 -v $d/config; done',
    'cat /sys/module/edu_dma/parameters/dma_timeout_ms',
  ].join('; '));
  expect(code).toBe(0);
  return stdout;
}

// One DMA each way through the restored device, byte-exact.
async function roundTrip(machine: Machine): Promise<void> {
  const fd = (await machine.call('open', '/dev/edu-dma0', 'rw')).ret;
  const h = (await machine.call('alloc', 8192, 'anon', 'rw')).ret;
  expect(fd).toBeGreaterThanOrEqual(0);
  expect(h).toBeGreaterThanOrEqual(0);
  await machine.call('fill', h, 0, 4000, 77, 0);
  expect((await machine.call('pwrite', fd, h, 0, 4000, 0)).ret).toBe(4000);
  await machine.call('fill', h, 0, 4000, 5, 0);
  expect((await machine.call('pread', fd, h, 0, 4000, 0)).ret).toBe(4000);
  expect((await machine.call('check', h, 0, 4000, 77, 0)).ret).toBe(-1);
  await machine.call('free', h);
  await machine.call('close', fd);
}

afterEach(async () => {
  const pids = machines.map((m) => m.qemuPid);
  await Promise.all(machines.map((m) => m.close()));
  machines = [];
  for (const pid of pids) expect(await alive(pid), `QEMU ${pid} outlived its machine`).toBe(false);
});

describe('snapshots', () => {
  it('a cold boot saves a root-only snapshot; the next guest restores it, faster and indistinguishable', async () => {
    const cold = await boot();
    expect(cold.restored).toBe(false);
    expect(cold.snapshotNote).toBeUndefined();
    const dir = await snapshotDir(cold);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'state'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'snapshot.json'))).mode & 0o777).toBe(0o600);
    const fresh = await state(cold);
    await cold.close();

    const restored = await boot();
    expect(restored.restored).toBe(true);
    expect(restored.bootMs).toBeLessThan(cold.bootMs);
    expect(await state(restored)).toBe(fresh);
    await roundTrip(restored);
    // A second guest restored from the same snapshot at the same time works too.
    const twin = await boot();
    expect(twin.restored).toBe(true);
    await roundTrip(twin);
    await roundTrip(restored);
  });

  it('a snapshot holds no driver: another build of it, with other parameters, starts from the same snapshot', async () => {
    const first = await boot();
    const key = first.snapshotKey;
    const faultsDir = 'ls -d /sys/kernel/debug/edu_dma/*/faults';
    expect((await first.exec(faultsDir)).code).toBe(0);
    await first.close();
    const other = await boot({ driverParams: 'dma_timeout_ms=2500' }, false);
    expect(other.snapshotKey).toBe(key);
    expect(other.restored).toBe(true);
    expect((await other.exec('cat /sys/module/edu_dma/parameters/dma_timeout_ms')).stdout.trim()).toBe('2500');
    // Compiled without fault points: no faults directory.
    expect((await other.exec(faultsDir)).code).not.toBe(0);
    await roundTrip(other);
  });

  it('a two-vCPU guest (multi-threaded TCG, no icount) has a snapshot of its own and comes back with both vCPUs', async () => {
    const one = await boot();
    const key = one.snapshotKey;
    await one.close();
    const cold = await boot({ cpus: 2 });
    expect(cold.snapshotKey).not.toBe(key);
    const fresh = await state(cold);
    await cold.close();
    const restored = await boot({ cpus: 2 });
    expect(restored.restored).toBe(true);
    expect((await restored.exec('cat /sys/devices/system/cpu/online')).stdout.trim()).toBe('0-1');
    expect(await state(restored)).toBe(fresh);
    await roundTrip(restored);
  });

  it('a snapshot that cannot be restored gives way to a cold boot, says so, and is saved again', async () => {
    const first = await boot();
    const dir = await snapshotDir(first);
    await first.close();
    await truncate(join(dir, 'state'), 4096);

    const machine = await boot();
    expect(machine.restored).toBe(false);
    expect(machine.snapshotNote).toMatch(/^the restore failed \(.+\); booted cold$/);
    await roundTrip(machine);
    expect((await stat(join(dir, 'state'))).size).toBeGreaterThan(4096);
    // The QEMU that failed to load the snapshot is gone.
    expect(await qemuProcessesFor(dir)).toEqual([]);
  });

  it('a driver that refuses to load fails a restored boot at once, and the snapshot stays', async () => {
    const first = await boot();
    const dir = await snapshotDir(first);
    await first.close();
    const saved = await stat(join(dir, 'state'));
    const err = await boot({ driverParams: 'dma_timeout_ms=soon' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BootError);
    expect((err as BootError).code).toBe('E_BOOT_FAILED');
    expect((err as BootError).log).toMatch(/dmafault: driver failed/);
    // Not dropped and saved again by a cold boot, which would refuse the driver all the same.
    const kept = await stat(join(dir, 'state'));
    expect([kept.ino, kept.mtimeMs]).toEqual([saved.ino, saved.mtimeMs]);
    expect(await qemuProcessesFor(dir)).toEqual([]);
    expect((await boot()).restored).toBe(true);
  });

  it('with snapshots off, a guest boots cold and saves nothing', async () => {
    const machine = await boot({ snapshots: false, extraKernelArgs: [`${tag}1`] });
    expect(machine.restored).toBe(false);
    expect(machine.snapshotKey).toBeUndefined();
    await roundTrip(machine);
  });
});
