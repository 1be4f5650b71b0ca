// Property `race`: actors on separate guest threads (two vCPUs) call the driver
// at once on shared files and on each other's buffers, while an admin actor may
// unbind and rebind the device. Every result must be one some serial order of
// the same calls allows (linearize.ts against model.ts), every byte a
// successful read delivers must be the last thing its actor wrote to its slice
// of the window, a failed call leaves its destination untouched, and once all
// actors are done nothing is held and the kernel log is clean.
import fc from 'fast-check';
import { DEVICE_NODE, type Guest, MODULE, PAGE, PATHS, XFER_FROM_DEVICE, XFER_TO_DEVICE } from '../guest.js';
import { PropertyFailure } from '../failure.js';
import type { GuestSession } from '../session.js';
import { WINDOW } from '../roundtrip.js';
import { type ActorOp, type AdminOp, describeOp, parseSchedule, type RaceCase, raceCase, type ScheduledRace, SLOT, SLOTS } from './case.js';
import { initialState, PCI, type Call } from './model.js';
import { linearize, type Observed } from './linearize.js';

const SYSFS = PATHS.pciDriver;
const MODULE_FILE = PATHS.moduleFile;
// The agent's actor number for the admin thread.
const ADMIN = 4;

interface Setup {
  readonly fds: number[];
  // sysfs unbind and bind, and the module file, opened before the race (see
  // the agent's writefd and insmodfd).
  readonly sysfs: { readonly unbind: number; readonly bind: number; readonly module: number };
  // Actor -> its two-page buffer.
  readonly bufs: number[];
  readonly scrubSeed: number;
}

const srcSeed = (c: RaceCase, a: number) => (c.seed + 1 + a) >>> 0;
const canarySeed = (c: RaceCase, a: number) => (c.seed + 101 + a) >>> 0;

// The agent line of actor `a`'s call number `k`.
function agentLine(c: RaceCase, s: Setup, a: number, k: number, op: ActorOp): string {
  const len = c.actors[a]!.len;
  const fd = (file: number) => s.fds[file]!;
  const h = s.bufs[a]!;
  const src = k * SLOT;
  const dst = PAGE + k * SLOT;
  switch (op.op) {
    case 'xfer':
      return op.dir === 'to' ? `xfer ${fd(op.file)} ${h} ${src} ${len} ${a * SLOT} ${XFER_TO_DEVICE}` : `xfer ${fd(op.file)} ${h} ${dst} ${len} ${a * SLOT} ${XFER_FROM_DEVICE}`;
    case 'pwrite':
      return `pwrite ${fd(op.file)} ${h} ${src} ${len} ${a * SLOT}`;
    case 'pread':
      return `pread ${fd(op.file)} ${h} ${dst} ${len} ${a * SLOT}`;
    case 'buf_xfer':
      return `buf_xfer ${fd(op.file)} ${a * SLOT} ${a * SLOT} ${len} ${op.dir === 'to' ? XFER_TO_DEVICE : XFER_FROM_DEVICE}`;
    case 'copy':
      return `copy ${fd(op.file)} ${h} ${src} ${h} ${dst} ${len}`;
    case 'close':
      return `close ${fd(op.file)}`;
    case 'maptouch':
      // Each actor its own 64 bytes: two maptouches of one file may overlap.
      return `maptouch ${fd(op.file)} ${(c.seed + 301 + a * SLOTS + k) >>> 0} ${a}`;
    case 'munmap':
      return `munmap ${s.bufs[op.owner]!} ${op.page * PAGE} ${PAGE}`;
    case 'fork':
      return 'fork';
  }
}

function adminLine(s: Setup, op: AdminOp): string {
  if (op.op === 'rmmod') return `rmmod ${MODULE}`;
  if (op.op === 'insmod') return `insmodfd ${s.sysfs.module}`;
  return `writefd ${s.sysfs[op.op]} ${Buffer.from(PCI).toString('hex')}`;
}

// Files, buffers (sources patterned, destinations canaried) and a scrubbed window.
async function prepare(guest: Guest, c: RaceCase): Promise<Setup> {
  const fds = await Promise.all(Array.from({ length: c.files }, () => guest.must('open', DEVICE_NODE, 'rw')));
  const [unbind, bind, module] = await Promise.all([guest.must('open', `${SYSFS}/unbind`, 'w'), guest.must('open', `${SYSFS}/bind`, 'w'), guest.must('open', MODULE_FILE, 'r')]);
  const bufs = await Promise.all(c.actors.map(() => guest.alloc(2 * PAGE)));
  const scrubSeed = (c.seed + 201) >>> 0;
  const scrub = await guest.alloc(PAGE);
  await Promise.all([
    ...bufs.map((h, a) => guest.fill(h, 0, PAGE, srcSeed(c, a))),
    ...bufs.map((h, a) => guest.fill(h, PAGE, PAGE, canarySeed(c, a))),
    guest.fill(scrub, 0, WINDOW, scrubSeed),
  ]);
  const wrote = await guest.must('pwrite', fds[0]!, scrub, 0, WINDOW, 0);
  await guest.free(scrub);
  if (wrote !== WINDOW) throw new PropertyFailure(`scrubbing the window wrote ${wrote} of ${WINDOW} bytes`);
  return { fds, sysfs: { unbind: unbind!, bind: bind!, module: module! }, bufs, scrubSeed };
}

// The race's calls in script order: each actor's, then the admin's.
export function raceCalls(c: RaceCase): { readonly lane: number; readonly call: Call }[] {
  const calls: { lane: number; call: Call }[] = [];
  c.actors.forEach((actor, a) => actor.ops.forEach((op) => calls.push({ lane: a, call: { actor: a, op, len: actor.len } })));
  c.admin.forEach((op) => calls.push({ lane: c.actors.length, call: { actor: -1, op, len: 0 } }));
  return calls;
}

// Runs the script (each call at its start in `schedule`, µs, when given);
// returns each lane's calls with their results and times, and the starts.
async function race(guest: Guest, c: RaceCase, s: Setup, schedule?: readonly number[]): Promise<{ lanes: Observed[][]; starts: number[] }> {
  const counters = c.actors.map(() => 0);
  const lines = raceCalls(c).map(({ lane, call }, i) => {
    const actor = call.actor < 0 ? ADMIN : call.actor;
    const text = call.actor < 0 ? adminLine(s, call.op as AdminOp) : agentLine(c, s, lane, counters[lane]!++, call.op as ActorOp);
    const at = schedule?.[i] ? `@${schedule[i]! * 1000}` : '';
    return { lane, call, text: `${actor}${at} ${text}` };
  });
  const { reply, steps } = await guest.race(lines.map((l) => l.text));
  if (!steps) throw new PropertyFailure(`the agent could not run the race: ret ${reply.ret} errno ${reply.errno}`);
  const lanes: Observed[][] = Array.from({ length: c.actors.length + 1 }, () => []);
  lines.forEach((line, i) => {
    const { ret, errno, t0, t1 } = steps[i]!;
    lanes[line.lane]!.push({ call: line.call, got: [ret, errno], t0, t1 });
  });
  return { lanes, starts: steps.map((s) => Math.floor(s.t0 / 1000)) };
}

const show = (o: Observed) => `${o.call.actor < 0 ? 'admin' : `a${o.call.actor}`} ${describeOp(o.call.op)} -> ${o.got[0]}${o.got[1] ? ` errno ${o.got[1]}` : ''}`;

// Byte checks: what each successful read delivered, and untouched destinations.
async function checkData(guest: Guest, c: RaceCase, s: Setup, lanes: Observed[][], mapped: readonly (readonly [boolean, boolean])[]): Promise<void> {
  const ok = (o: Observed) => o.got[1] === 0 && o.got[0] >= 0;
  const copies = lanes.flat().filter((o) => o.call.op.op === 'copy' && ok(o));
  const checks: Promise<string | undefined>[] = [];
  const expectBytes = (a: number, off: number, len: number, seed: number, base: number, what: string) =>
    checks.push(guest.check(s.bufs[a]!, off, len, seed, base).then((bad) => (bad === -1 ? undefined : `${what}: byte ${bad} of ${len} differs`)));
  const finals: Slice[] = [];
  c.actors.forEach((actor, a) => {
    const len = actor.len;
    // What the actor's slice holds, as the pattern that put it there (undefined: not known).
    let slice: { seed: number; base: number } | undefined = { seed: s.scrubSeed, base: a * SLOT };
    lanes[a]!.forEach((o, k) => {
      const op = o.call.op;
      const dst = PAGE + k * SLOT;
      const wrote = { seed: srcSeed(c, a), base: k * SLOT };
      const isRead = (op.op === 'xfer' && op.dir === 'from') || op.op === 'pread';
      const isWrite = (op.op === 'xfer' && op.dir === 'to') || op.op === 'pwrite';
      if (ok(o) && isWrite) slice = wrote;
      if (ok(o) && op.op === 'buf_xfer' && op.dir === 'to') slice = undefined;
      if (!mapped[a]![1]) return;
      const name = `a${a} call ${k} (${describeOp(op)})`;
      // A copy that may have run before this read streamed through the window.
      const clobbered = copies.some((cp) => cp.t0 < o.t1);
      if (ok(o) && isRead && slice && !clobbered) expectBytes(a, dst, len, slice.seed, slice.base, `${name} delivered other bytes than a${a} last wrote to its slice`);
      else if (ok(o) && op.op === 'copy') expectBytes(a, dst, len, wrote.seed, wrote.base, `${name} copied wrong bytes`);
      else if (!ok(o) || !(isRead || op.op === 'copy')) expectBytes(a, dst, len, canarySeed(c, a), dst - PAGE, `${name} ${ok(o) ? 'wrote a destination it does not write' : 'failed, yet changed its destination'}`);
    });
    if (mapped[a]![0]) expectBytes(a, 0, PAGE, srcSeed(c, a), 0, `a${a}'s source page changed`);
    finals.push(slice);
  });
  const [problem] = (await Promise.all(checks)).filter(Boolean);
  if (problem) throw new PropertyFailure(problem);
  if (!c.admin.length && !copies.length) await checkWindow(guest, c, s, finals);
}

type Slice = { readonly seed: number; readonly base: number } | undefined;

// The window read back after the race (the device stayed bound, no copy used
// it as scratch): each actor's slice holds its last write over `len` bytes and
// the scrub pattern after it, and the rest of the window the scrub pattern.
async function checkWindow(guest: Guest, c: RaceCase, s: Setup, finals: readonly Slice[]): Promise<void> {
  const [fd, h] = await Promise.all([guest.must('open', DEVICE_NODE, 'rw'), guest.alloc(PAGE)]);
  try {
    const got = await guest.must('pread', fd, h, 0, WINDOW, 0);
    if (got !== WINDOW) throw new PropertyFailure(`reading the window back after the race gave ${got} of ${WINDOW} bytes`);
    const checks: Promise<string | undefined>[] = [];
    const expectBytes = (off: number, len: number, seed: number, base: number, what: string) =>
      len > 0 && checks.push(guest.check(h, off, len, seed, base).then((bad) => (bad === -1 ? undefined : `the window after the race: ${what}: byte ${bad} of ${len} differs`)));
    c.actors.forEach((actor, a) => {
      const final = finals[a];
      if (final) expectBytes(a * SLOT, actor.len, final.seed, final.base, `a${a}'s slice is not what a${a} last wrote there`);
      expectBytes(a * SLOT + actor.len, SLOT - actor.len, s.scrubSeed, a * SLOT + actor.len, `past the ${actor.len} bytes a${a} moves, its slice changed`);
    });
    const rest = c.actors.length * SLOT;
    expectBytes(rest, WINDOW - rest, s.scrubSeed, rest, 'the part no actor uses changed');
    const [problem] = (await Promise.all(checks)).filter(Boolean);
    if (problem) throw new PropertyFailure(problem);
  } finally {
    await Promise.all([guest.free(h), guest.must('close', fd)]);
  }
}

// Puts the driver back as it was before the race: loaded and bound, whatever
// the admin actor did (asked of the guest, not of the model: this runs after
// a failed check too).
async function cleanup(guest: Guest, s: Setup): Promise<void> {
  // Closing an fd the race closed already gets EBADF from the agent, harmlessly.
  await Promise.all([...s.fds.map((fd) => guest.call('close', fd)), guest.must('close', s.sysfs.unbind), guest.must('close', s.sysfs.bind), ...s.bufs.map((h) => guest.free(h))]);
  if (!(await guest.exists(PATHS.sysModule))) {
    const loaded = await guest.call('insmodfd', s.sysfs.module);
    if (loaded.ret !== 0) throw new PropertyFailure(`loading the module again after the race failed: errno ${loaded.errno}`);
  } else if (!(await guest.exists(`${SYSFS}/${PCI}`))) {
    const reply = await guest.call('writefile', `${SYSFS}/bind`, Buffer.from(PCI).toString('hex'));
    if (reply.ret !== PCI.length) throw new PropertyFailure(`rebinding after the race failed: ret ${reply.ret} errno ${reply.errno}`);
  }
  await guest.must('close', s.sysfs.module);
}

// `run.starts`: when each call began (µs), kept for the failure's schedule.
export async function checkRace(session: GuestSession, c: RaceCase, schedule?: readonly number[], run: { starts?: number[] } = {}): Promise<void> {
  const guest = await session.guest();
  const mark = session.consoleMark();
  const before = await session.caseBaseline();
  // The module's error-site counters go with it: hand them to the audit first
  // (what the race itself reaches before an unload is not counted).
  if (c.admin.some((op) => op.op === 'rmmod')) await session.sampler?.sample(guest, session.current!, session.faultsDir, session.property);
  const s = await prepare(guest, c);
  let lanes: Observed[][];
  try {
    const ran = await race(guest, c, s, schedule);
    lanes = ran.lanes;
    run.starts = ran.starts;
    const verdict = linearize(initialState(c.files, c.actors.length), lanes);
    if (!verdict.ok) {
      const all = lanes.flat().sort((x, y) => x.t0 - y.t0).map((o) => `  ${show(o)} [${(o.t0 / 1e6).toFixed(1)}-${(o.t1 / 1e6).toFixed(1)} ms]`);
      const stuck = verdict.unexplained.map((u) => `${show(u.call)} (a serial order gives ${u.want[0]}${u.want[1] ? ` errno ${u.want[1]}` : ''})`);
      throw new PropertyFailure(
        `no serial order of the calls explains their results; the longest explained prefix is [${verdict.prefix.map(show).join('; ')}], after which none of these fits: ${stuck.join('; ')}\ncalls by start time:\n${all.join('\n')}`,
      );
    }
    await checkData(guest, c, s, lanes, verdict.final.mapped);
  } finally {
    await cleanup(guest, s);
  }
  await session.endCase(mark, before, 'the race');
}

// A race's outcome depends on the schedule, which this property fixes only in
// part: a failing case keeps when each of its calls started (its replay path),
// and a replay starts each call then, but what happens inside the kernel
// between overlapping calls still varies. So a case runs once while cases are
// being generated, up to SHRINK_ATTEMPTS times once a failure was seen
// (shrinking must not take a lucky pass for the end), and up to
// REPLAY_ATTEMPTS times when one case is replayed; any failing attempt fails
// the case.
const SHRINK_ATTEMPTS = 3;
const REPLAY_ATTEMPTS = 10;

export function raceProperty(session: GuestSession, options: { replaying?: boolean; replayPath?: string } = {}): fc.IAsyncProperty<[ScheduledRace]> {
  let failed = false;
  // A schedule belongs to the one case it was printed with: the first a replay
  // runs (a replay by path stops at that case; should a caller shrink on from
  // it, the smaller cases run without the schedule).
  let pending = options.replaying ? options.replayPath : undefined;
  return fc.asyncProperty(raceCase, async (c) => {
    const attempts = options.replaying ? REPLAY_ATTEMPTS : failed ? SHRINK_ATTEMPTS : 1;
    const given = pending ? parseSchedule(pending, raceCalls(c).length) : undefined;
    pending = undefined;
    const run: { starts?: number[] } = {};
    try {
      for (let i = 0; i < attempts; i++) {
        run.starts = undefined;
        await session.runCase(() => checkRace(session, c, given, run));
      }
    } catch (err) {
      failed = true;
      // (Not an infrastructure error: those end the run without shrinking.)
      const starts = given ?? run.starts;
      if (starts) c.schedule = starts;
      throw err;
    }
  });
}
