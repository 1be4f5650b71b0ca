// Property: random mixes of valid and invalid arguments to every entry point of
// the driver get exactly the result the model predicts, and nothing is held
// afterwards. The model is the table in badInputModel(), in the order the
// driver checks its arguments.
import fc from 'fast-check';
import { DEVICE_NODE, type Guest, PAGE } from './guest.js';
import { PropertyFailure, WINDOW } from './roundtrip.js';
import type { GuestSession } from './session.js';
import type { Reply } from '../vm/agent-client.js';

export const EFAULT = 14;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ENOTTY = 25;
const COPY_MAX = 16 << 20;
// The file's coherent buffer that mmap maps (EDU_DMA_BUF_SIZE).
const BUF_SIZE = 4096;
// The driver's ioctl numbers: called with a NULL argument, it cannot read it.
const KNOWN_IOCTLS = [0x4018ed01, 0x4020ed02, 0x4010ed03];
// A copy source this close to 2^64 wraps around the address space (agent copy_raw).
const WRAPPING = '0xffffffffffffffc0';

// Where the user pointer points.
export type Memory = 'rw' | 'ro' | 'none' | 'unmapped' | 'null' | 'kernel' | 'into-hole';

export type BadCall =
  | { kind: 'xfer'; mem: Memory; len: number; devOffset: number; flags: number; reserved: number }
  | { kind: 'copy'; src: Memory; dst: Memory; len: number; flags: number; overlap: boolean; wrap: boolean }
  | { kind: 'pread' | 'pwrite'; mem: Memory; len: number; pos: number }
  | { kind: 'ioctl'; cmd: number }
  | { kind: 'mmap'; shared: boolean; len: number; off: number; prot: 'rw' | 'r' };

const memory = fc.constantFrom<Memory>('rw', 'rw', 'ro', 'none', 'unmapped', 'null', 'kernel', 'into-hole');
const length = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: WINDOW }), fc.constant(WINDOW + 1), fc.constant(0xffffffff));
const offset = fc.oneof(fc.integer({ min: 0, max: WINDOW }), fc.constant(0xffffffff));

export const badCall: fc.Arbitrary<BadCall> = fc.oneof(
  fc.record({ kind: fc.constant('xfer' as const), mem: memory, len: length, devOffset: offset, flags: fc.constantFrom(1, 2, 1, 2, 0, 3, 4, 0x80000001), reserved: fc.constantFrom(0, 0, 0, 1) }),
  // An overlapping copy has one region for both ends (copyRanges puts the
  // destination a byte into the source): drawn apart, the two regions matched
  // so seldom that an audit run once never reached the driver's overlap check.
  fc
    .record({ kind: fc.constant('copy' as const), src: memory, dst: memory, len: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 * PAGE - 64 }), fc.constant(COPY_MAX + 1)), flags: fc.constantFrom(0, 0, 0, 1), overlap: fc.boolean(), wrap: fc.constantFrom(false, false, false, true) })
    .map((c) => (c.overlap ? { ...c, dst: c.src } : c)),
  // Mostly a position inside the window and a length above zero, so that an
  // unreadable or unwritable buffer reaches the driver's copy (its *_fault sites).
  fc.record({ kind: fc.constantFrom('pread' as const, 'pwrite' as const), mem: memory, len: fc.oneof(fc.constant(0), { arbitrary: fc.integer({ min: 1, max: 2 * PAGE }), weight: 3 }), pos: fc.oneof({ arbitrary: fc.integer({ min: 0, max: WINDOW + 10 }), weight: 3 }, fc.constantFrom(-1, WINDOW, WINDOW + 1)) }),
  fc.record({ kind: fc.constant('ioctl' as const), cmd: fc.constantFrom(0, 0x1234, 0x4018ed7f, 0xc018ed01, ...KNOWN_IOCTLS) }),
  fc.record({ kind: fc.constant('mmap' as const), shared: fc.boolean(), len: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: BUF_SIZE }), fc.constantFrom(BUF_SIZE + 1, 2 * BUF_SIZE)), off: fc.constantFrom(0, PAGE), prot: fc.constantFrom('rw' as const, 'r' as const) }),
);

// Bytes a bounce copy reaches before the hole (the user range starts 100 bytes before it).
export const BEFORE_HOLE = 100;

// The expected [ret, errno]. Each line is one rule of the driver, in its order.
export function badInputModel(c: BadCall): [number, number] {
  const fault: [number, number] = [-1, EFAULT];
  const inval: [number, number] = [-1, EINVAL];
  switch (c.kind) {
    case 'ioctl':
      return KNOWN_IOCTLS.includes(c.cmd) ? fault : [-1, ENOTTY];
    case 'mmap':
      // The kernel refuses these itself; the driver never sees the mapping.
      if (c.len === 0 || c.off % PAGE) return inval;
      // edu_buf_mmap: MAP_SHARED first, then the offset and the (page-rounded) length.
      if (!c.shared) return inval;
      if (c.off !== 0 || Math.ceil(c.len / PAGE) * PAGE > BUF_SIZE) return inval;
      return [0, 0];
    case 'xfer': {
      if (c.reserved || (c.flags !== 1 && c.flags !== 2)) return inval;
      if (c.devOffset + c.len > WINDOW) return inval;
      if (c.len === 0) return [0, 0];
      const writes = c.flags === 2;
      const mem = c.mem === 'into-hole' && c.len <= BEFORE_HOLE ? 'rw' : c.mem;
      if (mem === 'rw' || (mem === 'ro' && !writes)) return [0, 0];
      return fault;
    }
    case 'copy': {
      if (c.flags || c.len > COPY_MAX) return inval;
      if (c.wrap) return c.len === 0 ? [0, 0] : fault;
      const [src, dst] = copyRanges(c);
      if (c.len > 0 && src.handle === dst.handle && src.off < dst.off + c.len && dst.off < src.off + c.len) return inval;
      if (c.len === 0) return [0, 0];
      if (!reachable(src, c.len, false) || !reachable(dst, c.len, true)) return fault;
      return [0, 0];
    }
    case 'pread':
    case 'pwrite': {
      // pread64/pwrite64 refuse a negative position first; then the VFS checks
      // access_ok() before the length: a kernel address is refused before the
      // driver runs, even for zero bytes.
      if (c.pos < 0) return inval;
      if (c.mem === 'kernel') return fault;
      if (c.len === 0) return [0, 0];
      if (c.pos >= WINDOW) return c.kind === 'pread' ? [0, 0] : [-1, ENOSPC];
      const n = Math.min(c.len, WINDOW - c.pos);
      // Bounce calls copy with the uaccess helpers: up to the hole, then a short count.
      if (c.mem === 'into-hole') return [Math.min(n, BEFORE_HOLE), 0];
      if (c.mem === 'rw' || (c.mem === 'ro' && c.kind === 'pwrite')) return [n, 0];
      return fault;
    }
  }
}

// Every buffer is 4 pages; the holey one has its second page unmapped.
const BUFFER_PAGES = 4;

type Mapped = 'rw' | 'ro' | 'none' | 'holey';
// NULL and a kernel address are regions of their own: passed as they are.
type Region = Mapped | 'null' | 'kernel';
const KERNEL_ADDRESS = 0xffff888000001000n;

interface Fixture {
  readonly fd: number;
  readonly handles: Readonly<Record<Mapped, number>>;
}

async function fixture(guest: Guest): Promise<Fixture> {
  const size = BUFFER_PAGES * PAGE;
  const [fd, rw, ro, none, holey] = await Promise.all([
    guest.must('open', DEVICE_NODE, 'rw'),
    guest.alloc(size),
    guest.alloc(size, 'anon', 'r'),
    guest.alloc(size, 'anon', 'none'),
    guest.alloc(size),
  ]);
  await guest.must('munmap', holey, PAGE, PAGE);
  return { fd, handles: { rw, ro, none, holey } };
}

interface Ptr {
  readonly region: Region;
  readonly off: number;
}

// Where a pointer of each kind lands: NULL and the kernel address themselves,
// 'unmapped' in the hole of the holey buffer.
function place(mem: Memory, second = false): Ptr {
  const base = second ? PAGE + 20 : 10;
  switch (mem) {
    case 'rw': return { region: 'rw', off: second ? 2 * PAGE + 30 : base };
    case 'ro': return { region: 'ro', off: base };
    case 'none': return { region: 'none', off: base };
    case 'into-hole': return { region: 'holey', off: PAGE - BEFORE_HOLE };
    case 'null': return { region: 'null', off: 0 };
    case 'kernel': return { region: 'kernel', off: 0 };
    case 'unmapped': return { region: 'holey', off: PAGE + 10 };
  }
}

// The agent's handle and offset of a pointer ('raw' and the address itself for NULL and kernel).
function agentPointer(f: Fixture, p: Ptr): [string | number, string | number] {
  if (p.region === 'null') return ['raw', p.off];
  if (p.region === 'kernel') return ['raw', `0x${(KERNEL_ADDRESS + BigInt(p.off)).toString(16)}`];
  return [f.handles[p.region], p.off];
}

// The two ranges of a copy; with `overlap`, the destination starts inside the source.
export function copyRanges(c: Extract<BadCall, { kind: 'copy' }>): [Ptr & { handle: Region }, Ptr & { handle: Region }] {
  const src = place(c.src);
  const dst = c.overlap && c.src === c.dst ? { ...src, off: src.off + 1 } : place(c.dst, true);
  return [{ ...src, handle: src.region }, { ...dst, handle: dst.region }];
}

// Whether [off, off+len) of a region is mapped with the access the device needs.
function reachable(p: Ptr, len: number, deviceWrites: boolean): boolean {
  if (p.region === 'null' || p.region === 'kernel') return false;
  if (p.region === 'none' || (p.region === 'ro' && deviceWrites)) return false;
  if (p.region !== 'holey') return true;
  return p.off + len <= PAGE || p.off >= 2 * PAGE;
}

async function call(guest: Guest, f: Fixture, c: BadCall): Promise<Reply> {
  const reply = await (async () => {
    switch (c.kind) {
      case 'ioctl':
        return guest.call('ioctl_raw', f.fd, c.cmd);
      case 'xfer': {
        if (c.mem === 'null' || c.mem === 'kernel') {
          return guest.call('xfer_raw', f.fd, c.mem === 'null' ? '0' : '0xffff888000001000', c.len, c.devOffset, c.flags, c.reserved);
        }
        const [handle, off] = agentPointer(f, place(c.mem));
        return guest.call('xfer', f.fd, handle, off, c.len, c.devOffset, c.flags, c.reserved);
      }
      case 'copy': {
        if (c.wrap) return guest.call('copy_raw', f.fd, WRAPPING, '0x10000', c.len, c.flags);
        const [src, dst] = copyRanges(c);
        return guest.call('copy', f.fd, ...agentPointer(f, src), ...agentPointer(f, dst), c.len, c.flags);
      }
      case 'pread':
      case 'pwrite': {
        return guest.call(c.kind, f.fd, ...agentPointer(f, place(c.mem)), c.len, c.pos);
      }
      case 'mmap':
        return guest.call('mapfd', f.fd, c.len, c.off, c.shared ? c.prot : `${c.prot}p`);
    }
  })();
  const [ret, errno] = badInputModel(c);
  // A mapping's result is its handle.
  guest.expect(reply, c.kind === 'mmap' && ret === 0 ? 'ok' : { ret, errno });
  return reply;
}

// A mapping that succeeded reaches the buffer: what is written through it reads
// back (a read-only one must at least be readable).
async function expectUsable(guest: Guest, handle: number, c: Extract<BadCall, { kind: 'mmap' }>): Promise<void> {
  if (c.prot === 'r') {
    const reply = await guest.call('check', handle, 0, c.len, 1, 0);
    guest.expect(reply, 'ok');
    if (reply.ret < 0 && reply.errno !== 0) throw new PropertyFailure(`reading the read-only mapping failed: errno ${reply.errno}`);
    return;
  }
  await guest.fill(handle, 0, c.len, c.len);
  const bad = await guest.check(handle, 0, c.len, c.len);
  if (bad !== -1) throw new PropertyFailure(`the mapping of the buffer reads back byte ${bad} of ${c.len} wrong`);
}

export async function checkBadInput(session: GuestSession, c: BadCall): Promise<void> {
  const guest = await session.guest();
  const mark = session.consoleMark();
  const before = await session.caseBaseline();
  const f = await fixture(guest);
  let mapping: number | undefined;
  try {
    const reply = await call(guest, f, c);
    if (c.kind === 'mmap' && reply.ret >= 0) mapping = reply.ret;
    const got = [mapping === undefined ? reply.ret : 0, reply.ret < 0 ? reply.errno : 0];
    const want = badInputModel(c);
    if (got[0] !== want[0] || got[1] !== want[1]) {
      const what = mapping === undefined ? `returned ${got[0]} errno ${got[1]}` : 'succeeded';
      throw new PropertyFailure(`${c.kind} ${what}, the model says ${want[0]} errno ${want[1]}`);
    }
    if (c.kind === 'mmap' && mapping !== undefined) await expectUsable(guest, mapping, c);
  } finally {
    const held = [...Object.values(f.handles), ...(mapping === undefined ? [] : [mapping])];
    await Promise.all([...held.map((handle) => guest.free(handle)), guest.must('close', f.fd)]);
  }
  await session.endCase(mark, before, c.kind);
}

export function badInputProperty(session: GuestSession): fc.IAsyncProperty<[BadCall]> {
  return fc.asyncProperty(badCall, (c) => session.runCase(() => checkBadInput(session, c)));
}
