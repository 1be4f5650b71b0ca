// `dmafault bench`: boot time, agent round trip and property throughput,
// measured in one run on this machine and reported as medians.
import { findProperty } from '../properties/registry.js';
import { roundTripProperty, zeroCopyRoundTripCase } from '../properties/roundtrip.js';
import { runProperty } from '../properties/runner.js';
import { GuestSession } from '../properties/session.js';
import type { Machine } from '../vm/machine.js';
import type { DriverBuild } from '../vm/build/driver.js';
import { type Progress, stderrProgress } from '../vm/progress.js';
import { qemuVersion } from '../vm/qemu/version.js';
import { UsageError } from '../vm/errors.js';
import { type Environment, setup } from '../vm/setup.js';
import { environmentHelp, environmentOptions, integer, parse, setupOptions } from './options.js';
import { compare } from './compare.js';
import { measureOverhead } from './overhead.js';
import { measurePropertyCosts } from './property-cost.js';
import { measureDocker, measureSuite, parseJobsList } from './suite-bench.js';
import { median, round } from './stats.js';

export const benchHelp = `usage: dmafault bench [options]
Measures boot_ms (QEMU start to agent ready, cold boot, median), restore_ms (the
same, for a guest restored from its snapshot), rtt_ms (median no-op agent
request), cases_per_s (zero-copy round trip with its leak check, anonymous
buffers), roundtrip_all_paths_cases_per_s (the full roundtrip property), and the
transfer latency with fault hooks compiled out, compiled in and off, and armed
but not firing, and of the driver without hooks under dmatap, loaded and not
armed, and armed but not firing (*_tap_off, *_tap_armed, against hooks_out), on
the host's clock (xfer_us_*, ratio_*) and as guest CPU time on the guest's own
clock at a fixed icount shift (xfer_guest_cpu_us_*, guest_ratio_*,
guest_spread_pct_*: (max - min) / median over the rounds).
  --boots N              cold boots and restores to time (default 3 each)
  --requests N           no-op requests to time (default 1000)
  --cases N              property cases to time (default 300)
  --no-overhead          skip the fault-hook overhead measurement
  --no-property-costs    skip the per-case cost of each property (case_guest_cpu_ms_*:
                         guest CPU time on its clock at a fixed icount shift;
                         case_wall_ms_*: host wall time; and their spreads)
  --compare REF          run the benchmark on this tree and then on git ref REF
                         (checked out and built in a temporary worktree), with
                         the other options given, and print both and the ratios
                         (this tree / REF); options REF's bench lacks make it fail
  --catalogue            with --compare: also time each tree's bug-catalogue test
  --rounds N             rounds of the hook-cost and property-cost measurements,
                         whose spread is reported (default 5)
  --suite-jobs LIST      also time the whole default suite once per job count in
                         LIST (e.g. 1,2): suite_ms_jobs_N and the speedups against
                         the first
  --suite-docker N       also build the toolchain image cold (no layer cache) and
                         cached, and time the default suite with run --docker --shards N
${environmentHelp}`;

async function pingMedian(machine: Machine, count: number): Promise<number> {
  for (let i = 0; i < 50; i++) await machine.call('ping');
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await machine.call('ping');
    times.push(performance.now() - start);
  }
  return median(times);
}

export async function bench(argv: string[]): Promise<number> {
  const { values } = parse('bench', argv, {
    ...environmentOptions,
    boots: { type: 'string' },
    requests: { type: 'string' },
    cases: { type: 'string' },
    'no-overhead': { type: 'boolean', default: false },
    'no-property-costs': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    compare: { type: 'string' },
    catalogue: { type: 'boolean', default: false },
    'suite-jobs': { type: 'string' },
    'suite-docker': { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(`${benchHelp}\n`);
    return 0;
  }
  if (values.catalogue && values.compare === undefined) throw new UsageError('--catalogue goes with --compare REF');
  if (values.compare !== undefined) return benchCompare(values.compare, argv, values.catalogue === true, values.json === true);
  const boots = integer('boots', values.boots, 1, 100) ?? 3;
  const requests = integer('requests', values.requests, 1, 10_000_000) ?? 1000;
  const cases = integer('cases', values.cases, 1, 100_000) ?? 300;
  const suiteJobs = values['suite-jobs'] === undefined ? [] : parseJobsList(values['suite-jobs']);
  const dockerShards = integer('suite-docker', values['suite-docker'], 1, 64);
  const progress = stderrProgress();
  const env = await setup({ ...setupOptions(values), progress });
  const driver = await env.driver();

  const bootTimes: number[] = [];
  let rtt = NaN;
  for (let i = 0; i < boots; i++) {
    const machine = await env.boot('direct', driver, { snapshots: false });
    try {
      bootTimes.push(machine.bootMs);
      progress(`boot ${i + 1}/${boots}: ${Math.round(machine.bootMs)} ms`);
      if (i === boots - 1) rtt = await pingMedian(machine, requests);
    } finally {
      await machine.close();
    }
  }
  const restoreTimes = await measureRestores(env, driver, boots, progress);

  const session = new GuestSession(() => env.boot('direct', driver), progress);
  const rates: number[] = [];
  try {
    await session.guest();
    // The zero-copy round trip of the skeleton, then the full property (every path and buffer kind).
    const zeroCopy = { ...findProperty('roundtrip')!, build: (s: GuestSession) => roundTripProperty(s, {}, zeroCopyRoundTripCase) };
    for (const entry of [zeroCopy, findProperty('roundtrip')!]) {
      const report = await runProperty(entry, session, { numRuns: cases, seed: 1 });
      if (!report.passed) throw new Error(`the round-trip property failed during the benchmark: ${report.error}`);
      rates.push(report.cases / (report.durationMs / 1000));
    }
  } finally {
    await session.close();
  }
  const [casesPerS = NaN, allPathsPerS = NaN] = rates;

  const rounds = integer('rounds', values.rounds, 2, 100) ?? 5;
  const overhead = values['no-overhead'] ? {} : await measureOverhead(env, rounds);
  const costs = values['no-property-costs'] ? {} : await measurePropertyCosts(env, progress, rounds);
  const environment = (['cache', 'kernel', 'kernel-build', 'kernel-modules', 'accel', 'flavour'] as const).flatMap((k) => (values[k] === undefined ? [] : [`--${k}`, values[k]!]));
  const suite = suiteJobs.length ? await measureSuite(suiteJobs, environment, progress) : {};
  const docker = dockerShards === undefined ? {} : await measureDocker(dockerShards, values.cache, progress);
  const result = {
    boot_ms: Math.round(median(bootTimes)),
    boot_ms_all: bootTimes.map((t) => Math.round(t)),
    restore_ms: Math.round(median(restoreTimes)),
    restore_ms_all: restoreTimes.map((t) => Math.round(t)),
    rtt_ms: round(rtt),
    cases_per_s: round(casesPerS, 1),
    roundtrip_all_paths_cases_per_s: round(allPathsPerS, 1),
    kernel: env.kernel.release,
    qemu: await qemuVersion(),
    accel: env.accel,
    ...overhead,
    ...costs,
    ...suite,
    ...docker,
  };
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${Object.entries(result).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`);
  return 0;
}

// Guests started from a snapshot (the first boot saves one if none exists):
// the time from starting QEMU to the agent's answer.
async function measureRestores(env: Environment, driver: DriverBuild, rounds: number, progress: Progress): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i <= rounds; i++) {
    const machine = await env.boot('direct', driver);
    try {
      if (machine.snapshotNote) progress(`snapshot: ${machine.snapshotNote}`);
      if (!machine.restored) {
        if (i > 0) throw new Error(`the benchmark's guest ${i + 1} booted cold instead of restoring its snapshot`);
        continue;
      }
      times.push(machine.bootMs);
      progress(`restore ${times.length}: ${Math.round(machine.bootMs)} ms (ms from QEMU's start to the end of each step: ${Object.entries(machine.restoreSteps).map(([k, v]) => `${k} ${v}`).join(', ')})`);
      if (times.length === rounds) break;
    } finally {
      await machine.close();
    }
  }
  return times;
}

// The arguments of a compared run: everything but --compare, --catalogue and --json.
export function compareArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--compare') i++;
    else if (!arg.startsWith('--compare=') && arg !== '--catalogue' && arg !== '--json') out.push(arg);
  }
  return out;
}

async function benchCompare(ref: string, argv: readonly string[], withCatalogue: boolean, json: boolean): Promise<number> {
  const result = await compare(ref, compareArgs(argv), withCatalogue, stderrProgress());
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const lines = Object.entries(result.ratio).map(([k, r]) => `${k}: ${result.current[k]} vs ${result.base[k]} (x${r})`);
    process.stdout.write(`this tree vs ${ref} (${result.commit.slice(0, 12)}):\n${lines.join('\n')}\n`);
  }
  return 0;
}
