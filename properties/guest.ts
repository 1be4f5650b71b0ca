// Typed operations on the guest agent, as the properties use them.
import type { Reply } from '../vm/agent-client.js';
import type { Machine } from '../vm/machine.js';
import type { Expectation } from '../vm/trace.js';
import { driverUnderTest, guestPaths } from '../target/index.js';

export const PAGE = 4096;
// The driver under test, as the properties address it in a guest.
export const DEVICE_NODE = driverUnderTest.deviceNode;
export const DEVICE_NODES = driverUnderTest.deviceNodes;
export const MODULE = driverUnderTest.module;
export const PCI = driverUnderTest.pci.address;
export const PATHS = guestPaths(driverUnderTest);
export const XFER_TO_DEVICE = 1;
export const XFER_FROM_DEVICE = 2;

// 'disk': a shared mapping of a file on the guest's block-backed /mnt/disk.
export type BufferKind = 'anon' | 'file' | 'memfd' | 'huge' | 'disk';

export class GuestError extends Error {}

// One line of a race script as the agent ran it: its result and errno, and
// when it started and ended (ns after the actors' common start).
export interface RaceStep {
  readonly ret: number;
  readonly errno: number;
  readonly t0: number;
  readonly t1: number;
}

// The agent's race reply: "<ret>:<errno>:<start>:<end>" a line, joined by ','.
// Undefined when the agent did not run every line of the script (the reply's
// errno says why) or its payload does not say so.
export function parseRace(reply: Reply, lines: number): RaceStep[] | undefined {
  if (reply.ret !== lines) return undefined;
  const steps = reply.payload.split(',').map((step) => step.split(':'));
  if (steps.length !== lines || steps.some((f) => f.length !== 4 || f.some((n) => !/^-?\d+$/.test(n)))) return undefined;
  return steps.map(([ret, errno, t0, t1]) => ({ ret: Number(ret), errno: Number(errno), t0: Number(t0), t1: Number(t1) }));
}

export class Guest {
  constructor(readonly machine: Machine) {}

  call(op: string, ...args: (string | number | bigint)[]): Promise<Reply> {
    return this.machine.call(op, ...args);
  }

  // Notes what the test requires of a reply, for reproducers made from a trace.
  expect(reply: Reply, expectation: Expectation): void {
    this.machine.trace?.expect(reply, expectation);
  }

  // Calls that must succeed for the test itself to make sense.
  async must(op: string, ...args: (string | number | bigint)[]): Promise<number> {
    const reply = await this.call(op, ...args);
    this.expect(reply, 'ok');
    // A negative result is a failure even with errno 0 (the agent never means success by it).
    if (reply.ret < 0) throw new GuestError(`agent ${op} ${args.join(' ')} failed: ret ${reply.ret}, errno ${reply.errno}`);
    return reply.ret;
  }

  alloc(len: number, kind: BufferKind = 'anon', prot = 'rw'): Promise<number> {
    return this.must('alloc', len, kind, prot);
  }

  free(handle: number): Promise<number> {
    return this.must('free', handle);
  }

  fill(handle: number, off: number, len: number, seed: number, base = 0): Promise<number> {
    return this.must('fill', handle, off, len, seed, base);
  }

  // -1 when every byte matches; otherwise the first bad index from `off`.
  async check(handle: number, off: number, len: number, seed: number, base = 0): Promise<number> {
    if (len === 0) return -1;
    const reply = await this.call('check', handle, off, len, seed, base);
    this.expect(reply, { ret: -1, errno: 0 });
    if (reply.errno !== 0) throw new GuestError(`agent check failed: errno ${reply.errno}`);
    return reply.ret;
  }

  // Whether a path exists (a directory reads as EISDIR, which counts).
  async exists(path: string): Promise<boolean> {
    const reply = await this.call('readfile', path);
    return reply.ret >= 0 || reply.errno !== 2; // ENOENT
  }

  async readFile(path: string): Promise<string> {
    const reply = await this.call('readfile', path);
    if (reply.ret < 0) throw new GuestError(`cannot read ${path} in the guest: errno ${reply.errno}`);
    return Buffer.from(reply.payload, 'hex').toString('utf8');
  }

  // Runs a race script (a line a call: "<actor>[@<start ns>] <op> [args...]")
  // in one agent request: the reply, and its steps in the script's order
  // (undefined: the agent did not run them all).
  async race(lines: readonly string[]): Promise<{ reply: Reply; steps: RaceStep[] | undefined }> {
    const reply = await this.call('race', Buffer.from(lines.join('\n')).toString('hex'));
    return { reply, steps: parseRace(reply, lines.length) };
  }

  async writeFile(path: string, text: string): Promise<void> {
    const reply = await this.call('writefile', path, Buffer.from(text).toString('hex'));
    if (reply.ret < 0) throw new GuestError(`cannot write ${path} in the guest: errno ${reply.errno}`);
  }
}
