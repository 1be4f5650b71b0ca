// A booted guest for the driver tests, with helpers to call the driver and to
// assert that nothing is held afterwards.
import { expect } from 'vitest';
import { Guest, PAGE } from '../../properties/guest.js';
import { type Counters, readCounters } from '../../properties/oracles/counters.js';
import { findLeaks } from '../../properties/oracles/leaks.js';
import type { Machine } from '../../vm/machine.js';
import type { BootExtras } from '../../vm/setup.js';
import { environment } from './helpers.js';

export const EFAULT = 14;
export const EINVAL = 22;
export const ENOTTY = 25;
export const ENOSPC = 28;
export const ENODEV = 19;
export const EINTR = 4;
export const EIO = 5;
export const ETIMEDOUT = 110;
export const EBUSY = 16;
export const TO_DEVICE = 1;
export const FROM_DEVICE = 2;
export const WINDOW = 4095;
export const MADV_PAGEOUT = 21;
export { PAGE };

export interface DriverGuest {
  readonly machine: Machine;
  readonly guest: Guest;
  ledger(device?: string): Promise<string>;
  // Records what is held now (open files, mappings) as the state expectClean() wants back.
  markBaseline(): Promise<void>;
  // Nothing held beyond the baseline (or at all, without one); pins balanced.
  expectClean(): Promise<void>;
  sh(command: string): Promise<string>;
  close(): Promise<void>;
}

export async function bootDriverGuest(extra: BootExtras = {}, variant: string | null = null): Promise<DriverGuest> {
  const env = await environment();
  const machine = await env.boot('direct', await env.driver(variant), extra);
  const guest = new Guest(machine);
  const sh = async (command: string) => {
    const r = await machine.exec(command);
    if (r.code !== 0) throw new Error(`guest command failed (${r.code}): ${command}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  let baseline: Counters | undefined;
  const ledger = async (device?: string) => {
    const name = device ?? (await sh('ls /sys/kernel/debug/edu_dma')).split(/\s+/).filter(Boolean).sort()[0];
    return `/sys/kernel/debug/edu_dma/${name}/ledger`;
  };
  return {
    machine,
    guest,
    ledger,
    sh,
    async markBaseline() {
      baseline = await readCounters(guest, await ledger());
    },
    async expectClean() {
      const counters = await readCounters(guest, await ledger());
      const leaks = findLeaks(baseline ?? { ledger: {}, pinsAcquired: 0, pinsReleased: 0, objects: counters.objects }, counters);
      expect(leaks, 'held resources').toEqual([]);
      expect(counters.pinsAcquired - counters.pinsReleased, 'pages still pinned').toBe(0);
    },
    close: () => machine.close(),
  };
}

// ret and errno of a call, for compact expectations.
export async function result(guest: Guest, op: string, ...args: (string | number | bigint)[]): Promise<[number, number]> {
  const reply = await guest.call(op, ...args);
  return [reply.ret, reply.ret < 0 ? reply.errno : 0];
}
