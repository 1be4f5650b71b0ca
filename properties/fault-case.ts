// One fault case: set up buffers and device data, arm a plan, make one call,
// and check its result against the model, the data, the guards and the ledger.
import fc from 'fast-check';
import type { Reply } from '../vm/agent-client.js';
import { nthFault } from '../faults/arbitraries.js';
import { FaultController, type PointCounters } from '../faults/controller.js';
import type { FaultPlan } from '../faults/plan.js';
import { ETIMEDOUT, type PointName } from '../faults/points.js';
import { DEVICE_NODE, type Guest, GuestError, PAGE, XFER_FROM_DEVICE, XFER_TO_DEVICE } from './guest.js';
import { expectedErrno, type Operation, pointsReachedBy } from './fault-model.js';
import { PropertyFailure, WINDOW } from './roundtrip.js';
import type { GuestSession } from './session.js';
import { pswpin } from './oracles/swap.js';

export interface FaultCase {
  readonly op: Operation;
  readonly plan: FaultPlan;
  readonly offset: number;
  readonly len: number;
  readonly seed: number;
}

const operations: Operation[] = ['xfer_to', 'xfer_from', 'copy', 'pread', 'pwrite', 'open'];

// Cases for the points `available` (those the fault hooks in use can arm):
// each operation with at least one of them, one of those armed.
export function faultCases(available: readonly PointName[]): fc.Arbitrary<FaultCase> {
  const reached = (op: Operation) => pointsReachedBy(op).filter((p) => available.includes(p));
  return fc
    .constantFrom(...operations.filter((op) => reached(op).length > 0))
    .chain((op) =>
      fc.record({
        op: fc.constant(op),
        plan: fc.constantFrom(...reached(op)).chain((p) => nthFault(p, op === 'copy' ? 6 : 3)).map((spec) => ({ faults: [spec] })),
        offset: fc.integer({ min: 0, max: PAGE - 1 }),
        len: op === 'copy' ? fc.integer({ min: 1, max: 6 * PAGE }) : fc.integer({ min: 1, max: WINDOW }),
        seed: fc.nat(),
      }),
    );
}

export interface FaultOutcome {
  readonly ret: number;
  readonly errno: number;
  readonly injected: Record<string, PointCounters>;
  readonly payload: string;
  readonly reply: Reply;
}

function describeInjected(injected: Record<string, PointCounters>): string {
  const fired = Object.entries(injected).filter(([, c]) => c.injected > 0);
  return fired.length ? fired.map(([p, c]) => `${p} x${c.injected} (of ${c.evaluated} evaluations)`).join(', ') : 'none';
}

// Runs the call of `c` with its plan armed; returns what happened.
async function callWithPlan(session: GuestSession, guest: Guest, faults: FaultController, c: FaultCase, bufs: { src: number; dst: number; fd: number }): Promise<FaultOutcome> {
  const point = c.plan.faults[0]!.point;
  const { src, dst, fd } = bufs;
  const call: (string | number)[] = {
    xfer_to: ['xfer', fd, src, c.offset, c.len, 0, XFER_TO_DEVICE],
    xfer_from: ['xfer', fd, dst, c.offset, c.len, 0, XFER_FROM_DEVICE],
    copy: ['copy', fd, src, c.offset, dst, c.offset, c.len],
    pread: ['pread', fd, dst, c.offset, c.len, 0],
    pwrite: ['pwrite', fd, src, c.offset, c.len, 0],
    open: ['open', DEVICE_NODE, 'rw'],
  }[c.op];
  // The pageout helper pages out the buffer the driver is about to touch
  // (a copy pins its source first, then its destination).
  const secondPin = c.op === 'copy' && c.plan.faults[0]!.schedule.nth === 2;
  const touched = c.op === 'xfer_from' || c.op === 'pread' || secondPin ? dst : src;
  const pid = (await guest.call('getpid')).ret;
  const swapIns = point === 'pageout' ? await pswpin(guest) : 0;
  await faults.arm(c.plan, pid);
  const paused = point === 'pageout' || point === 'writeback';
  const reply = paused && c.op !== 'open'
    ? await guest.call(point, faults.pointDir(point), touched, c.offset, c.len, ...call)
    : await guest.call(String(call[0]), ...call.slice(1));
  const injected = await faults.counters([point]);
  session.faultsInjected[point] = (session.faultsInjected[point] ?? 0) + (injected[point]?.injected ?? 0);
  if (point === 'pageout' && /paused=1/.test(reply.payload) && (await pswpin(guest)) <= swapIns) {
    throw new PropertyFailure(`${c.op}: the driver paused for pageout but nothing was swapped back in (${reply.payload})`);
  }
  await faults.clear([point]);
  if (c.op === 'open' && reply.ret >= 0) await guest.must('close', reply.ret);
  return { ret: reply.ret, errno: reply.ret < 0 ? reply.errno : 0, injected, payload: reply.payload, reply };
}

function successValue(c: FaultCase): number {
  return c.op === 'pread' || c.op === 'pwrite' ? c.len : 0;
}

// A failed call changes nothing: the destination buffer keeps its fill and the
// device what the case put there. A call that may have moved part of its data
// before it failed (a copy's earlier chunks, the DMAs of segments before a
// timed-out one) is judged on its guard bytes only, as a successful call is.
async function checkUntouched(guest: Guest, c: FaultCase, bufs: { src: number; dst: number; fd: number }, size: number, failed: boolean): Promise<void> {
  const spec = c.plan.faults[0]!;
  // irq_late lets the DMA it fires on run to its end before the call fails.
  // Not a read through the bounce buffer: it copies to its caller only once
  // every DMA succeeded, so a failed one leaves the destination as it was.
  const partly = c.op !== 'pread' && (c.op === 'copy' || spec.point === 'irq_late' || (spec.point === 'dma_timeout' && (spec.schedule.nth ?? 1) > 1));
  const fill = (c.seed ^ 0x77) >>> 0;
  const writesDst = c.op === 'copy' || c.op === 'xfer_from' || c.op === 'pread';
  const spans: [number, number, string][] = failed && !partly
    ? [[0, size, writesDst ? 'the destination of the failed call changed' : 'a buffer the call does not use changed']]
    : [[0, c.offset, 'a guard byte before the destination changed'], [c.offset + c.len, size - c.offset - c.len, 'a guard byte after the destination changed']];
  for (const [off, len, what] of spans) {
    const bad = await guest.check(bufs.dst, off, len, fill, off);
    if (bad !== -1) throw new PropertyFailure(`${c.op}: ${what} (byte ${off + bad})`);
  }
  if (failed && !partly && (c.op === 'xfer_to' || c.op === 'pwrite')) {
    const n = Math.min(c.len, WINDOW);
    const check = await guest.alloc(PAGE * 2);
    try {
      await guest.must('pread', bufs.fd, check, c.offset, n, 0);
      const bad = await guest.check(check, c.offset, n, c.seed + 1);
      if (bad !== -1) throw new PropertyFailure(`${c.op} failed, yet device memory changed at byte ${bad}`);
    } finally {
      await guest.free(check);
    }
  }
}

async function checkData(guest: Guest, c: FaultCase, bufs: { src: number; dst: number; fd: number }): Promise<void> {
  const mismatch = async (h: number, seed: number, what: string) => {
    const bad = await guest.check(h, c.offset, c.len, seed);
    if (bad !== -1) throw new PropertyFailure(`${what}: byte ${bad} differs`);
  };
  if (c.op === 'copy' || c.op === 'xfer_from' || c.op === 'pread') await mismatch(bufs.dst, c.op === 'copy' ? c.seed : c.seed + 1, 'destination');
  if (c.op === 'xfer_to' || c.op === 'pwrite') {
    const check = await guest.alloc(PAGE * 2);
    await guest.must('pread', bufs.fd, check, c.offset, c.len, 0);
    await mismatch(check, c.seed, 'device memory');
    await guest.free(check);
  }
}

// After a timeout that left the engine idle the device must work as before:
// a write through one new file and a read back through another move exact
// data. Two files, since each stages through its own coherent buffer: a read
// that ended before its DMA ran returns the new file's zeroed buffer, not the
// bytes the write left behind. (The write is the first DMA after irq_late's,
// so its held interrupt is delivered during it.) The write and the read go in
// one agent request (the race op, one actor): with a host round trip between
// them, the idle guest's clock (icount, sleep=off) could jump past the end of
// a write that returned before its DMA ran, hiding it; on a loaded host, one
// replay in six of a shrunk stale-completion failure passed that way.
async function checkRecovered(guest: Guest, c: FaultCase, where: string): Promise<void> {
  const seed = (c.seed + 3) >>> 0;
  const [a, b, src, dst] = await Promise.all([guest.must('open', DEVICE_NODE, 'rw'), guest.must('open', DEVICE_NODE, 'rw'), guest.alloc(PAGE), guest.alloc(PAGE)]);
  try {
    await Promise.all([guest.fill(src, 0, WINDOW, seed), guest.fill(dst, 0, WINDOW, (seed ^ 0x55) >>> 0)]);
    const { reply, steps } = await guest.race([`0 pwrite ${a} ${src} 0 ${WINDOW} 0`, `0 pread ${b} ${dst} 0 ${WINDOW} 0`]);
    guest.expect(reply, { ret: 2, errno: 0 });
    if (!steps) throw new GuestError(`the agent's race op ran ${reply.ret} of 2 calls (errno ${reply.errno}): ${reply.payload}`);
    for (const [i, { ret, errno }] of steps.entries()) {
      if (ret !== WINDOW) throw new PropertyFailure(`${where}: after the timeout, the ${i ? 'read back' : 'write'} through a new file returned ${ret} (errno ${errno}), not ${WINDOW}`);
    }
    const bad = await guest.check(dst, 0, WINDOW, seed);
    if (bad !== -1) throw new PropertyFailure(`${where}: after the timeout, a write and a read back through new files differ at byte ${bad}`);
  } finally {
    await Promise.all([guest.free(src), guest.free(dst), guest.must('close', a), guest.must('close', b)]);
  }
}

export async function runFaultCase(session: GuestSession, c: FaultCase): Promise<FaultOutcome> {
  const guest = await session.guest();
  const mark = session.consoleMark();
  const faults = new FaultController(guest, session.faultsDir);
  const before = await session.caseBaseline();
  const size = Math.ceil((c.offset + c.len) / PAGE) * PAGE + PAGE;
  const [fd, src, dst] = await Promise.all([guest.must('open', DEVICE_NODE, 'rw'), guest.alloc(size), guest.alloc(size)]);
  const bufs = { src, dst, fd };
  let outcome: FaultOutcome;
  try {
    // Device memory holds seed+1 data, the source seed data, the destination guard bytes.
    await Promise.all([guest.fill(src, 0, size, c.seed), guest.fill(dst, 0, size, (c.seed ^ 0x77) >>> 0)]);
    if (c.op !== 'copy') {
      await guest.fill(src, c.offset, Math.min(c.len, WINDOW), c.seed + 1);
      await guest.must('pwrite', fd, src, c.offset, Math.min(c.len, WINDOW), 0);
      await guest.fill(src, c.offset, c.len, c.seed);
    } else {
      await guest.fill(src, c.offset, c.len, c.seed);
    }
    outcome = await callWithPlan(session, guest, faults, c, bufs);
    const spec = c.plan.faults[0]!;
    const fired = (outcome.injected[spec.point]?.injected ?? 0) > 0;
    const evaluated = outcome.injected[spec.point]?.evaluated ?? 0;
    const where = `${c.op} with ${spec.point} at nth=${spec.schedule.nth}; injected: ${describeInjected(outcome.injected)}`;
    if (spec.schedule.nth !== undefined && fired !== spec.schedule.nth <= evaluated) {
      throw new PropertyFailure(`${where}: the point evaluated ${evaluated} times but fired ${fired ? 'once' : 'never'}`);
    }
    const errno = fired ? expectedErrno(c.op, spec.point, spec.errno) : 0;
    const got = outcome.errno;
    guest.expect(outcome.reply, errno ? { ret: -1, errno } : c.op === 'open' ? 'ok' : { ret: successValue(c), errno: 0 });
    const ok = errno === 0 ? (c.op === 'open' ? outcome.ret >= 0 : outcome.ret === successValue(c)) : outcome.ret === -1 && got === errno;
    if (!ok) throw new PropertyFailure(`${where}: returned ${outcome.ret} errno ${got}, expected ${errno ? `-1 errno ${errno}` : successValue(c)}`);
    if (fired && spec.point === 'pageout' && !/paused=1,resident=0/.test(outcome.payload)) {
      throw new PropertyFailure(`${where}: the buffer was not paged out (${outcome.payload})`);
    }
    if (errno === 0 && c.op !== 'open') await checkData(guest, c, bufs);
    if (c.op !== 'open' || errno !== 0) await checkUntouched(guest, c, bufs, size, errno !== 0);
    if (errno === ETIMEDOUT) await checkRecovered(guest, c, where);
  } finally {
    await Promise.all([guest.free(src), guest.free(dst), guest.must('close', fd)]);
  }
  await session.endCase(mark, before, `${c.op} (injected: ${describeInjected(outcome.injected)})`);
  return outcome;
}

export function faultProperty(session: GuestSession): fc.IAsyncProperty<[FaultCase]> {
  return fc.asyncProperty(faultCases(session.hooks.points), async (c) => {
    await session.runCase(() => runFaultCase(session, c));
  });
}

export type { PointName };
