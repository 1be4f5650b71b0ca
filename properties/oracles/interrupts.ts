// The idle-interrupt oracle: once every call of a case has returned, the
// device has no work and its interrupt line must be quiet. A handler that does
// not acknowledge a level-triggered (INTx) interrupt returns IRQ_HANDLED with
// the line still asserted, so the kernel runs it without end and never calls
// it spurious; only the count in /proc/interrupts shows it (tens of thousands
// a second under QEMU, 0 for a correct driver: measured). The kernel's own
// counts are read, so this holds for any driver of the device.
import { type Guest, PCI } from '../guest.js';

// The device's interrupt: the IRQ sysfs names (its MSI vector while MSI is on,
// else its INTx line), and the times it fired, summed over the CPUs.
export interface DeviceInterrupts {
  readonly irq: number;
  readonly count: number;
}

export const IRQ_FILE = `/sys/bus/pci/devices/${PCI}/irq`;

// One late completion may land in the idle window: a DMA a driver gave up on
// (timed out) that the engine still finishes, or a held interrupt it lets through.
export const IDLE_INTERRUPTS_ALLOWED = 1;

// The count on `irq`'s row of /proc/interrupts (a header of CPU columns,
// then "<irq>: <one count per CPU> <chip> ... <handlers>"), or undefined
// when the kernel lists no such row (no handler, no interrupt yet).
export function parseInterrupts(text: string, irq: number): number | undefined {
  const [header, ...rows] = text.split('\n');
  const cpus = (header ?? '').trim().split(/\s+/).filter((word) => /^CPU\d+$/.test(word)).length;
  if (cpus === 0) throw new Error(`/proc/interrupts has no CPU columns in its header: "${header}"`);
  const row = rows.map((line) => line.trim().split(/\s+/)).find((fields) => fields[0] === `${irq}:`);
  if (!row) return undefined;
  const counts = row.slice(1, 1 + cpus);
  if (counts.length !== cpus || counts.some((n) => !/^\d+$/.test(n))) throw new Error(`/proc/interrupts row of IRQ ${irq} does not hold ${cpus} count(s): "${row.join(' ')}"`);
  return counts.reduce((sum, n) => sum + Number(n), 0);
}

// The device's interrupt count now, or undefined while it has no IRQ with a
// row (no driver bound, or the device is gone). Two requests, one round trip.
export async function readDeviceInterrupts(guest: Guest): Promise<DeviceInterrupts | undefined> {
  const [irqReply, table] = await Promise.all([guest.call('readfile', IRQ_FILE), guest.call('readfile', '/proc/interrupts')]);
  if (irqReply.ret <= 0 || table.ret <= 0) return undefined;
  const irq = Number(Buffer.from(irqReply.payload, 'hex').toString().trim());
  if (!Number.isInteger(irq) || irq <= 0) return undefined;
  const count = parseInterrupts(Buffer.from(table.payload, 'hex').toString(), irq);
  return count === undefined ? undefined : { irq, count };
}

// What is wrong when the line fired more than allowed between two reads taken
// while the device was idle, or undefined. Reads of different IRQs (the device
// was rebound in between) or a missing read say nothing.
export function idleInterrupts(first: DeviceInterrupts | undefined, second: DeviceInterrupts | undefined): string | undefined {
  if (!first || !second || first.irq !== second.irq) return undefined;
  const fired = second.count - first.count;
  if (fired <= IDLE_INTERRUPTS_ALLOWED) return undefined;
  return `the device's interrupt (IRQ ${first.irq}) fired ${fired} times while the device was idle, after every call had returned (at most ${IDLE_INTERRUPTS_ALLOWED} expected: a late completion); an interrupt its handler does not acknowledge runs without end`;
}
