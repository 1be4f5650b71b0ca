// Console reports that mean the guest kernel went wrong, in the spirit of
// syzkaller's pkg/report: a frozen table of headers scanned line by line, the
// specific checkers before the generic BUG/WARNING, each knowing where its
// report ends. Formats are those of Linux 6.1 (source files named below).

// What found the problem; one kind per kernel checker, so the harness can name it.
export type CrashKind =
  | 'panic'
  | 'oops'
  | 'bug'
  | 'warning'
  | 'dmar'
  | 'swiotlb-full'
  | 'dma-overflow'
  | 'dma-api'
  | 'kasan'
  | 'kfence'
  | 'ubsan'
  | 'lockdep'
  | 'kmemleak'
  | 'atomic-sleep'
  | 'odebug'
  | 'hung-task'
  | 'rcu-stall'
  | 'soft-lockup'
  | 'oom';

// Where a report stops, never more than `max` lines from its header: at the first later line matching `at` (kept, then an optional `trailer` line and the indented lines under it), or before the first line not matching `while`.
export type ReportEnd =
  | { readonly at: RegExp; readonly trailer?: RegExp; readonly max: number }
  | { readonly while: RegExp; readonly max: number };

// A header line, the checker it belongs to and how its report ends; `viaWarn`: printed through WARN(), so a WARNING splat carrying this line is this checker's report.
export interface CrashPattern {
  readonly kind: CrashKind;
  readonly pattern: RegExp;
  readonly end: ReportEnd;
  readonly viaWarn?: boolean;
}

// One finding: its kind, its header line without the printk timestamp, and the report's lines.
export interface CrashReport {
  readonly kind: CrashKind;
  readonly title: string;
  readonly excerpt: string;
}

const INDENTED = /^\s+\S/;
// oops_exit(), __warn() and panic() close with this marker (kernel/panic.c).
const TRACE_END = /---\[ end (?:trace|Kernel panic)/;
const TRACE: ReportEnd = { at: TRACE_END, max: 60 };
// KASAN (mm/kasan/report.c), KFENCE (mm/kfence/report.c) and UBSAN (lib/ubsan.c) open and close with a ==== rule.
const RULE: ReportEnd = { at: /^={20,}$/, max: 200 };
// Reports that finish with dump_stack() or show_regs() end with the task stack (arch/x86/kernel/dumpstack.c).
const STACK: ReportEnd = { at: /^\s*<\/TASK>$/, max: 200 };
// A one-line message and any indented lines under it.
const LINE: ReportEnd = { while: INDENTED, max: 60 };
// WARN() from err_printk(), then dump_entry_trace(): "DMA-API: Mapped at:" and frames (kernel/dma/debug.c).
const DMA_API: ReportEnd = { at: TRACE_END, trailer: /^DMA-API: Mapped at:$/, max: 60 };
// print_unreferenced(): header then indented lines, with the pr_fmt prefix on the console (mm/kmemleak.c).
const LEAK: ReportEnd = { while: /^(?:kmemleak: )?\s+\S/, max: 60 };
// lockdep_sys_exit() prints no stack: ident, rule, one line, the held locks (kernel/locking/lockdep.c).
const HELD: ReportEnd = {
  while: /^(?:\S+ #\S+ (?:Not tainted|Tainted: )|-{10,}$|.+ is leaving the kernel with locks still held!$|(?:\d+ locks?|no locks) held by | #\d+: )/,
  max: 60,
};

// lockdep headers from kernel/locking/lockdep.c (6.1 says WARNING:, older kernels BUG:).
const LOCKDEP =
  /\b(?:WARNING|BUG): (?:possible (?:circular locking dependency|recursive locking|irq lock inversion dependency) detected|inconsistent lock state|\S+-safe -> \S+-unsafe lock order detected|bad unlock balance detected|held lock freed|suspicious RCU usage|Nested lock was not taken|bad contention detected|.+\/\d+ still has locks held|chain_key collision)|\[ BUG: Invalid wait context \]/;

// The table, most specific first: the first matching entry names the report.
export const crashTable: readonly CrashPattern[] = Object.freeze([
  { kind: 'panic', pattern: /Kernel panic - not syncing/, end: TRACE },
  { kind: 'kasan', pattern: /\bBUG: KASAN: /, end: RULE },
  { kind: 'kfence', pattern: /\bBUG: KFENCE: /, end: RULE },
  { kind: 'ubsan', pattern: /\bUBSAN: \S+ in /, end: RULE },
  { kind: 'lockdep', pattern: LOCKDEP, end: STACK },
  { kind: 'lockdep', pattern: /\b(?:WARNING|BUG): lock held when returning to user space/, end: HELD },
  { kind: 'atomic-sleep', pattern: /\bBUG: (?:sleeping function called from invalid context|scheduling while atomic)/, end: STACK },
  { kind: 'soft-lockup', pattern: /\bBUG: soft lockup - CPU#\d+ stuck for /, end: STACK },
  { kind: 'hung-task', pattern: /\bINFO: task .+:\d+ blocked for more than \d+ seconds/, end: STACK },
  { kind: 'rcu-stall', pattern: /\bINFO: rcu_\w+ (?:self-detected stall|detected (?:expedited )?stalls)/, end: STACK },
  // mm/oom_kill.c: a guest out of memory kills a process (dropbear, the agent): name that, not the lost connection.
  { kind: 'oom', pattern: /\binvoked oom-killer: gfp_mask=/, end: { at: /\bOut of memory: Killed process \d+ /, max: 200 } },
  { kind: 'kmemleak', pattern: /\bunreferenced object 0x[\da-f]+ \(size \d+\):|\bkmemleak: \d+ new suspected memory leaks/, end: LEAK },
  { kind: 'dma-api', pattern: /\bDMA-API: (?:\S+ \S+: |exceeded \d+ overlapping mappings)/, end: DMA_API, viaWarn: true },
  { kind: 'odebug', pattern: /\bODEBUG: (?:\S+ \S+ \(active state \d+\)|object \S+ is (?:NOT )?on stack)/, end: TRACE, viaWarn: true },
  { kind: 'dma-overflow', pattern: /\b(?:DMA|swiotlb) addr .* overflow/, end: TRACE, viaWarn: true },
  { kind: 'bug', pattern: /\bBUG: /, end: TRACE },
  { kind: 'bug', pattern: /kernel BUG at /, end: TRACE },
  { kind: 'oops', pattern: /\bOops: /, end: TRACE },
  { kind: 'oops', pattern: /general protection fault/, end: TRACE },
  { kind: 'warning', pattern: /\bWARNING: /, end: TRACE },
  { kind: 'dmar', pattern: /DMAR: \[DMA (Read|Write)/, end: LINE },
  { kind: 'swiotlb-full', pattern: /swiotlb buffer is full/, end: LINE },
]);

const LABELS: Readonly<Record<CrashKind, string>> = Object.freeze({
  panic: 'kernel panic',
  oops: 'oops',
  bug: 'kernel BUG',
  warning: 'kernel WARNING',
  dmar: 'Intel IOMMU (DMAR)',
  'swiotlb-full': 'swiotlb',
  'dma-overflow': 'DMA addressing check',
  'dma-api': 'DMA-API debug',
  kasan: 'KASAN',
  kfence: 'KFENCE',
  ubsan: 'UBSAN',
  lockdep: 'lockdep',
  kmemleak: 'kmemleak',
  'atomic-sleep': 'atomic-sleep check',
  odebug: 'debugobjects',
  'hung-task': 'hung-task detector',
  'rcu-stall': 'RCU stall detector',
  'soft-lockup': 'soft-lockup watchdog',
  oom: 'OOM killer',
});

// A short name for what found the report, for messages like "found by KASAN: <title>".
export function describeKind(kind: CrashKind): string {
  return LABELS[kind];
}

// The table entry whose header this console line is, if any.
export function matchCrash(line: string): CrashPattern | undefined {
  return crashTable.find((entry) => entry.pattern.test(line));
}

// The printk text of a console line: no "\r", no "[   12.345678] " (or caller id) prefix, indentation kept.
function messageOf(line: string): string {
  return line.replace(/\r/g, '').replace(/^\[\s*\d+\.\d+\](?:\[\s*[TC]\d+\])? ?/, '');
}

// Index just past the last line of the report whose header is lines[start].
function reportEnd(lines: readonly string[], start: number, end: ReportEnd): number {
  const limit = Math.min(lines.length, start + end.max);
  const text = (i: number) => messageOf(lines[i] ?? '');
  let i = start + 1;
  if ('while' in end) {
    while (i < limit && end.while.test(text(i))) i++;
    return i;
  }
  while (i < limit && !end.at.test(text(i))) i++;
  if (i === limit) return i;
  i++;
  if (end.trailer && i < lines.length && end.trailer.test(text(i))) {
    i++;
    while (i < lines.length && INDENTED.test(text(i))) i++;
  }
  return i;
}

// The reports whose headers lie in lines[from..], one per report (not per matching line), each with 3 lines of context before it.
export function findReports(lines: readonly string[], from = 0): CrashReport[] {
  const reports: CrashReport[] = [];
  for (let i = Math.max(0, from); i < lines.length; i++) {
    let hit = matchCrash(lines[i] ?? '');
    if (!hit) continue;
    let title = lines[i] ?? '';
    let end = reportEnd(lines, i, hit.end);
    if (hit.kind === 'warning') {
      // Where WARN() prints its message after the WARNING line, the message names the checker.
      for (let j = i + 1; j < end; j++) {
        const inner = matchCrash(lines[j] ?? '');
        if (!inner?.viaWarn) continue;
        hit = inner;
        title = lines[j] ?? '';
        end = reportEnd(lines, i, inner.end);
        break;
      }
    }
    reports.push({ kind: hit.kind, title: messageOf(title).trim(), excerpt: lines.slice(Math.max(0, i - 3), end).join('\n') });
    i = end - 1;
  }
  return reports;
}
