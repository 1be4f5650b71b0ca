import { describe, expect, it } from 'vitest';
import { AuditCollector } from '../../audit/collector.js';
import { belowThreshold, coverageOf, parseThreshold } from '../../audit/report.js';
import type { SiteLocations } from '../../audit/site-list.js';
import { UsageError } from '../../vm/errors.js';

const located: SiteLocations = {
  sites: [
    { name: 'xfer_bad_flags', description: 'bad flags', file: 'driver/edu_core.c', line: 10 },
    { name: 'pin_err_release', description: 'unwind a pin', file: 'driver/edu_zerocopy.c', line: 20 },
    { name: 'map_err_unpin', description: 'unwind a map', file: 'driver/edu_zerocopy.c', line: 30 },
    { name: 'never_hit', description: 'never', file: 'driver/edu_core.c', line: 40 },
  ],
  problems: ['site x is marked nowhere'],
};
const environment = { kernel: '6.1.0-56-amd64', qemu: '7.2.22', driverHash: 'abc', driverVariant: null, dmafault: '0.1.0' };
const created = '2026-11-21T00:00:00.000Z';

function collect(): AuditCollector {
  const c = new AuditCollector(located, ['gup_fail', 'dma_map_fail', 'pageout']);
  c.add({ property: 'badinput', profile: 'direct', injected: {}, sites: { xfer_bad_flags: 2, pin_err_release: 0 } });
  c.add({ property: 'faults', profile: 'direct', injected: { gup_fail: 1, pageout: 0 }, sites: { pin_err_release: 1 } });
  c.add({ property: 'faults', profile: 'iommu', injected: { gup_fail: 1, dma_map_fail: 2 }, sites: { pin_err_release: 1, map_err_unpin: 3 } });
  c.add({ property: 'lifecycle', profile: 'iommu', injected: { gup_fail: 0 }, sites: { xfer_bad_flags: 1 } });
  return c;
}

describe('AuditCollector', () => {
  it('attributes a case to every point that injected, or to none', () => {
    const report = collect().report({ environment, created });
    expect(report.points).toEqual(['gup_fail', 'dma_map_fail', 'pageout', 'none']);
    expect(report.cases).toBe(4);
    expect(report.profiles).toEqual(['direct', 'iommu']);
    expect(report.properties).toEqual(['badinput', 'faults', 'lifecycle']);
    const [flags, pin, map, never] = report.sites;
    expect(flags).toMatchObject({ hits: 3, cases: 2, reached: true, byPoint: { gup_fail: 0, dma_map_fail: 0, pageout: 0, none: 3 } });
    expect(flags!.byProperty).toEqual({ badinput: 2, lifecycle: 1 });
    expect(flags!.byProfile).toEqual({ direct: 2, iommu: 1 });
    expect(pin).toMatchObject({ hits: 2, cases: 2, byPoint: { gup_fail: 2, dma_map_fail: 1, pageout: 0, none: 0 }, byProperty: { faults: 2 } });
    expect(map).toMatchObject({ hits: 3, cases: 1, byPoint: { gup_fail: 3, dma_map_fail: 3, pageout: 0, none: 0 }, byProfile: { iommu: 3 } });
    expect(never).toEqual({
      name: 'never_hit', description: 'never', file: 'driver/edu_core.c', line: 40,
      hits: 0, reached: false, byPoint: { gup_fail: 0, dma_map_fail: 0, pageout: 0, none: 0 }, byProperty: {}, byProfile: {}, cases: 0,
    });
    expect(report.coverage).toEqual({ reached: 3, total: 4, percent: 75 });
    expect(report).toMatchObject({ format: 'dmafault-audit', version: 1, created, environment, problems: ['site x is marked nowhere'] });
  });

  it('adds a column for a point it did not know, and flags sites the header does not declare', () => {
    const c = new AuditCollector(located, ['gup_fail']);
    c.add({ property: 'faults', profile: 'direct', injected: { writeback: 1 }, sites: { pin_err_release: 1, ghost: 4 } });
    const report = c.report({ environment, created });
    expect(report.points).toEqual(['gup_fail', 'writeback', 'none']);
    expect(report.sites[1]!.byPoint).toEqual({ gup_fail: 0, writeback: 1, none: 0 });
    expect(report.problems[1]).toMatch(/counted 4 hits of site ghost, which edu_sites\.h does not declare/);
  });

  it('lists profiles and properties in one order, whatever order parallel cases finished in', () => {
    const c = new AuditCollector(located, ['gup_fail']);
    c.add({ property: 'roundtrip', profile: 'swiotlb', injected: {}, sites: { xfer_bad_flags: 1 } });
    c.add({ property: 'faults', profile: 'iommu', injected: {}, sites: { xfer_bad_flags: 1 } });
    c.add({ property: 'badinput', profile: 'direct', injected: {}, sites: { xfer_bad_flags: 1 } });
    c.add({ property: 'badinput', profile: 'custom', injected: {}, sites: { xfer_bad_flags: 1 } });
    const report = c.report({ environment, created });
    expect(report.profiles).toEqual(['direct', 'swiotlb', 'iommu', 'custom']);
    expect(report.properties).toEqual(['badinput', 'faults', 'roundtrip']);
    expect(Object.keys(report.sites[0]!.byProfile)).toEqual(['direct', 'swiotlb', 'iommu', 'custom']);
    expect(Object.keys(report.sites[0]!.byProperty)).toEqual(['badinput', 'faults', 'roundtrip']);
  });

  it('uses the driver\'s fault points as columns by default', () => {
    const report = new AuditCollector(located).report({ environment });
    expect(report.points.slice(0, 2)).toEqual(['gup_partial', 'gup_fail']);
    expect(report.points.at(-1)).toBe('none');
    expect(Date.parse(report.created)).not.toBeNaN();
  });

  it.each([
    [{ injected: { gup_fail: -1 }, sites: {} }, /injected\.gup_fail: expected a non-negative integer, got -1/],
    [{ injected: {}, sites: { a: 1.5 } }, /sites\.a: expected a non-negative integer, got 1\.5/],
    [{ injected: { none: 1 }, sites: {} }, /"none" is not a fault point/],
  ])('refuses a bad sample %j', (counts, message) => {
    expect(() => new AuditCollector(located).add({ property: 'p', profile: 'direct', ...counts })).toThrow(message);
  });
});

describe('coverage', () => {
  it('rounds down to one decimal, so 100.0 means every site', () => {
    const sites = (reached: number, total: number) => Array.from({ length: total }, (_, i) => ({ reached: i < reached }));
    expect(coverageOf(sites(41, 43))).toEqual({ reached: 41, total: 43, percent: 95.3 });
    expect(coverageOf(sites(1999, 2000)).percent).toBe(99.9);
    expect(coverageOf(sites(3, 3)).percent).toBe(100);
    expect(coverageOf([]).percent).toBe(0);
  });

  it('compares the exact share with a threshold', () => {
    const report = { coverage: { reached: 41, total: 43, percent: 95.3 } };
    expect(belowThreshold(report, 95)).toBe(false);
    expect(belowThreshold(report, 95.35)).toBe(true);
    expect(belowThreshold(report, 100)).toBe(true);
    expect(belowThreshold(report, 0)).toBe(false);
    expect(belowThreshold({ coverage: { reached: 43, total: 43, percent: 100 } }, 100)).toBe(false);
  });

  it.each([-1, 100.5, Number.NaN, Number.POSITIVE_INFINITY, '90' as unknown as number])('refuses the threshold %s', (pct) => {
    expect(() => belowThreshold({ coverage: { reached: 1, total: 1, percent: 100 } }, pct)).toThrow(UsageError);
    expect(() => belowThreshold({ coverage: { reached: 1, total: 1, percent: 100 } }, pct)).toThrow(/expected a percentage from 0 to 100/);
  });

  it('parses a threshold option', () => {
    expect(parseThreshold('95')).toBe(95);
    expect(parseThreshold('99.5%')).toBe(99.5);
    expect(() => parseThreshold('abc', '--min-coverage')).toThrow('--min-coverage: expected a percentage from 0 to 100, got "abc"');
    expect(() => parseThreshold('101')).toThrow(/got "101"/);
    expect(() => parseThreshold('')).toThrow(UsageError);
  });
});
