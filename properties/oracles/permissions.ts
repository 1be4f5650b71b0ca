// Every node the driver creates (its device node, its debugfs files, its
// module parameters) has the mode and owner the table says, nothing it creates
// is missing from the table, and a process without root gets EACCES where it
// must: user space may never reach the DMA engine, the ledger or the fault knobs.
import { DEVICE_NODE, DEVICE_NODES, type Guest, PATHS } from '../guest.js';
import { PropertyFailure } from '../failure.js';
import type { Machine } from '../../vm/machine.js';

type Kind = 'char' | 'dir' | 'file';

interface Rule {
  readonly pattern: RegExp;
  readonly kind: Kind;
  readonly mode: string;
}

const DEBUGFS = PATHS.debugfs;
const PARAMS = PATHS.parameters;
const escape = (path: string) => path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
// A pattern of whole paths: `tail` is a regular expression after the escaped `head`.
const under = (head: string, tail = '') => new RegExp(`^${escape(head)}${tail}$`);
const KNOBS = 'armed|probability|interval|times|nth|verbose|pid|seed|errno|pages|timeout_ms';

// All owned by root:root. The first rule whose pattern matches a path applies:
// files before the directories that hold them.
export const PERMISSIONS: readonly Rule[] = [
  { pattern: DEVICE_NODES, kind: 'char', mode: '600' },
  { pattern: under(`${DEBUGFS}/sites`), kind: 'file', mode: '400' },
  { pattern: under(`${DEBUGFS}/objects`), kind: 'file', mode: '400' },
  { pattern: under(DEBUGFS, '/[0-9a-f:.]+/ledger'), kind: 'file', mode: '400' },
  { pattern: /\/faults\/summary$/, kind: 'file', mode: '400' },
  { pattern: /\/faults\/[a-z_]+\/(injected|evaluated|waiting)$/, kind: 'file', mode: '400' },
  { pattern: /\/faults\/[a-z_]+\/release$/, kind: 'file', mode: '200' },
  { pattern: new RegExp(`/faults/[a-z_]+/(${KNOBS})$`), kind: 'file', mode: '600' },
  { pattern: under(DEBUGFS, '(/[0-9a-f:.]+(/faults(/[a-z_]+)?)?)?'), kind: 'dir', mode: '755' },
  { pattern: under(PARAMS), kind: 'dir', mode: '755' },
  { pattern: under(`${PARAMS}/dma_timeout_ms`), kind: 'file', mode: '644' },
  { pattern: under(`${PARAMS}/probe_fault`), kind: 'file', mode: '600' },
];

// What a process with uid and gid 65534 (nobody) gets from open(2).
const NOBODY = 65534;
const EACCES = 13;
export const UNPRIVILEGED: readonly { readonly path: string; readonly mode: 'r' | 'w' | 'rw'; readonly errno: number }[] = [
  { path: DEVICE_NODE, mode: 'rw', errno: EACCES },
  { path: DEVICE_NODE, mode: 'r', errno: EACCES },
  { path: `${DEBUGFS}/sites`, mode: 'r', errno: EACCES },
  { path: `${DEBUGFS}/objects`, mode: 'r', errno: EACCES },
  { path: `${PARAMS}/probe_fault`, mode: 'w', errno: EACCES },
  { path: `${PARAMS}/dma_timeout_ms`, mode: 'w', errno: EACCES },
  { path: `${PARAMS}/dma_timeout_ms`, mode: 'r', errno: 0 },
];

// `stat -c '%a %u %g %F %n'` lines -> what differs from the table.
export function permissionProblems(statOutput: string): string[] {
  const problems: string[] = [];
  for (const line of statOutput.split('\n').filter(Boolean)) {
    const m = /^(\d+) (\d+) (\d+) (.+?) (\/\S+)$/.exec(line);
    if (!m) {
      problems.push(`unreadable stat line "${line}"`);
      continue;
    }
    const [, mode, uid, gid, type, path] = m as unknown as [string, string, string, string, string, string];
    const kind: Kind | undefined = type.startsWith('character') ? 'char' : type === 'directory' ? 'dir' : type.includes('regular') ? 'file' : undefined;
    const rule = PERMISSIONS.find((r) => r.pattern.test(path));
    if (!rule) problems.push(`${path}: not in the permission table (mode ${mode})`);
    else if (rule.kind !== kind || rule.mode !== mode) problems.push(`${path}: ${type} mode ${mode}, the table says ${rule.kind} mode ${rule.mode}`);
    if (uid !== '0' || gid !== '0') problems.push(`${path}: owned by ${uid}:${gid}, not root`);
  }
  return problems;
}

// Each guest's last verdict: the nodes change only when the driver binds or
// loads, which check again (see checkPermissionsOnce).
const verdicts = new WeakMap<Machine, string>();

// At a sequence's start: the guest's last verdict, the same failure included
// (so a shrunk or replayed sequence fails as the first did), or a check on a
// guest not checked since the driver last bound or loaded. A check costs
// about half a second on the debug kernel (a fork per open_as).
export async function checkPermissionsOnce(machine: Machine, guest: Guest): Promise<void> {
  const verdict = verdicts.get(machine);
  if (verdict === undefined) return checkPermissions(machine, guest);
  if (verdict) throw new PropertyFailure(verdict);
}

// The driver bound or loaded outside a checked command (a sequence's restore).
export function forgetPermissions(machine: Machine): void {
  verdicts.delete(machine);
}

export async function checkPermissions(machine: Machine, guest: Guest): Promise<void> {
  verdicts.delete(machine);
  try {
    await checkNodes(machine, guest);
    verdicts.set(machine, '');
  } catch (err) {
    if (err instanceof PropertyFailure) verdicts.set(machine, err.message);
    throw err;
  }
}

async function checkNodes(machine: Machine, guest: Guest): Promise<void> {
  const { stdout, code, stderr } = await machine.exec(`stat -c '%a %u %g %F %n' ${DEVICE_NODE.replace(/\d+$/, '')}* $(find ${DEBUGFS} ${PARAMS})`);
  if (code !== 0) throw new PropertyFailure(`listing the driver's nodes failed: ${stderr.trim()}`);
  const problems = permissionProblems(stdout);
  for (const want of UNPRIVILEGED) {
    const reply = await guest.call('open_as', NOBODY, want.path, want.mode);
    const got = reply.ret < 0 ? reply.errno : 0;
    if (got !== want.errno) problems.push(`uid ${NOBODY} opening ${want.path} for ${want.mode}: ${got ? `errno ${got}` : 'allowed'}, must be ${want.errno ? `errno ${want.errno}` : 'allowed'}`);
  }
  if (problems.length) throw new PropertyFailure(`permissions: ${problems.join('; ')}`);
}
