// Audit reports: which error-handling sites of the driver a suite reached, under
// which fault points, properties and profiles, as JSON. parseAuditReport() refuses
// a malformed, truncated or foreign file with the field and the expectation named.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from '../vm/errors.js';

export const AUDIT_FORMAT = 'dmafault-audit';
export const AUDIT_VERSION = 1;
// The column of site hits during cases in which no fault point injected.
export const NO_FAULT = 'none';

export interface AuditEnvironment {
  readonly kernel: string;
  readonly qemu: string;
  readonly driverHash: string;
  readonly driverVariant: string | null;
  readonly dmafault: string;
}

export interface AuditSite {
  readonly name: string;
  readonly description: string;
  readonly file: string;
  readonly line: number;
  readonly hits: number;
  readonly reached: boolean;
  // A case's hits count under every point that injected during it, or under NO_FAULT.
  readonly byPoint: Record<string, number>;
  readonly byProperty: Record<string, number>;
  readonly byProfile: Record<string, number>;
  // Cases that reached the site.
  readonly cases: number;
  // Intercept mode: a site is a call of a function that can fail, and its hits
  // are the failures injected there; `calls` counts its calls, `handled` the
  // injections after which the case ended without a finding.
  readonly calls?: number;
  readonly handled?: number;
}

// Intercept mode: a call site of a function that cannot fail (a release, a sync).
export interface OtherCallSite {
  readonly name: string;
  readonly fn: string;
  readonly file: string;
  readonly line: number;
  // A tail jump from a function only the kernel calls: the interceptor sees
  // a caller outside the module there, so it counts nothing at this site.
  readonly tail: boolean;
  readonly calls?: number;
}

export interface AuditCoverage {
  readonly reached: number;
  readonly total: number;
  // One decimal, rounded down: 100.0 only when every site was reached (0 with no site).
  readonly percent: number;
}

export interface AuditReport {
  readonly format: typeof AUDIT_FORMAT;
  readonly version: typeof AUDIT_VERSION;
  readonly created: string;
  readonly environment: AuditEnvironment;
  readonly profiles: string[];
  readonly properties: string[];
  // Columns of byPoint: the fault points, then NO_FAULT.
  readonly points: string[];
  readonly cases: number;
  readonly sites: AuditSite[];
  readonly coverage: AuditCoverage;
  readonly problems: string[];
  // 'intercept': the sites are the target's call sites seen by dmatap (see AuditSite).
  readonly mode?: 'intercept';
  readonly others?: OtherCallSite[];
}

// Reached and total sites, and the percentage to one decimal, rounded down.
export function coverageOf(sites: readonly Pick<AuditSite, 'reached'>[]): AuditCoverage {
  const reached = sites.filter((s) => s.reached).length;
  const total = sites.length;
  return { reached, total, percent: total ? Math.floor((reached * 1000) / total) / 10 : 0 };
}

// A coverage threshold given as text (a CLI option): a percentage from 0 to 100.
export function parseThreshold(text: string, option = 'coverage threshold'): number {
  const pct = /^\s*\d+(\.\d+)?\s*%?\s*$/.test(text) ? Number.parseFloat(text) : Number.NaN;
  return checkThreshold(pct, option, JSON.stringify(text));
}

function checkThreshold(pct: unknown, option: string, shown: string): number {
  if (typeof pct !== 'number' || !Number.isFinite(pct) || pct < 0 || pct > 100) {
    throw new UsageError(`${option}: expected a percentage from 0 to 100, got ${shown}`);
  }
  return pct;
}

// Whether fewer than pct percent of the sites were reached (exact, not the rounded percent).
export function belowThreshold(report: Pick<AuditReport, 'coverage'>, pct: number): boolean {
  checkThreshold(pct, 'coverage threshold', String(pct));
  const { reached, total } = report.coverage;
  return reached * 100 < pct * total;
}

class Checker {
  constructor(private readonly source: string) {}

  need(where: string, ok: boolean, expected: string, got?: unknown): void {
    if (!ok) {
      const shown = got === undefined ? 'nothing' : JSON.stringify(got);
      throw new UsageError(`${this.source}: ${where}: expected ${expected}, got ${shown}`);
    }
  }

  object(where: string, v: unknown): Record<string, unknown> {
    this.need(where, typeof v === 'object' && v !== null && !Array.isArray(v), 'an object', v);
    return v as Record<string, unknown>;
  }

  string(where: string, v: unknown, empty = false): string {
    this.need(where, typeof v === 'string' && (empty || v.length > 0), empty ? 'a string' : 'a non-empty string', v);
    return v as string;
  }

  count(where: string, v: unknown): number {
    this.need(where, Number.isSafeInteger(v) && (v as number) >= 0, 'a non-negative integer', v);
    return v as number;
  }

  strings(where: string, v: unknown): string[] {
    this.need(where, Array.isArray(v), 'an array of strings', v);
    (v as unknown[]).forEach((s, i) => this.string(`${where}[${i}]`, s));
    return v as string[];
  }

  counts(where: string, v: unknown, keys?: readonly string[]): void {
    for (const [key, n] of Object.entries(this.object(where, v))) {
      this.need(`${where}.${key}`, !keys || keys.includes(key), `one of ${keys?.join(', ')}`, key);
      this.count(`${where}.${key}`, n);
    }
  }
}

function checkSite(c: Checker, where: string, v: unknown, points: readonly string[]): AuditSite {
  const s = c.object(where, v);
  c.string(`${where}.name`, s.name);
  c.string(`${where}.description`, s.description, true);
  c.string(`${where}.file`, s.file);
  c.count(`${where}.line`, s.line);
  const hits = c.count(`${where}.hits`, s.hits);
  c.need(`${where}.reached`, s.reached === (hits > 0), `${hits > 0} (hits is ${hits})`, s.reached);
  c.counts(`${where}.byPoint`, s.byPoint, points);
  c.counts(`${where}.byProperty`, s.byProperty);
  c.counts(`${where}.byProfile`, s.byProfile);
  c.count(`${where}.cases`, s.cases);
  for (const key of ['calls', 'handled'] as const) if (s[key] !== undefined) c.count(`${where}.${key}`, s[key]);
  if (s.handled !== undefined) c.need(`${where}.handled`, (s.handled as number) <= hits, `at most hits (${hits})`, s.handled);
  return s as unknown as AuditSite;
}

function checkOther(c: Checker, where: string, v: unknown): void {
  const o = c.object(where, v);
  for (const key of ['name', 'fn', 'file'] as const) c.string(`${where}.${key}`, o[key]);
  c.count(`${where}.line`, o.line);
  c.need(`${where}.tail`, typeof o.tail === 'boolean', 'true or false', o.tail);
  if (o.calls !== undefined) c.count(`${where}.calls`, o.calls);
}

// The report in `text`, checked field by field; `source` names the file in errors.
export function parseAuditReport(text: string, source = 'audit report'): AuditReport {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${source}: not valid JSON (${(err as Error).message}); is the file truncated?`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || (raw as { format?: unknown }).format !== AUDIT_FORMAT) {
    throw new UsageError(`${source}: not a dmafault audit report (expected "format": "${AUDIT_FORMAT}")`);
  }
  const c = new Checker(source);
  const r = raw as Record<string, unknown>;
  c.need('version', r.version === AUDIT_VERSION, String(AUDIT_VERSION), r.version);
  c.string('created', r.created);
  const env = c.object('environment', r.environment);
  for (const key of ['kernel', 'qemu', 'driverHash', 'dmafault'] as const) c.string(`environment.${key}`, env[key]);
  c.need('environment.driverVariant', env.driverVariant === null || (typeof env.driverVariant === 'string' && env.driverVariant !== ''), 'a variant name or null', env.driverVariant);
  c.strings('profiles', r.profiles);
  c.strings('properties', r.properties);
  const points = c.strings('points', r.points);
  c.need('points', points.at(-1) === NO_FAULT, `the fault points followed by "${NO_FAULT}"`, points);
  c.count('cases', r.cases);
  c.need('sites', Array.isArray(r.sites), 'an array of sites', r.sites);
  const sites = (r.sites as unknown[]).map((s, i) => checkSite(c, `sites[${i}]`, s, points));
  const cov = c.object('coverage', r.coverage);
  const want = coverageOf(sites);
  c.need('coverage.reached', cov.reached === want.reached, `${want.reached} (the sites with hits)`, cov.reached);
  c.need('coverage.total', cov.total === want.total, `${want.total} (the number of sites)`, cov.total);
  c.need('coverage.percent', cov.percent === want.percent, String(want.percent), cov.percent);
  c.strings('problems', r.problems);
  if (r.mode !== undefined) c.need('mode', r.mode === 'intercept', '"intercept" or no mode', r.mode);
  if (r.others !== undefined) {
    c.need('others', Array.isArray(r.others), 'an array of call sites', r.others);
    (r.others as unknown[]).forEach((o, i) => checkOther(c, `others[${i}]`, o));
  }
  return raw as AuditReport;
}

export async function readAuditReport(file: string): Promise<AuditReport> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read audit report ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseAuditReport(text, file);
}

export async function writeAuditReport(file: string, report: AuditReport): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
}
