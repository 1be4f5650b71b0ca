// The call sites of a module that an interceptor sees: every call (and tail
// jump) in the module's code to one of the intercepted functions, read from
// the relocations of the built .ko (objdump -dr), each named as the kernel
// names a return address (%pB: caller+0xOFFSET) and placed at its source line
// with addr2line. A tail jump leaves no return address in the module: the
// interceptor sees the caller's caller there, so such a site is marked `tail`.
import { basename } from 'node:path';
import { execa } from 'execa';
import { UsageError } from '../vm/errors.js';
import type { OtherCallSite } from './report.js';
import type { SiteLocations } from './site-list.js';

export interface CallSite {
  // The intercepted function called.
  readonly fn: string;
  // The calling function and the offset of the return address in it (of the
  // jump itself for a tail jump): what dmatap's `sites` file prints before "/".
  readonly caller: string;
  readonly offset: number;
  readonly section: string;
  // The instruction's address in its section (for addr2line).
  readonly address: number;
  readonly tail: boolean;
  // Where the interceptor sees a tail jump instead: the return addresses of
  // the module's own calls of the jumping function ("<caller>+0x<offset>").
  readonly seenAt: readonly string[];
}

export interface LocatedCallSite extends CallSite {
  readonly file: string;
  readonly line: number;
}

// "edu_pinned_get+0x8d", as %pB prints the return address.
export const callSiteKey = (s: Pick<CallSite, 'caller' | 'offset'>) => `${s.caller}+0x${s.offset.toString(16)}`;

// A direct call of a function of the module itself: "call 1150 <edu_pinned_put>".
const LOCAL_CALL = /^call\s+[0-9a-f]+ <([^+>]+)>$/;
// A direct call is five bytes: e8 and a 32-bit displacement.
const CALL_LENGTH = 5;

const SECTION = /^Disassembly of section (\S+):$/;
const FUNCTION = /^([0-9a-f]+) <(.+)>:$/;
const INSN = /^\s*([0-9a-f]+):\t(\S+)(.*)$/;
const RELOC = /^\s*([0-9a-f]+): (R_X86_64_PLT32|R_X86_64_PC32)\t([^\s+-]+)/;

// The call sites of `functions` in the text of `objdump -dr --no-show-raw-insn`, in order.
export function parseCallSites(objdump: string, functions: ReadonlySet<string>): CallSite[] {
  const sites: Omit<CallSite, 'seenAt'>[] = [];
  // The module's calls of its own functions, by callee: their return addresses.
  const local = new Map<string, string[]>();
  let section = '';
  let fn: { name: string; start: number } | undefined;
  let insn: { address: number; mnemonic: string; text: string; relocated: boolean } | undefined;
  const closeInsn = () => {
    const callee = insn && fn && !insn.relocated ? LOCAL_CALL.exec(insn.text)?.[1] : undefined;
    if (callee) local.set(callee, [...(local.get(callee) ?? []), callSiteKey({ caller: fn!.name, offset: insn!.address + CALL_LENGTH - fn!.start })]);
    insn = undefined;
  };
  for (const raw of objdump.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const sec = SECTION.exec(line);
    if (sec) {
      closeInsn();
      section = sec[1]!;
      fn = undefined;
      continue;
    }
    const head = FUNCTION.exec(line);
    if (head) {
      closeInsn();
      fn = { name: head[2]!, start: Number.parseInt(head[1]!, 16) };
      continue;
    }
    const reloc = RELOC.exec(line);
    if (reloc) {
      if (!fn || !insn) continue;
      insn.relocated = true;
      const kind = insn.mnemonic;
      if (!functions.has(reloc[3]!) || (kind !== 'call' && kind !== 'jmp')) continue;
      const field = Number.parseInt(reloc[1]!, 16);
      // A call's rel32 field is its last four bytes: the return address follows it.
      const tail = kind === 'jmp';
      const at = tail ? insn.address : field + 4;
      sites.push({ fn: reloc[3]!, caller: fn.name, offset: at - fn.start, section, address: insn.address, tail });
      continue;
    }
    const ins = INSN.exec(line);
    if (ins && fn) {
      closeInsn();
      insn = { address: Number.parseInt(ins[1]!, 16), mnemonic: ins[2]!, text: `${ins[2]}${ins[3]}`.trim(), relocated: false };
    }
  }
  closeInsn();
  return sites.map((s) => ({ ...s, seenAt: s.tail ? (local.get(s.caller) ?? []) : [] }));
}

async function tool(cmd: string, args: string[]): Promise<string> {
  const result = await execa(cmd, args, { reject: false });
  if (result.exitCode !== 0) {
    const why = result.failed && result.exitCode === undefined ? `${cmd} is not installed (binutils)` : `${cmd} ${args.join(' ')} failed: ${result.stderr.trim().split('\n').slice(-3).join(' ')}`;
    throw new UsageError(`listing the call sites of a module: ${why}`);
  }
  return result.stdout;
}

// Source file (its name) and line of each site, from the module's debug
// information ("?" and 0 where it has none). A call made inside an inline
// function is placed where the outermost function calls it: the driver's line.
async function sourceLines(ko: string, sites: readonly CallSite[]): Promise<LocatedCallSite[]> {
  const located = new Map<CallSite, LocatedCallSite>();
  for (const section of new Set(sites.map((s) => s.section))) {
    const here = sites.filter((s) => s.section === section);
    const out = await tool('addr2line', ['-a', '-i', '-e', ko, '-j', section, ...here.map((s) => s.address.toString(16))]);
    // One group per address: "0x<address>", then its locations, innermost first.
    const groups = out.split(/^0x[0-9a-f]+$/m).slice(1).map((g) => g.trim().split('\n').filter(Boolean));
    here.forEach((s, i) => {
      const m = /^(.*):(\d+)(?: \(discriminator \d+\))?$/.exec(groups[i]?.at(-1)?.trim() ?? '');
      const known = m !== null && m[1] !== '??';
      located.set(s, { ...s, file: known ? basename(m[1]!) : '?', line: known ? Number(m[2]) : 0 });
    });
  }
  return sites.map((s) => located.get(s)!);
}

// The call sites of `functions` in the module file `ko`, with their source lines.
export async function locateCallSites(ko: string, functions: readonly string[]): Promise<LocatedCallSite[]> {
  const text = await tool('objdump', ['-dr', '--no-show-raw-insn', ko]);
  return sourceLines(ko, parseCallSites(text, new Set(functions)));
}

// A call site's name in an audit: "<fn>@<caller>+0x<offset>".
export const callSiteName = (s: Pick<CallSite, 'fn' | 'caller' | 'offset'>) => `${s.fn}@${callSiteKey(s)}`;

// The audit's view of a module's call sites: those of functions a point can
// fail are its sites (reached when a failure was injected there); the others
// (releases, syncs) are listed with their calls. `functions` maps each
// intercepted function to the points that act on it.
export function interceptedSites(
  sites: readonly LocatedCallSite[],
  functions: Readonly<Record<string, readonly string[]>>,
  failing: (point: string) => boolean,
): { located: SiteLocations; others: OtherCallSite[]; aliases: Map<string, string> } {
  const fallible = (s: LocatedCallSite) => (functions[s.fn] ?? []).some(failing);
  const located: SiteLocations = {
    sites: sites.filter(fallible).map((s) => ({ name: callSiteName(s), description: `${s.fn} (${functions[s.fn]!.join(', ')})`, file: s.file, line: s.line })),
    problems: sites
      .filter((s) => fallible(s) && s.tail && !s.seenAt.length)
      .map((s) => `${callSiteName(s)} is a tail jump from a function the module does not call: dmatap sees a caller outside the module there, so it can neither count nor fail this call`),
  };
  const others = sites.filter((s) => !fallible(s)).map((s) => ({ name: callSiteName(s), fn: s.fn, file: s.file, line: s.line, tail: s.tail && !s.seenAt.length }));
  // What dmatap calls a tail jump's site: the return address of each call of the jumping function.
  const aliases = new Map(sites.flatMap((s) => s.seenAt.map((at): [string, string] => [`${s.fn}@${at}`, callSiteName(s)])));
  return { located, others, aliases };
}
