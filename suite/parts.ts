// The --json outputs of run --shard I/N, one per machine or container: each
// checked for what joining needs, and all of them joined into one summary
// (dmafault merge, and run --docker --shards N).
import { mergeAuditReports } from '../audit/merge.js';
import { type AuditReport, parseAuditReport } from '../audit/report.js';
import { properties as registry } from '../properties/registry.js';
import { UsageError } from '../vm/errors.js';
import { profileNames } from '../vm/qemu/profiles.js';
import { addCounts, type ProfileReport, type RunSummary, type Shard, tally } from './summary.js';

export interface ShardPart {
  readonly file: string;
  readonly summary: RunSummary & { readonly shard: Shard };
  readonly audit: AuditReport;
}

function need(file: string, ok: boolean, what: string): void {
  if (!ok) throw new UsageError(`merge: ${file}: ${what}`);
}

// One shard's output, checked for what merging needs.
export function parsePart(file: string, text: string): ShardPart {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`merge: ${file}: not valid JSON (${(err as Error).message}); expected the output of dmafault run --shard I/N --json`, { cause: err });
  }
  const s = raw as Record<string, unknown>;
  need(file, typeof raw === 'object' && raw !== null && !Array.isArray(raw), 'expected a JSON object (dmafault run --shard I/N --json)');
  const shard = s.shard as Record<string, unknown> | undefined;
  need(file, typeof shard === 'object' && shard !== null && Number.isInteger(shard.index) && Number.isInteger(shard.count) && (shard.index as number) >= 1 && (shard.index as number) <= (shard.count as number), 'no "shard": {"index", "count"}; was it run with --shard I/N?');
  need(file, s.audit !== undefined, 'no "audit"; was it run with --shard I/N --json?');
  for (const key of ['cases', 'reboots', 'duration_ms'] as const) need(file, Number.isSafeInteger(s[key]) && (s[key] as number) >= 0, `"${key}" must be a non-negative integer`);
  for (const key of ['properties', 'failures', 'errors', 'profiles'] as const) need(file, Array.isArray(s[key]), `"${key}" must be an array`);
  for (const key of ['kernel', 'flavour', 'accel'] as const) need(file, typeof s[key] === 'string', `"${key}" must be a string`);
  need(file, typeof s.driver === 'object' && s.driver !== null && typeof (s.driver as { hash?: unknown }).hash === 'string', '"driver" must be {"hash", "variant"}');
  need(file, typeof s.faults_injected === 'object' && s.faults_injected !== null, '"faults_injected" must be an object');
  (s.properties as unknown[]).forEach((p, i) => {
    const r = p as Record<string, unknown>;
    need(file, typeof r === 'object' && r !== null && typeof r.profile === 'string' && typeof r.property === 'string' && typeof r.passed === 'boolean' && Number.isFinite(r.durationMs), `properties[${i}] is not a property report (profile, property, passed, durationMs)`);
  });
  const audit = parseAuditReport(JSON.stringify(s.audit), `${file}: audit`);
  return { file, summary: raw as ShardPart['summary'], audit };
}

const order = (list: readonly string[], name: string) => {
  const i = list.indexOf(name);
  return i < 0 ? list.length : i;
};

// The suite's summary from all of its shards.
export function mergeParts(parts: readonly ShardPart[]): RunSummary & { readonly shards: number; readonly audit: AuditReport } {
  const [first] = parts;
  if (!first) throw new UsageError('merge: no shard files given');
  const count = first.summary.shard.count;
  const seen = new Map<number, string>();
  for (const { file, summary: s } of parts) {
    need(file, s.shard.count === count, `is shard ${s.shard.index}/${s.shard.count}, but ${first.file} is one of ${count}`);
    const twin = seen.get(s.shard.index);
    need(file, twin === undefined, `is shard ${s.shard.index}/${count}, as ${twin} is`);
    seen.set(s.shard.index, file);
    for (const key of ['kernel', 'flavour'] as const) need(file, s[key] === first.summary[key], `ran ${key} ${s[key]}, ${first.file} ran ${first.summary[key]}`);
    need(file, s.driver.hash === first.summary.driver.hash && s.driver.variant === first.summary.driver.variant, `ran driver ${s.driver.hash} (${s.driver.variant ?? 'default'}), ${first.file} ran ${first.summary.driver.hash} (${first.summary.driver.variant ?? 'default'})`);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length) throw new UsageError(`merge: shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')} missing: a merged summary needs all ${count}`);

  const profiles = profileNames();
  const names = registry.map((p) => p.name);
  const reports: ProfileReport[] = parts
    .flatMap((p) => p.summary.properties)
    .sort((a, b) => order(profiles, a.profile) - order(profiles, b.profile) || order(names, a.property) - order(names, b.property));
  const faults: Record<string, number> = {};
  for (const p of parts) addCounts(faults, p.summary.faults_injected);
  return {
    ...tally(reports),
    profiles: [...new Set(reports.map((r) => r.profile))],
    kernel: first.summary.kernel,
    flavour: first.summary.flavour,
    accel: [...new Set(parts.map((p) => p.summary.accel))].join(', '),
    driver: first.summary.driver,
    faults_injected: faults,
    reboots: parts.reduce((n, p) => n + p.summary.reboots, 0),
    // The shards ran side by side: the slowest one's time.
    duration_ms: Math.max(...parts.map((p) => p.summary.duration_ms)),
    shards: count,
    audit: mergeAuditReports(
      parts.map((p) => p.audit),
      parts.map((p) => p.file),
    ),
  };
}
