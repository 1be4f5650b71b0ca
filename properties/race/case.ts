// A race case: two or three actors (guest threads) run short sequences of
// calls on shared files and on each other's buffers, all released together,
// while an optional admin actor unbinds (and rebinds) the device.
import fc from 'fast-check';

export const SLOT = 1024;
// Each actor owns a slice of the device window and two pages of buffer: page 0
// holds a source slot per call, page 1 a destination slot per call.
export const SLOTS = 4;
// At most three: buffer transfers use the buffer at the actor's slice, so the
// buffer's last kilobyte stays free for maptouch's bytes (see the agent).
export const MAX_ACTORS = 3;

export type Dir = 'to' | 'from';

export type ActorOp =
  | { readonly op: 'xfer'; readonly file: number; readonly dir: Dir }
  | { readonly op: 'pwrite' | 'pread'; readonly file: number }
  | { readonly op: 'buf_xfer'; readonly file: number; readonly dir: Dir }
  | { readonly op: 'copy'; readonly file: number }
  | { readonly op: 'close'; readonly file: number }
  // mmap a page of the file's buffer, write and check bytes through it, munmap.
  | { readonly op: 'maptouch'; readonly file: number }
  | { readonly op: 'munmap'; readonly owner: number; readonly page: 0 | 1 }
  | { readonly op: 'fork' };

export type AdminOp = { readonly op: 'unbind' | 'bind' | 'rmmod' | 'insmod' };

export interface RaceCase {
  readonly files: number;
  // Bytes each data call of the actor moves (its slice is SLOT bytes).
  readonly actors: readonly { readonly len: number; readonly ops: readonly ActorOp[] }[];
  readonly admin: readonly AdminOp[];
  readonly seed: number;
}

// File and owner numbers are drawn from the largest range and folded onto the
// case's own (see raceCase): no chain, so shrinking can drop actors and files.
const actorOp: fc.Arbitrary<ActorOp> = (() => {
  const file = fc.nat({ max: 1 });
  const dir = fc.constantFrom<Dir>('to', 'from');
  return fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('xfer' as const), file, dir }), weight: 4 },
    { arbitrary: fc.record({ op: fc.constantFrom('pwrite' as const, 'pread' as const), file }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('buf_xfer' as const), file, dir }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('copy' as const), file }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('close' as const), file }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('maptouch' as const), file }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('munmap' as const), owner: fc.nat({ max: MAX_ACTORS - 1 }), page: fc.constantFrom<0 | 1>(0, 1) }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('fork' as const) }), weight: 1 },
  );
})();

function fold(op: ActorOp, files: number, actors: number): ActorOp {
  if (op.op === 'munmap') return { ...op, owner: op.owner % actors };
  if (op.op === 'fork') return op;
  return { ...op, file: op.file % files };
}

// A failing case keeps the schedule its failing run had (each call's start, in
// µs after the release, in script order): printed as its replay path, so that
// a replay starts every call when it started then. The interleaving inside
// the kernel is still not fixed, only when each call begins.
export interface ScheduledRace extends RaceCase {
  schedule?: readonly number[];
}

export function encodeSchedule(starts: readonly number[]): string {
  return starts.map((us) => Math.max(0, Math.round(us))).join('.');
}

export function parseSchedule(text: string, calls: number): readonly number[] {
  const starts = text.split('.').map((x) => (/^\d{1,9}$/.test(x) ? Number(x) : NaN));
  if (starts.some(Number.isNaN) || starts.length !== calls) {
    throw new Error(`race: the replay path "${text}" is not a schedule of ${calls} call(s): expected ${calls} start times in µs joined by '.', as printed with the failure`);
  }
  return starts;
}

function scheduled(c: RaceCase): ScheduledRace {
  const value: ScheduledRace = { ...c };
  Object.defineProperty(value, 'toString', {
    enumerable: false,
    value(this: ScheduledRace) {
      const { schedule, ...rest } = this;
      return `${JSON.stringify(rest)}${schedule ? ` /*replayPath="${encodeSchedule(schedule)}"*/` : ''}`;
    },
  });
  return value;
}

export const raceCase: fc.Arbitrary<ScheduledRace> = fc
  .record({
    // One shared file three times in four: sharing is where callers collide.
    files: fc.oneof({ arbitrary: fc.constant(1), weight: 3 }, { arbitrary: fc.constant(2), weight: 1 }),
    actors: fc.array(fc.record({ len: fc.integer({ min: 1, max: SLOT - 1 }), ops: fc.array(actorOp, { minLength: 1, maxLength: SLOTS }) }), { minLength: 2, maxLength: MAX_ACTORS }),
    // rmmod succeeds only once every file of the race is closed, and
    // refuses (EWOULDBLOCK) before: both are worth racing.
    admin: fc.constantFrom<readonly AdminOp[]>([], [], [{ op: 'unbind' }], [{ op: 'unbind' }, { op: 'bind' }], [{ op: 'rmmod' }], [{ op: 'rmmod' }, { op: 'insmod' }]),
    seed: fc.nat(),
  })
  .map((c) => scheduled({ ...c, actors: c.actors.map((a) => ({ len: a.len, ops: a.ops.map((op) => fold(op, c.files, c.actors.length)) })) }));

export function describeOp(op: ActorOp | AdminOp): string {
  switch (op.op) {
    case 'xfer':
    case 'buf_xfer':
      return `${op.op} f${op.file} ${op.dir}`;
    case 'pwrite':
    case 'pread':
    case 'copy':
    case 'close':
    case 'maptouch':
      return `${op.op} f${op.file}`;
    case 'munmap':
      return `munmap a${op.owner}.p${op.page}`;
    default:
      return op.op;
  }
}
