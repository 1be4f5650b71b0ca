// Property: a zero-copy transfer to the device and back is byte-exact for any
// buffer offset, length and device offset; the guard bytes around both user
// buffers are untouched; and afterwards nothing is left pinned or mapped.
import fc from 'fast-check';
import { DEVICE_NODE, type Guest, PAGE, XFER_FROM_DEVICE, XFER_TO_DEVICE } from './guest.js';
import { readCounters } from './oracles/counters.js';
import { findLeaks } from './oracles/leaks.js';
import type { GuestSession } from './session.js';

export const WINDOW = 4095;

export interface RoundTripCase {
  readonly srcOffset: number;
  readonly dstOffset: number;
  readonly len: number;
  readonly devOffset: number;
  readonly seed: number;
}

export const roundTripCase: fc.Arbitrary<RoundTripCase> = fc
  .record({
    srcOffset: fc.integer({ min: 0, max: PAGE - 1 }),
    dstOffset: fc.integer({ min: 0, max: PAGE - 1 }),
    len: fc.integer({ min: 1, max: WINDOW }),
    devSlack: fc.nat({ max: WINDOW - 1 }),
    seed: fc.nat(),
  })
  .map(({ devSlack, ...rest }) => ({ ...rest, devOffset: devSlack % (WINDOW - rest.len + 1) }));

export class PropertyFailure extends Error {}

// A mapping with a guard page before the data and guard bytes after it.
async function guarded(guest: Guest, offset: number, len: number, guardSeed: number) {
  const size = Math.ceil((PAGE + offset + len) / PAGE) * PAGE + PAGE;
  const handle = await guest.alloc(size);
  await guest.fill(handle, 0, size, guardSeed);
  return { handle, size, start: PAGE + offset };
}

async function expectGuards(guest: Guest, what: string, b: { handle: number; size: number; start: number }, len: number, guardSeed: number) {
  const end = b.start + len;
  const before = await guest.check(b.handle, 0, b.start, guardSeed);
  const after = await guest.check(b.handle, end, b.size - end, guardSeed, end);
  if (before !== -1) throw new PropertyFailure(`${what}: guard byte ${b.start - before} before the buffer was overwritten`);
  if (after !== -1) throw new PropertyFailure(`${what}: guard byte ${after} after the buffer was overwritten`);
}

async function expectXfer(guest: Guest, fd: number, what: string, ...args: number[]) {
  const reply = await guest.call('xfer', fd, ...args);
  if (reply.ret !== 0) throw new PropertyFailure(`${what}: ioctl returned ${reply.ret} errno ${reply.errno}, expected 0`);
}

export async function checkRoundTrip(session: GuestSession, c: RoundTripCase): Promise<void> {
  const guest = await session.guest();
  const before = await readCounters(guest, session.ledgerPath);
  const fd = await guest.must('open', DEVICE_NODE, 'rw');
  const src = await guarded(guest, c.srcOffset, c.len, c.seed ^ 0x5a5a);
  const dst = await guarded(guest, c.dstOffset, c.len, c.seed ^ 0xa5a5);
  try {
    await guest.fill(src.handle, src.start, c.len, c.seed);
    await expectXfer(guest, fd, 'to device', src.handle, src.start, c.len, c.devOffset, XFER_TO_DEVICE);
    await expectXfer(guest, fd, 'from device', dst.handle, dst.start, c.len, c.devOffset, XFER_FROM_DEVICE);
    const bad = await guest.check(dst.handle, dst.start, c.len, c.seed);
    if (bad !== -1) throw new PropertyFailure(`data differs at byte ${bad} of ${c.len} after the round trip`);
    await expectGuards(guest, 'destination', dst, c.len, c.seed ^ 0xa5a5);
    await expectGuards(guest, 'source', src, c.len, c.seed ^ 0x5a5a);
    if ((await guest.check(src.handle, src.start, c.len, c.seed)) !== -1) throw new PropertyFailure('the source buffer changed');
  } finally {
    await guest.free(src.handle);
    await guest.free(dst.handle);
    await guest.must('close', fd);
  }
  const leaks = findLeaks(before, await readCounters(guest, session.ledgerPath));
  if (leaks.length) {
    throw new PropertyFailure(`leaked: ${leaks.map((l) => `${l.counter} ${l.before} -> ${l.after}`).join(', ')}`);
  }
}

export function roundTripProperty(session: GuestSession): fc.IAsyncProperty<[RoundTripCase]> {
  return fc.asyncProperty(roundTripCase, (c) => checkRoundTrip(session, c));
}
