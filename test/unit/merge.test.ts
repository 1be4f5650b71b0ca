import { describe, expect, it } from 'vitest';
import { AuditCollector, type CaseSample } from '../../audit/collector.js';
import { mergeAuditReports } from '../../audit/merge.js';
import type { SiteLocations } from '../../audit/site-list.js';
import { mergeParts, parsePart } from '../../suite/parts.js';
import { UsageError } from '../../vm/errors.js';

const located: SiteLocations = {
  sites: [
    { name: 'xfer_bad_flags', description: 'bad flags', file: 'driver/edu_core.c', line: 10 },
    { name: 'pin_err_release', description: 'unwind a pin', file: 'driver/edu_zerocopy.c', line: 20 },
    { name: 'never_hit', description: 'never', file: 'driver/edu_core.c', line: 40 },
  ],
  problems: [],
};
const environment = { kernel: '6.1.0-57-amd64', qemu: '7.2.22', driverHash: 'abc', driverVariant: null, dmafault: '0.1.0' };
const samples: CaseSample[] = [
  { property: 'badinput', profile: 'direct', injected: {}, sites: { xfer_bad_flags: 2 } },
  { property: 'faults', profile: 'direct', injected: { gup_fail: 1 }, sites: { pin_err_release: 1 } },
  { property: 'faults', profile: 'iommu', injected: { gup_fail: 1, dma_map_fail: 2 }, sites: { pin_err_release: 1 } },
  { property: 'lifecycle', profile: 'iommu', injected: {}, sites: { xfer_bad_flags: 1 } },
];
const audit = (of: CaseSample[]) => {
  const c = new AuditCollector(located, ['gup_fail', 'dma_map_fail']);
  for (const s of of) c.add(s);
  return c.report({ environment, created: '2026-12-01T00:00:00.000Z' });
};

const report = (profile: string, property: string, passed = true) => ({ profile, property, passed, cases: 10, shrinks: 0, seed: 1, durationMs: 1000 });
function part(index: number, count: number, properties: ReturnType<typeof report>[], of: CaseSample[], over: object = {}) {
  return JSON.stringify({
    cases: properties.length * 10,
    failures: properties.filter((p) => !p.passed),
    errors: [],
    properties,
    profiles: [...new Set(properties.map((p) => p.profile))],
    kernel: '6.1.0-57-amd64',
    flavour: 'stock',
    accel: 'tcg',
    driver: { hash: 'abc', variant: null },
    faults_injected: { gup_fail: index },
    reboots: 1,
    duration_ms: 1000 * index,
    shard: { index, count },
    audit: audit(of),
    ...over,
  });
}

describe('merging shards', () => {
  it('sums the shards audits to the audit of all their cases', () => {
    const merged = mergeAuditReports([audit(samples.slice(0, 2)), audit(samples.slice(2))], ['a', 'b']);
    expect(merged).toEqual(audit(samples));
  });

  it('joins summaries in suite order, with the slowest shard as the wall time', () => {
    const a = parsePart('a.json', part(1, 2, [report('direct', 'roundtrip'), report('iommu', 'faults', false)], samples.slice(0, 2)));
    const b = parsePart('b.json', part(2, 2, [report('direct', 'faults')], samples.slice(2)));
    const m = mergeParts([b, a]);
    expect(m.properties.map((r) => `${r.profile} ${r.property}`)).toEqual(['direct roundtrip', 'direct faults', 'iommu faults']);
    expect(m).toMatchObject({ cases: 30, shards: 2, reboots: 2, duration_ms: 2000, faults_injected: { gup_fail: 3 }, profiles: ['direct', 'iommu'] });
    expect(m.failures.map((r) => r.property)).toEqual(['faults']);
    expect(m.audit.cases).toBe(4);
  });

  it('refuses missing, doubled or foreign shards, naming the file and what was expected', () => {
    const one = parsePart('a.json', part(1, 3, [report('direct', 'roundtrip')], []));
    const two = parsePart('b.json', part(2, 3, [report('direct', 'faults')], []));
    expect(() => mergeParts([one, two])).toThrow(/shard\(s\) 3\/3 missing: a merged summary needs all 3/);
    expect(() => mergeParts([one, parsePart('c.json', part(1, 3, [], []))])).toThrow(/c\.json: is shard 1\/3, as a\.json is/);
    expect(() => mergeParts([one, parsePart('d.json', part(2, 2, [], []))])).toThrow(/d\.json: is shard 2\/2, but a\.json is one of 3/);
    expect(() => mergeParts([one, parsePart('e.json', part(2, 3, [], [], { kernel: '6.1.0-58-amd64' }))])).toThrow(/e\.json: ran kernel 6\.1\.0-58-amd64/);
    expect(() => mergeParts([one, parsePart('f.json', part(2, 3, [], [], { driver: { hash: 'def', variant: null } }))])).toThrow(/f\.json: ran driver def/);
  });

  it('refuses a file that is not a shard output, saying what it lacks', () => {
    expect(() => parsePart('x.json', '{"cases": 1')).toThrow(/x\.json: not valid JSON/);
    expect(() => parsePart('x.json', '[]')).toThrow(/x\.json: expected a JSON object/);
    expect(() => parsePart('x.json', part(1, 1, [], [], { shard: undefined }))).toThrow(/no "shard".*--shard I\/N/);
    expect(() => parsePart('x.json', part(3, 2, [], []))).toThrow(/no "shard"/);
    expect(() => parsePart('x.json', part(1, 1, [], [], { audit: undefined }))).toThrow(/no "audit"/);
    expect(() => parsePart('x.json', part(1, 1, [], [], { cases: -1 }))).toThrow(/"cases" must be a non-negative integer/);
    expect(() => parsePart('x.json', part(1, 1, [{ profile: 'direct' } as never], []))).toThrow(/properties\[0\] is not a property report/);
    expect(() => parsePart('x.json', part(1, 1, [], [], { audit: { format: 'other' } }))).toThrow(UsageError);
  });
});
