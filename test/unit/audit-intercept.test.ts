// The audit through dmatap: call sites read from objdump's relocations, dmatap's
// per-site counters parsed, and a collector that counts failures per call site.
import { describe, expect, it } from 'vitest';
import { callSiteName, interceptedSites, type LocatedCallSite, parseCallSites } from '../../audit/call-sites.js';
import { AuditCollector } from '../../audit/collector.js';
import { parseTapSites } from '../../audit/counters.js';
import { renderAuditText } from '../../audit/render-text.js';
import { parseAuditReport } from '../../audit/report.js';
import { failsCall } from '../../faults/points.js';
import { UsageError } from '../../vm/errors.js';

// Trimmed from `objdump -dr --no-show-raw-insn edu_dma.ko` of a DMAFI=n build.
const OBJDUMP = `
edu_dma.ko:     file format elf64-x86-64


Disassembly of section .text:

00000000000002c0 <edu_open>:
     2c0:	call   2c5 <edu_open+0x5>
			2c1: R_X86_64_PLT32	__fentry__-0x4
     2e9:	mov    $0xdc0,%esi
     2ee:	call   2f3 <edu_open+0x33>
			2ef: R_X86_64_PLT32	kmalloc_trace-0x4
     3ee:	call   3f3 <edu_open+0x133>
			3ef: R_X86_64_PLT32	kfree-0x4
     3f3:	mov    0x0(%rip),%rax        # 3fa <edu_open+0x13a>
			3f6: R_X86_64_PC32	kfree-0x4

0000000000000550 <edu_remove>:
     754:	pop    %r15
     756:	jmp    75b <edu_remove+0x20b>
			757: R_X86_64_PLT32	kfree-0x4

0000000000001150 <edu_pinned_put>:
    11ae:	pop    %rbx
    11af:	jmp    11b4 <edu_pinned_put+0x64>
			11b0: R_X86_64_PLT32	kvfree-0x4

00000000000011e0 <edu_pinned_get>:
    12a7:	call   12ac <edu_pinned_get+0xcc>
			12a8: R_X86_64_PLT32	pin_user_pages_fast-0x4
    12d8:	call   1150 <edu_pinned_put>
    12dd:	add    $0x20,%rsp

Disassembly of section .init.text:

0000000000000000 <init_module>:
      10:	call   15 <init_module+0x15>
			11: R_X86_64_PLT32	kmalloc_trace-0x4
`;

const FUNCTIONS = { kmalloc_trace: ['kmalloc_fail'], kfree: [], kvfree: [], pin_user_pages_fast: ['gup_fail', 'gup_partial', 'pageout', 'writeback'], dma_sync_sg_for_cpu: [] };

describe('parseCallSites', () => {
  const sites = parseCallSites(OBJDUMP, new Set(Object.keys(FUNCTIONS)));

  it('names each call by its return address in the caller, as %pB does', () => {
    expect(sites.map((s) => `${callSiteName(s)} ${s.section}${s.tail ? ' tail' : ''}`)).toEqual([
      'kmalloc_trace@edu_open+0x33 .text',
      'kfree@edu_open+0x133 .text',
      'kfree@edu_remove+0x206 .text tail',
      'kvfree@edu_pinned_put+0x5f .text tail',
      'pin_user_pages_fast@edu_pinned_get+0xcc .text',
      'kmalloc_trace@init_module+0x15 .init.text',
    ]);
  });

  it("finds where dmatap sees a tail jump: after each of the module's calls of the jumping function", () => {
    expect(sites.find((s) => s.fn === 'kvfree')!.seenAt).toEqual(['edu_pinned_get+0xfd']);
    expect(sites.find((s) => s.caller === 'edu_remove')!.seenAt).toEqual([]);
    expect(sites.filter((s) => !s.tail).every((s) => s.seenAt.length === 0)).toBe(true);
  });

  it('skips functions not intercepted and references that are not calls or jumps', () => {
    expect(sites.some((s) => s.fn === '__fentry__')).toBe(false);
    expect(sites.filter((s) => s.caller === 'edu_open' && s.fn === 'kfree')).toHaveLength(1);
  });
});

describe('interceptedSites', () => {
  const located: LocatedCallSite[] = parseCallSites(OBJDUMP, new Set(Object.keys(FUNCTIONS))).map((s, i) => ({ ...s, file: 'edu_core.c', line: 100 + i }));
  const { located: sites, others, aliases } = interceptedSites(located, FUNCTIONS, failsCall);

  it('makes the calls of functions a point can fail the sites, and lists the rest', () => {
    expect(sites.sites.map((s) => s.name)).toEqual(['kmalloc_trace@edu_open+0x33', 'pin_user_pages_fast@edu_pinned_get+0xcc', 'kmalloc_trace@init_module+0x15']);
    expect(sites.sites[1]!.description).toBe('pin_user_pages_fast (gup_fail, gup_partial, pageout, writeback)');
    expect(others.map((o) => [o.name, o.tail])).toEqual([
      ['kfree@edu_open+0x133', false],
      ['kfree@edu_remove+0x206', true],
      ['kvfree@edu_pinned_put+0x5f', false],
    ]);
    expect(sites.problems).toEqual([]);
    expect([...aliases]).toEqual([['kvfree@edu_pinned_get+0xfd', 'kvfree@edu_pinned_put+0x5f']]);
  });

  it('names a fallible call made by a tail jump nothing in the module calls as a problem: dmatap cannot see it', () => {
    const tail = interceptedSites([{ ...located[0]!, tail: true }], FUNCTIONS, failsCall);
    expect(tail.located.problems).toEqual([expect.stringMatching(/^kmalloc_trace@edu_open\+0x33 is a tail jump from a function the module does not call/)]);
  });
});

describe('parseTapSites', () => {
  it('keys each line by function and return address, with injections per point', () => {
    const text = [
      'pin_user_pages_fast edu_dma+0x12ac 40 3 edu_pinned_get+0xcc/0x200 gup_fail=2 pageout=1',
      'kfree edu_dma+0x3f3 7 0 edu_open+0x133/0x170',
      '',
    ].join('\n');
    expect(parseTapSites(text)).toEqual({
      'pin_user_pages_fast@edu_pinned_get+0xcc': { fn: 'pin_user_pages_fast', calls: 40, points: { gup_fail: 2, pageout: 1 } },
      'kfree@edu_open+0x133': { fn: 'kfree', calls: 7, points: {} },
    });
  });

  it('refuses a malformed line with the line and the expected shape', () => {
    expect(() => parseTapSites('kfree edu_dma+0x3 7 0 ?')).toThrow(UsageError);
    expect(() => parseTapSites('kfree edu_dma+0x3 7 0 edu_open+0x1/0x2 gup_fail:2', 'sites')).toThrow(/sites:1: expected "<point>=<count>", got "gup_fail:2"/);
    expect(() => parseTapSites('kfree edu_dma+0x3 x 0 edu_open+0x1/0x2')).toThrow(/expected a counter/);
    expect(() => parseTapSites('kfree a 1 0 f+0x1/0x2\nkfree b 1 0 f+0x1/0x2')).toThrow(/:2: kfree@f\+0x1 appears twice/);
  });
});

describe('AuditCollector through dmatap', () => {
  const environment = { kernel: '6.1.0-57-amd64', qemu: '7.2.22', driverHash: 'abc', driverVariant: null, dmafault: '0.1.0' };
  const located: LocatedCallSite[] = parseCallSites(OBJDUMP, new Set(Object.keys(FUNCTIONS))).map((s) => ({ ...s, file: 'edu_core.c', line: 1 }));
  const { located: sites, others, aliases } = interceptedSites(located, FUNCTIONS, failsCall);

  it('counts failures, calls and handled injections per call site, pauses apart', () => {
    const c = new AuditCollector(sites, ['gup_fail', 'gup_partial', 'kmalloc_fail', 'pageout'], others, aliases);
    const pin = 'pin_user_pages_fast@edu_pinned_get+0xcc';
    const open = 'kmalloc_trace@edu_open+0x33';
    c.add({ property: 'faults', profile: 'direct', injected: { gup_fail: 1 }, sites: { [pin]: 1 }, sitePoints: { [pin]: { gup_fail: 1 } }, calls: { [pin]: 1, 'kfree@edu_open+0x133': 2 }, findings: 0 });
    c.add({ property: 'faults', profile: 'direct', injected: { pageout: 1 }, sites: {}, sitePoints: { [pin]: { pageout: 1 } }, calls: { [pin]: 1 }, findings: 0 });
    c.add({ property: 'lifecycle', profile: 'iommu', injected: { kmalloc_fail: 1 }, sites: { [open]: 1 }, sitePoints: { [open]: { kmalloc_fail: 1 } }, calls: { [open]: 1 }, findings: 1 });
    c.add({ property: 'faults', profile: 'direct', injected: {}, sites: {}, calls: { 'kfree@elsewhere+0x1': 1, 'kvfree@edu_pinned_get+0xfd': 3 }, findings: 0 });
    const report = parseAuditReport(JSON.stringify(c.report({ environment, created: '2026-12-05T00:00:00.000Z' })));
    expect(report.mode).toBe('intercept');
    const byName = Object.fromEntries(report.sites.map((s) => [s.name, s]));
    expect(byName[pin]).toMatchObject({ hits: 1, calls: 2, handled: 1, reached: true, byPoint: { gup_fail: 1, pageout: 1, gup_partial: 0, kmalloc_fail: 0, none: 0 } });
    expect(byName[open]).toMatchObject({ hits: 1, calls: 1, handled: 0, reached: true });
    expect(byName['kmalloc_trace@init_module+0x15']).toMatchObject({ hits: 0, reached: false });
    expect(report.coverage).toEqual({ reached: 2, total: 3, percent: 66.6 });
    expect(report.others).toEqual([
      { name: 'kfree@edu_open+0x133', fn: 'kfree', file: 'edu_core.c', line: 1, tail: false, calls: 2 },
      { name: 'kfree@edu_remove+0x206', fn: 'kfree', file: 'edu_core.c', line: 1, tail: true, calls: 0 },
      { name: 'kvfree@edu_pinned_put+0x5f', fn: 'kvfree', file: 'edu_core.c', line: 1, tail: false, calls: 3 },
    ]);
    expect(report.problems).toEqual([expect.stringMatching(/^the interceptor counted 1 calls or injections at kfree@elsewhere\+0x1, a call site the module's code does not have/)]);
    const text = renderAuditText(report);
    expect(text).toContain('dmafault audit through dmatap');
    expect(text).toMatch(/never failed \(1\):\n\s+kmalloc_trace@init_module\+0x15/);
    expect(text).toMatch(/kfree@edu_remove\+0x206\s+edu_core.c:1\s+tail jump: not seen/);
    expect(text).toMatch(/call sites failed: 2\/3 \(66\.6%\)\n$/);
  });

  it('refuses handled above the failures in a report file', () => {
    const c = new AuditCollector(sites, ['gup_fail'], others);
    c.add({ property: 'faults', profile: 'direct', injected: {}, sites: {}, calls: {}, findings: 0 });
    const raw = c.report({ environment, created: '2026-12-05T00:00:00.000Z' });
    const bad = { ...raw, sites: raw.sites.map((s, i) => (i ? s : { ...s, handled: 5 })) };
    expect(() => parseAuditReport(JSON.stringify(bad), 'a.json')).toThrow(/a.json: sites\[0\].handled: expected at most hits \(0\), got 5/);
  });
});
