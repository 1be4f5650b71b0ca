// Joins the audits of a suite's shards into the audit of the whole suite: the
// same driver's sites, their hits and cases summed column by column.
import { UsageError } from '../vm/errors.js';
import { keyedIn, profileOrder, propertyOrder } from './order.js';
import { type AuditReport, type AuditSite, AUDIT_FORMAT, AUDIT_VERSION, coverageOf, NO_FAULT } from './report.js';

const sum = (records: readonly Record<string, number>[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, n] of Object.entries(r)) out[k] = (out[k] ?? 0) + n;
  return out;
};

const union = (lists: readonly (readonly string[])[]): string[] => [...new Set(lists.flat())];

// `names` label the reports in errors (the shard files).
export function mergeAuditReports(reports: readonly AuditReport[], names: readonly string[]): AuditReport {
  const [first] = reports;
  if (!first) throw new UsageError('merge: no audit to merge');
  const env = JSON.stringify(first.environment);
  reports.forEach((r, i) => {
    if (JSON.stringify(r.environment) !== env) {
      throw new UsageError(`merge: ${names[i]} audited another build (${JSON.stringify(r.environment)}); ${names[0]} audited ${env}: shards must share kernel, QEMU, driver and dmafault`);
    }
    const sites = r.sites.map((s) => `${s.name}@${s.file}:${s.line}`).join(',');
    if (sites !== first.sites.map((s) => `${s.name}@${s.file}:${s.line}`).join(',')) {
      throw new UsageError(`merge: ${names[i]} lists other error sites than ${names[0]}: not the same driver source`);
    }
  });
  const points = [...union(reports.map((r) => r.points)).filter((p) => p !== NO_FAULT), NO_FAULT];
  const sites = first.sites.map((site, i): AuditSite => {
    const all = reports.map((r) => r.sites[i]!);
    const hits = all.reduce((n, s) => n + s.hits, 0);
    const byPoint = sum(all.map((s) => s.byPoint));
    return {
      ...site,
      hits,
      reached: hits > 0,
      byPoint: Object.fromEntries(points.map((p) => [p, byPoint[p] ?? 0])),
      byProperty: keyedIn(sum(all.map((s) => s.byProperty)), propertyOrder),
      byProfile: keyedIn(sum(all.map((s) => s.byProfile)), profileOrder),
      cases: all.reduce((n, s) => n + s.cases, 0),
    };
  });
  return {
    format: AUDIT_FORMAT,
    version: AUDIT_VERSION,
    created: reports.map((r) => r.created).sort().at(-1)!,
    environment: first.environment,
    profiles: profileOrder(reports.flatMap((r) => r.profiles)),
    properties: propertyOrder(reports.flatMap((r) => r.properties)),
    points,
    cases: reports.reduce((n, r) => n + r.cases, 0),
    sites,
    coverage: coverageOf(sites),
    problems: union(reports.map((r) => r.problems)),
  };
}
