import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CrashKind, crashTable, describeKind, findReports, matchCrash } from '../../vm/console/crash-table.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/console/${name}`, import.meta.url), 'utf8');
const linesOf = (text: string) => text.replace(/\n$/, '').split('\n');

interface Expected {
  readonly kind: CrashKind;
  readonly title: string;
  // Lines the excerpt must hold.
  readonly has: readonly string[];
  // The report's last line, and the line that follows it in the log (not in the excerpt).
  readonly last: string;
  readonly next: string;
}

const RULE66 = '='.repeat(66);
const ENGINE = '(&edu->engine_lock){+.+.}-{3:3}, at: edu_engine_lock+0x3c/0x90 [edu_dma]';

// Console logs written the way a 6.1 x86_64 debug kernel prints each checker's report.
const fixtures: readonly (readonly [string, readonly Expected[]])[] = [
  ['kasan-uaf.log', [{
    kind: 'kasan',
    title: 'BUG: KASAN: use-after-free in edu_irq+0x2a/0x80 [edu_dma]',
    has: ['Read of size 4 at addr ffff888004c3e208 by task swapper/0/0', ' edu_irq+0x2a/0x80 [edu_dma]', 'Freed by task 97:', ' edu_release+0x6e/0xa0 [edu_dma]', 'Memory state around the buggy address:'],
    last: RULE66,
    next: 'Disabling lock debugging due to kernel taint',
  }]],
  ['lockdep-circular.log', [{
    kind: 'lockdep',
    title: 'WARNING: possible circular locking dependency detected',
    has: ['dmafault-agent/97 is trying to acquire lock:', 'but task is already holding lock:', '-> #1 (&edu->engine_lock)', ' *** DEADLOCK ***', 'stack backtrace:', ' edu_release+0x4a/0xa0 [edu_dma]'],
    last: ' </TASK>',
    next: 'dmafault: case 4 done',
  }]],
  ['lockdep-held.log', [{
    kind: 'lockdep',
    title: 'WARNING: lock held when returning to user space!',
    has: ['dmafault-agent/97 is leaving the kernel with locks still held!', '1 lock held by dmafault-agent/97:'],
    last: ` #0: ffff888004d28170 ${ENGINE}`,
    next: 'dmafault: case 5 done',
  }]],
  ['dma-api-pending.log', [{
    kind: 'dma-api',
    title: 'DMA-API: pci 0000:00:04.0: device driver has pending DMA allocations while released from device [count=1]',
    has: ['One of leaked entries details: [device address=0x0000000004c40000] [size=4096 bytes]', 'WARNING: CPU: 0 PID: 131 at kernel/dma/debug.c:859', ' edu_exit+0x10/0x24 [edu_dma]', '---[ end trace 0000000000000000 ]---', 'DMA-API: Mapped at:'],
    last: ' edu_open+0x9b/0x140 [edu_dma]',
    next: 'dmafault: edu_dma unloaded',
  }]],
  ['kmemleak.log', [
    {
      kind: 'kmemleak',
      title: 'kmemleak: unreferenced object 0xffff888004e5c700 (size 64):',
      has: ['kmemleak:   comm "dmafault-agent", pid 97, jiffies 4294912870', 'kmemleak:   hex dump (first 32 bytes):', 'kmemleak:   backtrace:', 'edu_zc_pin+0x6d/0x2c0 [edu_dma]'],
      last: 'entry_SYSCALL_64_after_hwframe+0x64/0xce',
      next: 'kmemleak: unreferenced object 0xffff888004f3a000 (size 512):',
    },
    {
      kind: 'kmemleak',
      title: 'kmemleak: unreferenced object 0xffff888004f3a000 (size 512):',
      has: ['sg_alloc_append_table_from_pages+0x4a1/0x6b0', 'dmafi_sg_alloc_table_from_pages+0x3e/0x80 [edu_dma]'],
      last: 'edu_zc_pin+0x13b/0x2c0 [edu_dma]',
      next: 'kmemleak: 2 new suspected memory leaks',
    },
    {
      kind: 'kmemleak',
      title: 'kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)',
      has: [],
      last: 'kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)',
      next: 'dmafault: case 8: mmap after close',
    },
  ]],
  ['ubsan-shift.log', [{
    kind: 'ubsan',
    title: 'UBSAN: shift-out-of-bounds in /root/.cache/dmafault/build/driver-6.1.192-3f9c2a1b/edu_engine.c:112:27',
    has: ["shift exponent 32 is too large for 32-bit type 'unsigned int'", ' edu_dma_run+0x1a2/0x2e0 [edu_dma]', ' </TASK>'],
    last: '='.repeat(80),
    next: 'dmafault: case 9 done',
  }]],
  ['atomic-sleep.log', [
    {
      kind: 'atomic-sleep',
      title: 'BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580',
      has: ['in_atomic(): 1, irqs_disabled(): 1, non_block: 0, pid: 97, name: dmafault-agent', 'preempt_count: 1, expected: 0', ' __might_resched.cold+0xfe/0x12d', ' edu_buf_lock+0x4e/0x90 [edu_dma]'],
      last: ' </TASK>',
      next: 'BUG: scheduling while atomic',
    },
    {
      kind: 'atomic-sleep',
      title: 'BUG: scheduling while atomic: dmafault-agent/97/0x00000002',
      has: [' __schedule_bug.cold+0x8a/0x9b', ' edu_buf_lock+0x4e/0x90 [edu_dma]'],
      last: ' </TASK>',
      next: 'dmafault: case 10 done',
    },
  ]],
  ['odebug.log', [{
    kind: 'odebug',
    title: 'ODEBUG: free active (active state 0) object type: timer_list hint: edu_dma_timeout+0x0/0x60 [edu_dma]',
    has: ['WARNING: CPU: 0 PID: 133 at lib/debugobjects.c:515 debug_print_object', ' edu_remove+0x9a/0xd0 [edu_dma]'],
    last: '---[ end trace 0000000000000000 ]---',
    next: 'dmafault: edu_dma unloaded',
  }]],
  ['kfence.log', [{
    kind: 'kfence',
    title: 'BUG: KFENCE: use-after-free read in edu_irq+0x2a/0x80 [edu_dma]',
    has: ['Use-after-free read at 0x00000000f1e2d3c4 (in kfence-#42):', 'kfence-#42: 0x00000000f1e2d3c4-0x00000000a9b8c7d6, size=64, cache=kmalloc-64', 'freed by task 97 on cpu 0 at 35.198802s:'],
    last: RULE66,
    next: 'dmafault: case 13 done',
  }]],
  ['hung-task.log', [{
    kind: 'hung-task',
    title: 'INFO: task dmafault-agent:97 blocked for more than 30 seconds.',
    has: ['"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.', 'task:dmafault-agent  state:D', ' edu_dma_run+0x1c8/0x2e0 [edu_dma]'],
    last: ' </TASK>',
    next: 'Showing all locks held in the system:',
  }]],
  ['rcu-stall.log', [{
    kind: 'rcu-stall',
    title: 'rcu: INFO: rcu_sched self-detected stall on CPU',
    has: ['(5249 ticks this GP)', '\t(t=5250 jiffies g=5417 q=139 ncpus=1)', 'RIP: 0010:edu_dma_timed_out+0x4e/0xb0 [edu_dma]'],
    last: ' </TASK>',
    next: 'dmafault: case 15 done',
  }]],
  ['soft-lockup.log', [{
    kind: 'soft-lockup',
    title: 'watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [dmafault-agent:97]',
    has: ['Modules linked in: edu_dma(O)', 'RIP: 0010:edu_dma_timed_out+0x4e/0xb0 [edu_dma]', ' edu_ioctl+0x1d3/0x2a0 [edu_dma]'],
    last: ' </TASK>',
    next: 'dmafault: case 16 done',
  }]],
  ['oom.log', [{
    kind: 'oom',
    title: 'dropbear invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0',
    has: ['Mem-Info:', '42802 pages reserved'],
    last: 'Out of memory: Killed process 55 (dropbear)',
    next: 'something after the report',
  }]],
];

describe('crash table: one report per checker report', () => {
  describe.each(fixtures)('%s', (file, expected) => {
    const reports = findReports(linesOf(fixture(file)));

    it('yields exactly the reports it holds, in order', () => {
      expect(reports.map((r) => [r.kind, r.title])).toEqual(expected.map((e) => [e.kind, e.title]));
    });

    it.each(expected.map((e, i) => [i, e] as const))('report %i: excerpt holds its lines and stops at its end', (i, want) => {
      const excerpt = reports[i]?.excerpt ?? '';
      const lines = excerpt.split('\n');
      expect(excerpt).toContain(want.title);
      for (const line of want.has) expect(excerpt).toContain(line);
      expect(lines.at(-1)).toContain(want.last);
      expect(excerpt).not.toContain(want.next);
    });

    it('reads the same log with \\r\\n line ends', () => {
      const crlf = findReports(linesOf(fixture(file).replace(/\n/g, '\r\n')));
      expect(crlf.map((r) => [r.kind, r.title, r.excerpt.split('\n').length])).toEqual(reports.map((r) => [r.kind, r.title, r.excerpt.split('\n').length]));
    });
  });

  it('keeps reports apart when they follow each other in one log', () => {
    const files = fixtures.map(([file]) => file);
    const all = findReports(linesOf(files.map((f) => fixture(f)).join('')));
    expect(all.map((r) => r.title)).toEqual(fixtures.flatMap(([, e]) => e.map((x) => x.title)));
  });

  it.each(['clean.log', 'debug-boot.log'])('finds nothing in %s', (file) => {
    expect(findReports(linesOf(fixture(file)))).toEqual([]);
  });

  it('cuts a report longer than 60 lines at its end marker, not at 60 lines', () => {
    const [report] = findReports(linesOf(fixture('kasan-uaf.log')));
    expect(report?.excerpt.split('\n').length).toBeGreaterThan(60);
  });
});

describe('crash table: WARN()-printed checkers', () => {
  // The generic WARN() path (__warn() in kernel/panic.c) prints the message after the WARNING line.
  const warnFirst = (message: string) => [
    '[   41.101234] ------------[ cut here ]------------',
    '[   41.101241] WARNING: CPU: 0 PID: 131 at kernel/dma/debug.c:859 dma_debug_device_change+0x16b/0x220',
    `[   41.101241] ${message}`,
    '[   41.101248] Modules linked in: edu_dma(O-)',
    '[   41.101255] Call Trace:',
    '[   41.101262]  <TASK>',
    '[   41.101269]  edu_exit+0x10/0x24 [edu_dma]',
    '[   41.101276]  </TASK>',
    '[   41.101283] ---[ end trace 0000000000000000 ]---',
    '[   41.101290] DMA-API: Mapped at:',
    '[   41.101297]  edu_open+0x9b/0x140 [edu_dma]',
    '[   41.122906] dmafault: edu_dma unloaded',
  ];

  it('names a WARNING splat carrying a DMA-API message dma-api, after the WARNING line too', () => {
    const message = 'DMA-API: pci 0000:00:04.0: device driver has pending DMA allocations while released from device [count=1]';
    const reports = findReports(warnFirst(message));
    expect(reports.map((r) => [r.kind, r.title])).toEqual([['dma-api', message]]);
    expect(reports[0]?.excerpt).toContain('WARNING: CPU: 0 PID: 131');
    expect(reports[0]?.excerpt).toContain(' edu_open+0x9b/0x140 [edu_dma]');
    expect(reports[0]?.excerpt).not.toContain('dmafault: edu_dma unloaded');
  });

  it('names a WARNING splat carrying an ODEBUG message odebug', () => {
    const message = 'ODEBUG: free active (active state 0) object type: timer_list hint: edu_dma_timeout+0x0/0x60 [edu_dma]';
    expect(findReports(warnFirst(message)).map((r) => [r.kind, r.title])).toEqual([['odebug', message]]);
  });

  it('leaves a plain WARNING a warning', () => {
    expect(findReports(linesOf(fixture('warning.log'))).map((r) => r.kind)).toEqual(['warning']);
  });
});

describe('crash table: headers', () => {
  it.each([
    ['BUG: KASAN: slab-out-of-bounds in edu_dma_run+0x1a2/0x2e0 [edu_dma]', 'kasan'],
    ['BUG: KASAN: double-free in edu_release+0x6e/0xa0 [edu_dma]', 'kasan'],
    ['WARNING: possible recursive locking detected', 'lockdep'],
    ['WARNING: inconsistent lock state', 'lockdep'],
    ['WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected', 'lockdep'],
    ['WARNING: bad unlock balance detected!', 'lockdep'],
    ['WARNING: held lock freed!', 'lockdep'],
    ['BUG: held lock freed!', 'lockdep'],
    ['BUG: lock held when returning to user space!', 'lockdep'],
    ['WARNING: suspicious RCU usage', 'lockdep'],
    ['[ BUG: Invalid wait context ]', 'lockdep'],
    ['unreferenced object 0xffff888003a1b200 (size 64):', 'kmemleak'],
    ['UBSAN: array-index-out-of-bounds in drivers/misc/edu_dma/edu_engine.c:140:9', 'ubsan'],
    ['BUG: KFENCE: out-of-bounds write in edu_dma_run+0x1a2/0x2e0 [edu_dma]', 'kfence'],
    ['BUG: KFENCE: memory corruption in edu_release+0x6e/0xa0 [edu_dma]', 'kfence'],
    ['ODEBUG: free active (active state 0) object: 00000000a1b2c3d4 object type: timer_list hint: edu_dma_timeout+0x0/0x60 [edu_dma]', 'odebug'],
    ['rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:', 'rcu-stall'],
    ['INFO: task insmod:123 blocked for more than 120 seconds.', 'hung-task'],
    ['DMA-API: edu_dma 0000:00:04.0: device driver frees DMA memory with wrong function [device address=0x0000000004c40000] [size=4096 bytes] [mapped as single] [unmapped as page]', 'dma-api'],
    ['Kernel panic - not syncing: softlockup: hung tasks', 'panic'],
    ['BUG: kernel NULL pointer dereference, address: 0000000000000008', 'bug'],
    ['kernel BUG at drivers/misc/edu_dma/edu_engine.c:88!', 'bug'],
    ['general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] SMP KASAN', 'oops'],
    ['WARNING: CPU: 0 PID: 97 at drivers/misc/edu_dma/edu_engine.c:123 edu_dma_run+0x5a/0x1c0 [edu_dma]', 'warning'],
    ['DMAR: [DMA Read NO_PASID] Request device [00:04.0] fault addr 0xffffe000 [fault reason 0x06] PTE Read access is not set', 'dmar'],
    ['edu_dma 0000:00:04.0: swiotlb buffer is full (sz: 8192 bytes), total 32768 (slots), used 32760 (slots)', 'swiotlb-full'],
    ['edu_dma 0000:00:04.0: DMA addr 0x0000000100000000+4096 overflow (mask ffffffff, bus limit 0).', 'dma-overflow'],
  ])('%s -> %s', (header, kind) => {
    expect(matchCrash(`[   12.345678] ${header}`)?.kind).toBe(kind);
  });

  it.each(['DMA-API: Mapped at:', 'DMA-API: preallocated 65536 debug entries', 'INFO: lockdep is turned off.', 'rcu: \tRCU lockdep checking is enabled.'])(
    'does not take "%s" for a report',
    (line) => {
      expect(matchCrash(`[    0.420000] ${line}`)).toBeUndefined();
    },
  );

  it('splits the kmemleak debugfs file (no timestamps, no prefix) into one report per object', () => {
    const file = [
      'unreferenced object 0xffff888004e5c700 (size 64):',
      '  comm "dmafault-agent", pid 97, jiffies 4294912870',
      '  hex dump (first 32 bytes):',
      '    00 00 c4 04 00 00 00 00 00 10 00 00 00 00 00 00  ................',
      '  backtrace:',
      '    [<000000004c7f2a19>] dmafi_kzalloc+0x17/0x30 [edu_dma]',
      'unreferenced object 0xffff888004f3a000 (size 512):',
      '  comm "dmafault-agent", pid 97, jiffies 4294912871',
      '  backtrace:',
      '    [<000000001cf8a7e3>] edu_zc_pin+0x13b/0x2c0 [edu_dma]',
      'dmafault: done',
    ];
    const reports = findReports(file);
    expect(reports.map((r) => r.title)).toEqual([file[0], file[6]]);
    expect(reports[0]?.excerpt.split('\n').at(-1)).toBe(file[5]);
    expect(reports[1]?.excerpt.split('\n').at(-1)).toBe(file[9]);
  });
});

describe('describeKind', () => {
  it('labels every kind in the table', () => {
    for (const { kind } of crashTable) expect(describeKind(kind)).toMatch(/\S/);
  });

  it.each([
    ['kasan', 'KASAN'],
    ['lockdep', 'lockdep'],
    ['kmemleak', 'kmemleak'],
    ['dma-api', 'DMA-API debug'],
  ] as const)('%s -> %s', (kind, label) => {
    expect(describeKind(kind)).toBe(label);
  });
});
