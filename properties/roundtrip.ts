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

interface Guarded {
  readonly handle: number;
  readonly size: number;
  readonly start: number;
  readonly guardSeed: number;
}

// A mapping with a guard page before the data and guard bytes after it.
// With `dataSeed`, the buffer itself is then filled with data.
async function guarded(guest: Guest, offset: number, len: number, guardSeed: number, dataSeed?: number): Promise<Guarded> {
  const size = Math.ceil((PAGE + offset + len) / PAGE) * PAGE + PAGE;
  const handle = await guest.alloc(size);
  const start = PAGE + offset;
  await Promise.all([
    guest.fill(handle, 0, size, guardSeed),
    dataSeed === undefined ? undefined : guest.fill(handle, start, len, dataSeed),
  ]);
  return { handle, size, start, guardSeed };
}

async function expectGuards(guest: Guest, what: string, b: Guarded, len: number): Promise<void> {
  const end = b.start + len;
  const [before, after] = await Promise.all([
    guest.check(b.handle, 0, b.start, b.guardSeed),
    guest.check(b.handle, end, b.size - end, b.guardSeed, end),
  ]);
  if (before !== -1) throw new PropertyFailure(`${what}: guard byte ${b.start - before} before the buffer was overwritten`);
  if (after !== -1) throw new PropertyFailure(`${what}: guard byte ${after} after the buffer was overwritten`);
}

async function expectXfer(guest: Guest, fd: number, what: string, ...args: number[]): Promise<void> {
  const reply = await guest.call('xfer', fd, ...args);
  if (reply.ret !== 0) throw new PropertyFailure(`${what}: ioctl returned ${reply.ret} errno ${reply.errno}, expected 0`);
}

// Requests are pipelined where their order does not matter: the agent answers in order.
export async function checkRoundTrip(session: GuestSession, c: RoundTripCase): Promise<void> {
  const guest = await session.guest();
  const mark = session.consoleMark();
  const before = session.takeCounters() ?? (await readCounters(guest, session.ledgerPath));
  const [fd, src, dst] = await Promise.all([
    guest.must('open', DEVICE_NODE, 'rw'),
    guarded(guest, c.srcOffset, c.len, c.seed ^ 0x5a5a, c.seed),
    guarded(guest, c.dstOffset, c.len, c.seed ^ 0xa5a5),
  ]);
  try {
    await expectXfer(guest, fd, 'to device', src.handle, src.start, c.len, c.devOffset, XFER_TO_DEVICE);
    await expectXfer(guest, fd, 'from device', dst.handle, dst.start, c.len, c.devOffset, XFER_FROM_DEVICE);
    const [bad, srcBad] = await Promise.all([
      guest.check(dst.handle, dst.start, c.len, c.seed),
      guest.check(src.handle, src.start, c.len, c.seed),
      expectGuards(guest, 'destination', dst, c.len),
      expectGuards(guest, 'source', src, c.len),
    ]);
    if (bad !== -1) throw new PropertyFailure(`data differs at byte ${bad} of ${c.len} after the round trip`);
    if (srcBad !== -1) throw new PropertyFailure(`the source buffer changed at byte ${srcBad}`);
  } finally {
    await Promise.all([guest.free(src.handle), guest.free(dst.handle), guest.must('close', fd)]);
  }
  const after = await readCounters(guest, session.ledgerPath);
  await session.checkConsole(mark);
  const leaks = findLeaks(before, after);
  session.keepCounters(after);
  if (leaks.length) {
    throw new PropertyFailure(`leaked: ${leaks.map((l) => `${l.counter} ${l.before} -> ${l.after}`).join(', ')}`);
  }
}

export function roundTripProperty(session: GuestSession): fc.IAsyncProperty<[RoundTripCase]> {
  return fc.asyncProperty(roundTripCase, (c) => session.runCase(() => checkRoundTrip(session, c)));
}
