import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditCollector } from '../../audit/collector.js';
import { parseAuditReport, readAuditReport, writeAuditReport } from '../../audit/report.js';
import { UsageError } from '../../vm/errors.js';
import { tempDir } from '../temp-dirs.js';

const collector = new AuditCollector(
  {
    sites: [
      { name: 'xfer_bad_flags', description: 'XFER: flags <bad>', file: 'driver/edu_core.c', line: 10 },
      { name: 'pin_err_release', description: 'pin: unwind', file: 'driver/edu_zerocopy.c', line: 20 },
    ],
    problems: [],
  },
  ['gup_fail'],
);
collector.add({ property: 'faults', profile: 'direct', injected: { gup_fail: 1 }, sites: { pin_err_release: 2 } });
const report = collector.report({
  environment: { kernel: '6.1.0-56-amd64', qemu: '7.2.22', driverHash: 'abc', driverVariant: 'leak-one-pin', dmafault: '0.1.0' },
  created: '2026-11-21T00:00:00.000Z',
});
const text = JSON.stringify(report);
const raw = JSON.parse(text);
const edited = (edit: (r: typeof raw) => void) => {
  const copy = structuredClone(raw);
  edit(copy);
  return JSON.stringify(copy);
};

describe('audit report files', () => {
  it('round-trips through JSON', () => {
    expect(parseAuditReport(text)).toEqual(report);
  });

  it('is written and read back', async () => {
    const file = join(tempDir('dmafault-audit-'), 'out', 'audit.json');
    await writeAuditReport(file, report);
    expect(await readAuditReport(file)).toEqual(report);
    await expect(readAuditReport(`${file}.missing`)).rejects.toThrow(/cannot read audit report .*ENOENT/);
  });

  it.each([
    [text.slice(0, text.length / 2), /audit\.json: not valid JSON .*truncated/],
    ['{"format": "dmafault-failure", "version": 1}', /not a dmafault audit report \(expected "format": "dmafault-audit"\)/],
    ['null', /not a dmafault audit report/],
    [edited((r) => (r.version = 2)), /audit\.json: version: expected 1, got 2/],
    [edited((r) => delete r.created), /created: expected a non-empty string, got nothing/],
    [edited((r) => delete r.environment.qemu), /environment\.qemu: expected a non-empty string, got nothing/],
    [edited((r) => (r.environment.driverVariant = 3)), /environment\.driverVariant: expected a variant name or null, got 3/],
    [edited((r) => (r.profiles = 'direct')), /profiles: expected an array of strings, got "direct"/],
    [edited((r) => (r.points = ['gup_fail'])), /points: expected the fault points followed by "none"/],
    [edited((r) => (r.cases = -1)), /cases: expected a non-negative integer, got -1/],
    [edited((r) => (r.sites = {})), /sites: expected an array of sites/],
    [edited((r) => delete r.sites[1].line), /sites\[1\]\.line: expected a non-negative integer, got nothing/],
    [edited((r) => (r.sites[0].reached = true)), /sites\[0\]\.reached: expected false \(hits is 0\), got true/],
    [edited((r) => (r.sites[1].byPoint.writeback = 1)), /sites\[1\]\.byPoint\.writeback: expected one of gup_fail, none, got "writeback"/],
    [edited((r) => (r.sites[1].byProperty.faults = '2')), /sites\[1\]\.byProperty\.faults: expected a non-negative integer, got "2"/],
    [edited((r) => (r.coverage.reached = 2)), /coverage\.reached: expected 1 \(the sites with hits\), got 2/],
    [edited((r) => (r.coverage.percent = 50.0001)), /coverage\.percent: expected 50, got 50\.0001/],
    [edited((r) => delete r.problems), /problems: expected an array of strings, got nothing/],
  ])('refuses %s', (input, message) => {
    expect(() => parseAuditReport(input, 'audit.json')).toThrow(UsageError);
    expect(() => parseAuditReport(input, 'audit.json')).toThrow(message);
  });
});
