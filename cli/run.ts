// `dmafault run`: provision, boot a guest per DMA profile, load the driver, run
// the property suite, print a summary; exit status 1 when any property failed.
import { properties as allProperties, findProperty, type PropertyEntry } from '../properties/registry.js';
import { formatFailure, runProperty } from '../properties/runner.js';
import type { PropertyReport } from '../reproduce/report.js';
import { GuestSession } from '../properties/session.js';
import { SiteSampler } from '../properties/site-sampler.js';
import { TapSiteSampler } from '../properties/tap-sampler.js';
import { interceptedSites, locateCallSites } from '../audit/call-sites.js';
import { failsCall } from '../faults/points.js';
import { AuditCollector } from '../audit/collector.js';
import { type AuditReport, writeAuditReport } from '../audit/report.js';
import { locateSites } from '../audit/site-list.js';
import type { DriverBuild } from '../vm/build/driver.js';
import { cacheDir, cacheRoot } from '../vm/cache.js';
import { DEFAULT_BASE } from '../docker/image.js';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { recordEnvironment } from '../reproduce/failure-file.js';
import { writeJunit } from '../reproduce/junit.js';
import { toFailureFile, writeFailureFile } from '../reproduce/write-failure.js';
import { DmafaultError, UsageError } from '../vm/errors.js';
import { version } from '../vm/project-root.js';
import { qemuVersion } from '../vm/qemu/version.js';
import { type Progress, stderrProgress } from '../vm/progress.js';
import { profileNames } from '../vm/qemu/profiles.js';
import { type BootExtras, type Environment, profileByName, setup } from '../vm/setup.js';
import { checkDockerOptions, dockerHelp, dockerRun } from '../docker/run.js';
import { runLanes } from './lanes.js';
import { environmentHelp, environmentOptions, integer, parse, setupOptions } from './options.js';
import { joinSlices } from './slices.js';
import { parseShard, type SlicedUnit, shardUnits, sliceUnits, suiteUnits } from './units.js';
import { addCounts, type ProfileReport, type RunSummary, type Shard, tally } from '../suite/summary.js';
import { dmafiHooks, dmatapHooks } from '../faults/hooks.js';
import { driverUnderTest } from '../target/index.js';

export const runHelp = `usage: dmafault run [options]
Boots a guest per DMA profile, loads the driver and runs the property suite.
  --property NAME        run one property (${allProperties.map((p) => p.name).join(', ')})
  --seed N --path P      replay a failure exactly (printed with every failure)
  --replay-path R        ... and, for command sequences, the path inside it; for a race, its schedule
  --runs N               cases per property (default: each property's own)
  --profile NAME         DMA profile: ${profileNames().join(', ')} or all (default: all)
  --variant NAME         use a bug variant of the driver (driver/bugs/NAME.patch)
  --intercept            judge the driver built without its fault hooks (DMAFI=n):
                         dmatap (driver/dmatap), loaded before it, arms the faults
                         and counts what the driver holds (the driver's own ledger
                         keeps only what dmatap cannot see); its findings fail a case
  --keep-logs            keep each VM's console and QEMU logs
  --failures DIR         where failure files go (default: ./dmafault-failures)
  --junit FILE           also write the results as JUnit XML
  --jobs N               run up to N guests at once, each a profile's properties
                         one after another (default: the number of cores, ${availableParallelism()} here)
  --shard I/N            run only the I-th of N slices of the suite (a slice: every
                         N-th property-on-a-profile); with --json, for dmafault merge
${dockerHelp}
Every run keeps which error sites of the driver it reached: dmafault audit --last.
${environmentHelp}`;

interface RunPlan {
  readonly properties: PropertyEntry[];
  readonly profiles: string[];
  readonly seed?: number;
  readonly path?: string;
  readonly replayPath?: string;
  readonly numRuns?: number;
  readonly variant: string | null;
  // Faults and held resources through dmatap, the driver built without hooks.
  readonly intercept: boolean;
  readonly keepLogs: boolean;
  readonly failuresDir: string;
  readonly replayArgs: string[];
  readonly jobs: number;
  readonly shard?: Shard;
}

export const runOptions = {
  ...environmentOptions,
  property: { type: 'string' },
  seed: { type: 'string' },
  path: { type: 'string' },
  'replay-path': { type: 'string' },
  runs: { type: 'string' },
  profile: { type: 'string', default: 'all' },
  variant: { type: 'string' },
  intercept: { type: 'boolean', default: false },
  'keep-logs': { type: 'boolean', default: false },
  failures: { type: 'string', default: 'dmafault-failures' },
  junit: { type: 'string' },
  jobs: { type: 'string' },
  shard: { type: 'string' },
  docker: { type: 'boolean', default: false },
  shards: { type: 'string' },
  'docker-host': { type: 'string', multiple: true },
  'docker-base': { type: 'string' },
} as const;

type RunValues = ReturnType<typeof parse<typeof runOptions>>['values'];

function parseRun(argv: string[]) {
  return planRun(parse('run', argv, runOptions).values);
}

// The plan of a suite run from parsed `run` options (audit takes the same).
export function planRun(values: RunValues) {
  const seed = integer('seed', values.seed, -(2 ** 31), 2 ** 31 - 1);
  const numRuns = integer('runs', values.runs, 1, 1_000_000);
  if (values.path !== undefined && !/^\d+(:\d+)*$/.test(values.path)) throw new UsageError(`--path must look like 12:0:3 (from a failure report); got "${values.path}"`);
  if (values.path !== undefined && seed === undefined) throw new UsageError('--path needs the --seed it was printed with');
  const entry = values.property ? findProperty(values.property) : undefined;
  if (values.property && !entry) throw new UsageError(`unknown property "${values.property}"; expected one of: ${allProperties.map((p) => p.name).join(', ')}`);
  if (values.path !== undefined && !entry) throw new UsageError('--path replays one property: add --property');
  const profiles = values.profile === 'all' ? profileNames() : [profileByName(values.profile).name];
  if (values.path !== undefined && profiles.length > 1) throw new UsageError('--path replays one profile: add --profile');
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  if (shard && values.path !== undefined) throw new UsageError('--path replays one failure: it takes no --shard');
  const plan: RunPlan = {
    properties: entry ? [entry] : [...allProperties],
    profiles,
    seed,
    path: values.path,
    replayPath: values['replay-path'],
    numRuns,
    variant: values.variant ?? null,
    intercept: values.intercept,
    keepLogs: values['keep-logs'],
    failuresDir: values.failures,
    jobs: integer('jobs', values.jobs, 1, 64) ?? availableParallelism(),
    shard,
    replayArgs: [
      ...(values.variant ? [`--variant ${values.variant}`] : []),
      ...(values.intercept ? ['--intercept'] : []),
      ...(values.kernel ? [`--kernel ${values.kernel} --kernel-build ${values['kernel-build']}`] : []),
      ...(values.flavour === 'debug' ? ['--flavour debug'] : []),
    ],
  };
  return { values, plan };
}

// A guest session for one profile; its sampler counts the error sites each case reaches.
function profileSession(env: Environment, plan: RunPlan, profile: string, lane: number, progress: Progress, driver: DriverBuild, collector: AuditCollector, companion: Companion | undefined): GuestSession {
  const tag = guestTag(plan, profile, lane);
  const session = new GuestSession(async ({ cpus }) => {
    const machine = await env.boot(profile, driver, { keepLogs: plan.keepLogs, cpus, ...(companion ? { companion } : {}) });
    progress(`[${tag}] guest ${machine.restored ? 'restored' : 'up'} in ${Math.round(machine.bootMs)} ms (${env.kernel.release}, ${env.kernel.flavour}, ${env.accel}, ${cpus} vCPU${cpus > 1 ? 's' : ''})`);
    if (machine.snapshotNote) progress(`[${tag}] snapshot: ${machine.snapshotNote}`);
    return machine;
  }, (m) => progress(`[${tag}] ${m}`), companion ? dmatapHooks : dmafiHooks);
  // The driver's error sites are counted by its hooks; without them, dmatap counts its call sites.
  session.sampler = companion ? new TapSiteSampler(collector, profile, { sites: dmatapHooks.sites!, ledger: dmatapHooks.ledger! }) : new SiteSampler(collector, profile);
  return session;
}

// Progress names the guest when several run at once: "[direct g2]".
const guestTag = (plan: RunPlan, profile: string, lane: number) => (plan.jobs > 1 ? `${profile} g${lane}` : profile);

// One property on one profile. After a harness error the profile's later
// properties are skipped: they would meet the same broken guest or host.
async function runUnit(unit: SlicedUnit<PropertyEntry>, session: GuestSession, lane: number, plan: RunPlan, broken: Set<string>, progress: Progress): Promise<ProfileReport | undefined> {
  const { profile, property: entry, slice } = unit;
  if (broken.has(profile)) return undefined;
  const tag = guestTag(plan, profile, lane);
  const part = slice ? ` (slice ${slice.index}/${slice.count}: ${slice.runs} cases)` : '';
  progress(`[${tag}] property ${entry.name}${part}: ${entry.describe}`);
  const started = performance.now();
  const report = await runProperty(entry, session, {
    seed: plan.seed,
    path: plan.path,
    replayPath: plan.replayPath,
    numRuns: slice?.runs ?? plan.numRuns,
    replayArgs: [`--profile ${profile}`, ...plan.replayArgs],
  }).catch((err: unknown) => harnessFailure(err, entry.name, plan.seed, performance.now() - started));
  if (report.harnessError) {
    broken.add(profile);
    progress(`[${tag}] property ${entry.name}: not judged, the harness failed (${report.harnessError.code}); the profile's later properties are skipped:\n${report.harnessError.message}`);
  } else {
    progress(report.passed ? `[${tag}] property ${entry.name}${part ? ` slice ${slice!.index}/${slice!.count}` : ''}: ${report.cases} cases passed (${Math.round(report.durationMs)} ms)` : formatFailure(report));
  }
  return { ...report, profile };
}

// An infrastructure error from a property run, as a report without a verdict;
// anything else (a usage error, a bug of dmafault) is thrown on.
type Companion = NonNullable<BootExtras['companion']>;

function harnessFailure(err: unknown, property: string, seed: number | undefined, durationMs: number): PropertyReport {
  if (!(err instanceof DmafaultError) || err.kind !== 'infra') throw err;
  return { property, passed: false, cases: 0, shrinks: 0, seed: seed ?? 0, durationMs, harnessError: { code: err.code, message: err.message } };
}

export interface SuiteResult {
  readonly summary: RunSummary;
  readonly reports: ProfileReport[];
  readonly audit: AuditReport;
}

// Runs the suite the plan asks for; failures get failure files. The error sites
// each case reached are collected, and the audit is kept as the last run's.
export async function runSuite(values: RunValues, plan: RunPlan, progress: Progress): Promise<SuiteResult> {
  const started = performance.now();
  const env = await setup({ ...setupOptions(values), progress });
  const driver = await env.driver(plan.variant, { faults: !plan.intercept });
  const companion = plan.intercept ? { ko: (await env.dmatap()).ko, params: `target=${driverUnderTest.module}` } : undefined;
  const collector = await auditCollector(driver, plan.intercept);
  const reports: ProfileReport[] = [];
  const faultsInjected: Record<string, number> = {};
  let reboots = 0;
  const environment = await recordEnvironment(env, driver, await qemuVersion(), version(), plan.intercept);
  const all = suiteUnits(plan.profiles, plan.properties);
  const mine = plan.shard ? shardUnits(all, plan.shard) : all;
  // A seed fixes which cases run: a replay or a rerun is not split.
  const units = plan.seed === undefined ? sliceUnits(mine, plan.jobs, (p) => plan.numRuns ?? p.numRuns) : mine;
  const broken = new Set<string>();
  const sessions: GuestSession[] = [];
  const outcomes = await runLanes(units, plan.jobs, {
    key: (unit) => unit.profile,
    open: (profile, lane) => {
      const session = profileSession(env, plan, profile, lane, progress, driver, collector, companion);
      sessions.push(session);
      return session;
    },
    close: (session) => session.close(),
    run: (unit, session, lane) => runUnit(unit, session, lane, plan, broken, progress),
  });
  const joined = mine.map((u) => outcomes.filter((r, i): r is ProfileReport => r !== undefined && units[i]!.index === u.index)).filter((r) => r.length).map(joinSlices);
  for (const report of joined) {
    // A finding after the cases (kmemleak) names no case to replay.
    if (report.passed || report.path === undefined) {
      reports.push(report);
      continue;
    }
    const failureFile = await writeFailureFile(plan.failuresDir, toFailureFile(report, report.profile, environment));
    progress(`[${report.profile}] failure file: ${failureFile}\n  replay it: npx dmafault repro ${failureFile}`);
    reports.push({ ...report, failureFile });
  }
  for (const session of sessions) {
    reboots += session.reboots;
    addCounts(faultsInjected, session.faultsInjected);
  }
  const summary: RunSummary = {
    ...tally(reports),
    profiles: [...new Set(units.map((u) => u.profile))],
    kernel: env.kernel.release,
    flavour: env.kernel.flavour,
    accel: env.accel,
    driver: { hash: driver.hash, variant: driver.variant, ...(plan.intercept ? { intercept: true } : {}) },
    faults_injected: faultsInjected,
    reboots,
    duration_ms: Math.round(performance.now() - started),
    ...(plan.shard ? { shard: plan.shard } : {}),
  };
  const { accel: _accel, ...auditEnvironment } = environment;
  const audit = collector.report({ environment: auditEnvironment });
  await writeAuditReport(await lastAuditPath(env.cache), audit);
  return { summary, reports, audit };
}

// The audit's sites: the error sites the driver's hooks mark, or, through
// dmatap, the driver's calls of the functions dmatap intercepts (from its .ko).
async function auditCollector(driver: DriverBuild, intercept: boolean): Promise<AuditCollector> {
  if (!intercept) return new AuditCollector(await locateSites(driver.sourceDir, 'driver'));
  const functions = dmatapHooks.functions!;
  const { located, others, aliases } = interceptedSites(await locateCallSites(driver.ko, Object.keys(functions)), functions, failsCall);
  return new AuditCollector(located, dmatapHooks.points, others, aliases);
}

// Where the audit of the last suite run is kept (dmafault audit --last reads it).
export async function lastAuditPath(cache: string): Promise<string> {
  return join(await cacheDir(cache, 'audit'), 'last-run.json');
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${runHelp}\n`);
    return 0;
  }
  const { values, plan } = parseRun(argv);
  checkDockerOptions(values);
  if (values.docker) return runInDocker(values, plan);
  const { summary, reports, audit } = await runSuite(values, plan, stderrProgress());
  if (values.junit) await writeJunit(values.junit, reports);
  // A shard's JSON carries its audit: dmafault merge joins the shards' audits.
  process.stdout.write(values.json ? `${JSON.stringify(plan.shard ? { ...summary, audit } : summary)}\n` : formatSummary(summary));
  // No verdict beats a verdict: a run the harness could not finish exits 3.
  return summary.errors.length ? 3 : summary.failures.length ? 1 : 0;
}

// The run's own options, as each container's `dmafault run` repeats them.
function forwardedArgs(values: RunValues): string[] {
  const keys = ['property', 'seed', 'path', 'replay-path', 'runs', 'profile', 'variant', 'flavour', 'accel'] as const;
  return [...keys.flatMap((k) => (values[k] === undefined ? [] : [`--${k}`, String(values[k])])), ...(values.intercept ? ['--intercept'] : [])];
}

async function runInDocker(values: RunValues, plan: RunPlan): Promise<number> {
  const shards = integer('shards', values.shards, 1, 64) ?? 1;
  const { summary, audit } = await dockerRun(
    {
      hosts: values['docker-host'] ?? [],
      base: values['docker-base'] ?? DEFAULT_BASE,
      shards,
      jobs: integer('jobs', values.jobs, 1, 64),
      flavour: values.flavour ?? 'stock',
      failuresDir: plan.failuresDir,
      cache: values.cache,
      args: forwardedArgs(values),
    },
    stderrProgress(),
  );
  await writeAuditReport(await lastAuditPath(cacheRoot(values.cache)), audit);
  if (values.junit) await writeJunit(values.junit, summary.properties);
  process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary)}  in Docker: ${summary.docker.image}, ${shards} slice(s) on ${summary.docker.engines.join(', ')}\n`);
  return summary.errors.length ? 3 : summary.failures.length ? 1 : 0;
}

export function formatSummary(s: RunSummary): string {
  const lines = [
    `dmafault run: ${s.cases} cases over ${s.profiles.length} profile(s), ${s.failures.length} failed${s.errors.length ? `, ${s.errors.length} not judged (harness error)` : ''} (${(s.duration_ms / 1000).toFixed(1)} s; kernel ${s.kernel} ${s.flavour}, ${s.accel}, driver ${s.driver.variant ?? 'default'}${s.driver.intercept ? ', DMAFI=n through dmatap' : ''})`,
  ];
  for (const r of s.properties) lines.push(`  ${r.passed ? 'ok  ' : r.harnessError ? 'ERR ' : 'FAIL'} ${r.profile.padEnd(8)} ${r.property} (${r.cases} cases, ${(r.durationMs / 1000).toFixed(1)} s)`);
  const injected = Object.entries(s.faults_injected).map(([p, n]) => `${p} ${n}`).join(', ');
  if (injected) lines.push(`  faults injected: ${injected}`);
  if (s.reboots) lines.push(`  guests replaced after a failure: ${s.reboots}`);
  for (const e of s.errors) lines.push('', `[${e.profile}] property ${e.property}: not judged, the harness failed: ${e.harnessError!.code}: ${e.harnessError!.message.split('\n')[0]}`);
  for (const f of s.failures) lines.push('', `[${f.profile}] ${formatFailure(f)}`, ...(f.failureFile ? [`  failure file: ${f.failureFile}`, `  or: npx dmafault repro ${f.failureFile}`] : []));
  return `${lines.join('\n')}\n`;
}
