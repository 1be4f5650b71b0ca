// Turns one traced guest operation into the C statements of a reproducer
// (the helpers they call are in prelude.c). Each statement leaves the result
// in `r`, so the expectation that follows can judge it.
import { UsageError } from '../../vm/errors.js';
import type { CallEvent } from '../../vm/trace.js';

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM', 2: 'ENOENT', 4: 'EINTR', 5: 'EIO', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM', 14: 'EFAULT', 16: 'EBUSY',
  19: 'ENODEV', 22: 'EINVAL', 25: 'ENOTTY', 28: 'ENOSPC', 110: 'ETIMEDOUT', 512: '512 /* ERESTARTSYS */',
};

export const errnoName = (n: number): string => ERRNO_NAMES[n] ?? String(n);

const PROT: Readonly<Record<string, string>> = { rw: 'PROT_READ | PROT_WRITE', r: 'PROT_READ', none: 'PROT_NONE' };
const KIND: Readonly<Record<string, string>> = { anon: 'ANON', file: 'FILE_BACKED', memfd: 'MEMFD', huge: 'HUGE', disk: 'DISK' };
const OPEN_MODE: Readonly<Record<string, string>> = { r: 'O_RDONLY', w: 'O_WRONLY', rw: 'O_RDWR' };

// A C string literal; paths under the device's debugfs directory use DEVICE_DEBUGFS.
export function cString(text: string, deviceDebugfs?: string): string {
  const quote = (t: string) => `"${t.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n').replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`;
  if (deviceDebugfs && text.startsWith(`${deviceDebugfs}/`)) return `DEVICE_DEBUGFS ${quote(text.slice(deviceDebugfs.length))}`;
  return quote(text);
}

// State carried from step to step: the agent's fds and its pid, as recorded.
export interface StepContext {
  readonly deviceDebugfs: string;
  readonly fds: Set<number>;
  pid?: number;
}

function num(text: string | undefined, what: string): string {
  if (text === undefined || !/^-?(0x[0-9a-f]+|\d+)$/i.test(text)) throw new UsageError(`trace: ${what} is not a number (${text})`);
  return BigInt(text) > 0xffffffffn ? `${text}ULL` : text;
}

function fd(ctx: StepContext, text: string | undefined): string {
  const n = Number(num(text, 'fd'));
  return ctx.fds.has(n) ? `fds[${n}]` : String(n);
}

function table(map: Readonly<Record<string, string>>, text: string | undefined, what: string): string {
  const value = text === undefined ? undefined : map[text];
  if (!value) throw new UsageError(`trace: unknown ${what} "${text}"; expected one of ${Object.keys(map).join(', ')}`);
  return value;
}

// A handle and offset; the handle 'raw' makes the offset an absolute address.
const at = (h: string | undefined, off: string | undefined) => (h === 'raw' ? `(uint64_t)${num(off, 'address')}` : `addr(${num(h, 'handle')}, ${num(off, 'offset')})`);
const ptr = (h: string | undefined, off: string | undefined) => `(void *)${at(h, off)}`;

// The C statement for `op args` (null: nothing to do in a reproducer).
export function statement(ctx: StepContext, op: string, a: readonly string[], ret: number | undefined): string | null {
  switch (op) {
    case 'ping':
    case 'readfile':
    // The permission oracle's probe: a check of the harness, not a step of the failure.
    case 'open_as':
      return null;
    case 'getpid':
      ctx.pid = ret;
      return null;
    case 'open': {
      const call = `open(${cString(a[0]!, ctx.deviceDebugfs)}, ${table(OPEN_MODE, a[1], 'open mode')} | O_CLOEXEC)`;
      if (ret === undefined || ret < 0) return `r = ${call};`;
      ctx.fds.add(ret);
      return `r = fds[${ret}] = ${call};`;
    }
    case 'close':
      return `r = close(${fd(ctx, a[0])});`;
    case 'alloc':
      if (ret === undefined || ret < 0) return null;
      return `buf_alloc(${ret}, ${num(a[0], 'length')}, ${table(KIND, a[1], 'buffer kind')}, ${table(PROT, a[2], 'protection')});\n\tr = ${ret};`;
    case 'free':
      return `r = buf_free(${num(a[0], 'handle')});`;
    case 'fill':
      return `fill(${a.slice(0, 5).map((x) => num(x, 'fill argument')).join(', ')});\n\tr = 0;`;
    case 'check':
      return `r = check(${a.slice(0, 5).map((x) => num(x, 'check argument')).join(', ')});`;
    case 'mprotect':
      return `r = mprotect(${ptr(a[0], a[1])}, ${num(a[2], 'length')}, ${table(PROT, a[3], 'protection')});`;
    case 'munmap':
      return `r = munmap(${ptr(a[0], a[1])}, ${num(a[2], 'length')});`;
    case 'madvise':
      return `r = madvise(${ptr(a[0], a[1])}, ${num(a[2], 'length')}, ${num(a[3], 'advice')});`;
    case 'mincore':
      return `r = mincore_pages(${num(a[0], 'handle')}, ${num(a[1], 'offset')}, ${num(a[2], 'length')});`;
    case 'xfer':
      return `r = xfer(${fd(ctx, a[0])}, ${at(a[1], a[2])}, ${[a[3], a[4], a[5], a[6] ?? '0'].map((x) => num(x, 'xfer field')).join(', ')});`;
    case 'xfer_raw':
      return `r = xfer(${fd(ctx, a[0])}, ${num(a[1], 'address')}, ${[a[2], a[3], a[4], a[5] ?? '0'].map((x) => num(x, 'xfer field')).join(', ')});`;
    case 'ioctl_raw':
      return `r = ioctl(${fd(ctx, a[0])}, ${num(a[1], 'ioctl command')}, 0);`;
    case 'copy':
      return `r = copy(${fd(ctx, a[0])}, ${at(a[1], a[2])}, ${at(a[3], a[4])}, ${num(a[5], 'length')}, ${num(a[6] ?? '0', 'flags')}, ${num(a[7] ?? '0', 'reserved')});`;
    case 'copy_raw':
      return `r = copy(${fd(ctx, a[0])}, ${num(a[1], 'address')}, ${num(a[2], 'address')}, ${num(a[3], 'length')}, ${num(a[4] ?? '0', 'flags')}, ${num(a[5] ?? '0', 'reserved')});`;
    case 'buf_xfer':
      return `r = buf_xfer(${fd(ctx, a[0])}, ${a.slice(1, 5).map((x) => num(x, 'buf_xfer field')).join(', ')});`;
    case 'mapfd':
      return `r = map_fd(${ret !== undefined && ret >= 0 ? ret : 63}, ${fd(ctx, a[0])}, ${num(a[1], 'length')}, ${num(a[2], 'offset')}, ${table(PROT, a[3], 'protection')});`;
    case 'lseek':
      return `r = lseek(${fd(ctx, a[0])}, ${num(a[1], 'offset')}, ${num(a[2], 'whence')});`;
    case 'read':
    case 'write':
      return `r = ${op}(${fd(ctx, a[0])}, ${ptr(a[1], a[2])}, ${num(a[3], 'length')});`;
    case 'pread':
    case 'pwrite':
      return `r = ${op}(${fd(ctx, a[0])}, ${ptr(a[1], a[2])}, ${num(a[3], 'length')}, ${num(a[4], 'position')});`;
    case 'writefile':
      return writeFile(ctx, a[0]!, Buffer.from(a[1] ?? '', 'hex').toString('utf8'));
    case 'race':
      return raceStatement(ctx, Buffer.from(a[0] ?? '', 'hex').toString('utf8'));
    default:
      throw new UsageError(`trace: the operation "${op}" cannot be written as a standalone reproducer`);
  }
}

// Debugfs and procfs writes; the agent's own pid becomes the reproducer's.
function writeFile(ctx: StepContext, path: string, text: string): string | null {
  if (path === '/dev/kmsg' || path === '/proc/sys/vm/stat_refresh') return null;
  if (path.endsWith('/pid') && ctx.pid !== undefined && text.trim() === String(ctx.pid)) {
    return `r = write_num(${cString(path, ctx.deviceDebugfs)}, getpid());`;
  }
  return `r = write_file(${cString(path, ctx.deviceDebugfs)}, ${cString(text)});`;
}

// A traced call, with the pager around it for the pageout and writeback ops.
export function callStatements(ctx: StepContext, event: CallEvent): string | null {
  const { op, args } = event;
  const ret = event.reply?.ret;
  if (op !== 'pageout' && op !== 'writeback') return statement(ctx, op, args, ret);
  const inner = statement(ctx, args[4]!, args.slice(5), ret);
  if (inner === null) throw new UsageError(`trace: ${op} wraps "${args[4]}", which does nothing in a reproducer`);
  return [
    `pager_start(&pg, ${cString(args[0]!, ctx.deviceDebugfs)}, ${num(args[1], 'handle')}, ${num(args[2], 'offset')}, ${num(args[3], 'length')}, ${op === 'writeback'});`,
    `\t${inner}`,
    '\tpager_end(&pg);',
  ].join('\n');
}

// One call of a race as an initializer of struct race_step (prelude.c).
function raceStep(ctx: StepContext, line: string): string {
  const [who, op, ...a] = line.trim().split(/\s+/);
  // "<actor>[@<start ns>]": a start from the failing run's schedule.
  const [actor, startNs] = (who ?? '').split('@');
  const start = startNs === undefined ? 0n : (num(startNs, 'start'), BigInt(startNs) / 1000n);
  const step = (code: string, fdText: string | undefined, args: readonly string[], text = 'NULL') =>
    `{ ${num(actor, 'actor')}, ${code}, ${fdText === undefined ? '-1' : fd(ctx, fdText)}, { ${[...args, '0', '0', '0', '0', '0'].slice(0, 5).join(', ')} }, ${text}, 0, 0, ${start} }`;
  switch (op) {
    case 'xfer':
      return step('R_XFER', a[0], [at(a[1], a[2]), ...[a[3], a[4], a[5], a[6] ?? '0'].map((x) => num(x, 'xfer field'))]);
    case 'copy':
      return step('R_COPY', a[0], [at(a[1], a[2]), at(a[3], a[4]), num(a[5], 'length'), num(a[6] ?? '0', 'flags'), num(a[7] ?? '0', 'reserved')]);
    case 'buf_xfer':
      return step('R_BUF_XFER', a[0], a.slice(1, 5).map((x) => num(x, 'buf_xfer field')));
    case 'pread':
    case 'pwrite':
      return step(op === 'pread' ? 'R_PREAD' : 'R_PWRITE', a[0], [at(a[1], a[2]), num(a[3], 'length'), num(a[4], 'position')]);
    case 'read':
    case 'write':
      return step(op === 'read' ? 'R_READ' : 'R_WRITE', a[0], [at(a[1], a[2]), num(a[3], 'length')]);
    case 'close':
      return step('R_CLOSE', a[0], []);
    case 'munmap':
      return step('R_MUNMAP', undefined, [at(a[0], a[1]), num(a[2], 'length')]);
    case 'fork':
      return step('R_FORK', undefined, []);
    case 'writefd':
      return step('R_WRITEFD', a[0], [], cString(Buffer.from(a[1] ?? '', 'hex').toString('utf8')));
    case 'ping':
      return step('R_PING', undefined, []);
    case 'maptouch':
      return step('R_MAPTOUCH', a[0], [num(a[1], 'seed'), num(a[2] ?? '0', 'slot')]);
    case 'rmmod':
      return step('R_RMMOD', undefined, [], cString(a[0] ?? ''));
    case 'insmodfd':
      return step('R_INSMODFD', a[0], []);
    default:
      throw new UsageError(`trace: a race holds the operation "${op}", which a reproducer cannot run`);
  }
}

function raceStatement(ctx: StepContext, script: string): string {
  const steps = script.split('\n').filter((l) => l.trim()).map((l) => `\t\t${raceStep(ctx, l)},`);
  return `{\n\t\tstruct race_step steps[] = {\n${steps.map((l) => `\t${l}`).join('\n')}\n\t\t};\n\n\t\tr = race_run(steps, ${steps.length});\n\t}`;
}
