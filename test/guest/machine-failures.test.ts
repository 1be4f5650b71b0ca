// Every way a guest can fail is reported as its own error, with its log, and no
// QEMU is left behind.
import { readdir, rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BootError, ConnectionLostError, KernelCrashError, QemuError, RequestTimeoutError } from '../../vm/errors.js';
import type { Machine } from '../../vm/machine.js';
import type { BootExtras } from '../../vm/setup.js';
import { alive, environment } from './helpers.js';

let machine: Machine | undefined;
let pids: (number | undefined)[] = [];

async function boot(extra: BootExtras = {}): Promise<Machine> {
  const env = await environment();
  machine = await env.boot('direct', await env.driver(), extra);
  pids.push(machine.qemuPid);
  return machine;
}

afterEach(async () => {
  await machine?.close();
  machine = undefined;
  for (const pid of pids) expect(await alive(pid), `QEMU ${pid} outlived its machine`).toBe(false);
  pids = [];
});

describe('boot', () => {
  it('reports a driver that does not load as a boot failure with the console', async () => {
    const err = await boot({ driverParams: 'dma_timeout_ms=soon' }).catch((e) => e);
    expect(err).toBeInstanceOf(BootError);
    expect(err.code).toBe('E_BOOT_FAILED');
    expect(err.log).toMatch(/dmafault: driver failed/);
  });

  it('reports a guest that is not up in time as a boot timeout', async () => {
    const err = await boot({ bootTimeoutMs: 300 }).catch((e) => e);
    expect(err).toBeInstanceOf(BootError);
    expect(err.code).toBe('E_BOOT_TIMEOUT');
  });
});

describe('a running guest', () => {
  it('reports a kernel panic with its console excerpt', async () => {
    const m = await boot();
    const err = await m.exec('echo c > /proc/sysrq-trigger').catch((e) => e);
    expect(err).toBeInstanceOf(KernelCrashError);
    expect(err.title).toMatch(/Kernel panic - not syncing/);
    expect(err.log).toMatch(/sysrq/);
    await expect(m.call('ping')).rejects.toBe(err);
  });

  it('reports QEMU aborting on a DMA out of the edu window as a hardware error', async () => {
    const m = await boot();
    const dev = '/sys/bus/pci/drivers/edu_dma/0000:00:01.0';
    // With the driver unbound, program a zero-length DMA by hand: QEMU 7.2 aborts the VM.
    const script = `echo 0000:00:01.0 > /sys/bus/pci/drivers/edu_dma/unbind; echo 1 > /sys/bus/pci/devices/0000:00:01.0/enable; bar=$(( $(cut -d' ' -f1 /sys/bus/pci/devices/0000:00:01.0/resource | head -1) )); setpci -s 00:01.0 COMMAND=0x6 2>/dev/null; devmem $((bar + 0x80)) 32 0x1000; devmem $((bar + 0x88)) 32 0x40000; devmem $((bar + 0x90)) 32 0; devmem $((bar + 0x98)) 32 1; sleep 2`;
    expect(dev).toContain('edu_dma');
    const err = await m.exec(script).catch((e) => e);
    expect(err).toBeInstanceOf(QemuError);
    expect(err.code).toBe('E_QEMU_HARDWARE');
    expect(err.log).toMatch(/qemu: hardware error/);
  });

  it('reports QEMU dying under us', async () => {
    const m = await boot();
    process.kill(m.qemuPid!, 'SIGKILL');
    const err = await m.call('ping').catch((e) => e);
    expect(err).toBeInstanceOf(QemuError);
    expect(err.code).toBe('E_QEMU_EXITED');
    expect(err.message).toMatch(/signal SIGKILL/);
  });

  it('reports a lost SSH connection', async () => {
    const m = await boot();
    const err = await m.exec('killall dropbear; sleep 5').then(() => m.call('ping')).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionLostError);
  });

  it('reports a request that never answers, and trusts the guest no more', async () => {
    const m = await boot({ requestTimeoutMs: 1500 });
    await m.exec('mkfifo /tmp/stuck');
    const err = await m.call('open', '/tmp/stuck', 'r').catch((e) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    await expect(m.call('ping')).rejects.toBe(err);
  });

  it('reports a shell command that never returns, and trusts the guest no more', async () => {
    const m = await boot({ shellTimeoutMs: 1500 });
    // Not a sleep: the idle guest's clock jumps over it (icount, sleep=off).
    const err = await m.exec('mkfifo /tmp/never && cat /tmp/never').catch((e) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(err.message).toMatch(/did not finish within 1500 ms: mkfifo \/tmp\/never && cat \/tmp\/never$/);
    expect(m.failure).toBe(err);
    await expect(m.call('ping')).rejects.toBe(err);
  });
});

describe('kept logs', () => {
  it('keeps a failed guest console and QEMU logs, not its initramfs or keys', async () => {
    const m = await boot();
    process.kill(m.qemuPid!, 'SIGKILL');
    await m.call('ping').catch(() => undefined);
    await m.close();
    expect((await readdir(m.dir)).sort()).toEqual(['console.log', 'qemu.log']);
    await rm(m.dir, { recursive: true, force: true });
  });
});
