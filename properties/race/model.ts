// The serial model of the race property: what each call returns when the calls
// run one at a time in some order. The linearizability check (linearize.ts)
// searches for an order in which every observed result is the model's.
import type { ActorOp, AdminOp } from './case.js';
import { PCI } from '../guest.js';

export const EBADF = 9;
export const EFAULT = 14;
export const ENODEV = 19;
export const EBUSY = 16;
export const EAGAIN = 11;
export const ENOENT = 2;
export const EEXIST = 17;
// What the admin actor writes to sysfs bind and unbind.
export { PCI };

export interface RaceState {
  // The race's files: when each was closed (the close's end, ns), or null while open.
  readonly closed: readonly (number | null)[];
  // The device the files were opened on is still bound (an unbind ends it for
  // good; a rebind makes a new device their files never see).
  readonly alive: boolean;
  // When the unbind (or unload) that ended it ended (ns), or null while alive.
  readonly goneAt: number | null;
  readonly bound: boolean;
  // The module is loaded. Unloading removes the driver's sysfs files: the
  // admin's descriptors of bind and unbind (opened before) fail with ENODEV
  // from then on, even once it is loaded again.
  readonly loaded: boolean;
  readonly reloaded: boolean;
  // Actor -> [source page, destination page] still mapped.
  readonly mapped: readonly (readonly [boolean, boolean])[];
}

// One call of an actor; `actor` is -1 for the admin actor.
export interface Call {
  readonly actor: number;
  readonly op: ActorOp | AdminOp;
  readonly len: number;
}

export type Result = readonly [ret: number, errno: number];

export function initialState(files: number, actors: number): RaceState {
  return { closed: Array<number | null>(files).fill(null), alive: true, goneAt: null, bound: true, loaded: true, reloaded: false, mapped: Array.from({ length: actors }, () => [true, true] as const) };
}

// The results `call` may have in `s` (several when it overlapped a close), and
// the state after it succeeds; a call that fails changes nothing.
export function step(s: RaceState, call: Call, t0 = 0, t1 = 0): { wants: readonly Result[]; next: RaceState } {
  const { op } = call;
  const same = (...wants: Result[]) => ({ wants, next: s });
  // Checks every call on a file makes, in the driver's order. A call looks its
  // descriptor up when it begins and holds the file from then on: one that
  // began before a close of its descriptor ended may still find the file
  // (and then meets the device as it is when it gets there), so both count.
  // `gone` adds what a call that overlapped the unbind may also return.
  const onFile = (file: number, pages: readonly (0 | 1)[], ok: Result, gone: readonly Result[] = []) => {
    const closedAt = s.closed[file];
    if (closedAt !== null && closedAt !== undefined && t0 > closedAt) return same([-1, EBADF]);
    const unmapped = pages.some((p) => !s.mapped[call.actor]![p]);
    // A call that began before the unbind ended may have passed the device
    // check before the unbind took effect (the unbind then waits for it) and
    // met its page after a munmap that came later still: EFAULT.
    const passed: Result[] = unmapped && s.goneAt !== null && t0 < s.goneAt ? [[-1, EFAULT]] : [];
    const open: Result[] = !s.alive ? [[-1, ENODEV], ...gone, ...passed] : unmapped ? [[-1, EFAULT]] : [ok];
    return closedAt !== null && closedAt !== undefined ? same([-1, EBADF], ...open) : same(...open);
  };
  switch (op.op) {
    case 'xfer':
      return onFile(op.file, [op.dir === 'to' ? 0 : 1], [0, 0]);
    case 'pwrite':
      return onFile(op.file, [0], [call.len, 0]);
    case 'pread':
      return onFile(op.file, [1], [call.len, 0]);
    case 'copy':
      return onFile(op.file, [0, 1], [0, 0]);
    case 'buf_xfer':
      return onFile(op.file, [], [0, 0]);
    case 'maptouch':
      // mmap and the touches are separate steps: an unbind between them zaps
      // the mapping, and the touch faults (SIGBUS) instead of reaching the
      // freed buffer. Anything else (EIO: the bytes read back differ) fails.
      return onFile(op.file, [], [0, 0], [[-1, EFAULT]]);
    case 'close':
      if (s.closed[op.file] !== null) return same([-1, EBADF]);
      return { wants: [[0, 0]], next: { ...s, closed: s.closed.map((c, i) => (i === op.file ? t1 : c)) } };
    case 'munmap':
      return { wants: [[0, 0]], next: { ...s, mapped: s.mapped.map((m, i) => (i === op.owner ? (op.page === 0 ? [false, m[1]] : [m[0], false]) : m)) } };
    case 'fork':
      return same([0, 0]);
    case 'unbind':
      if (!s.loaded || s.reloaded) return same([-1, ENODEV]);
      return s.bound ? { wants: [[PCI.length, 0]], next: { ...s, bound: false, alive: false, goneAt: s.goneAt ?? t1 } } : same([-1, ENODEV]);
    case 'bind':
      if (!s.loaded || s.reloaded) return same([-1, ENODEV]);
      return s.bound ? same([-1, EBUSY]) : { wants: [[PCI.length, 0]], next: { ...s, bound: true } };
    case 'rmmod': {
      if (!s.loaded) return same([-1, ENOENT]);
      // Each open file holds the module. Once all are closed, a call still
      // holding one (it looked the descriptor up before the close) keeps it
      // a little longer: refusing is then allowed too.
      if (s.closed.some((c) => c === null)) return same([-1, EAGAIN]);
      return { wants: [[0, 0], [-1, EAGAIN]], next: { ...s, loaded: false, bound: false, alive: false, goneAt: s.goneAt ?? t1, reloaded: true } };
    }
    case 'insmod':
      return s.loaded ? same([-1, EEXIST]) : { wants: [[0, 0]], next: { ...s, loaded: true, bound: true } };
  }
}
