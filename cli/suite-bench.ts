// The default suite's wall time with each of several --jobs values, and in
// sharded containers, measured one after another in one benchmark run, so their
// ratios compare like with like.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkEngine, parseEngine } from '../docker/engine.js';
import { DEFAULT_BASE, ensureImage } from '../docker/image.js';
import { dockerRun } from '../docker/run.js';
import { UsageError } from '../vm/errors.js';
import type { Progress } from '../vm/progress.js';
import { parse } from './options.js';
import { planRun, runOptions, runSuite } from './run.js';

// "1,2" -> [1, 2]
export function parseJobsList(text: string): number[] {
  const jobs = text.split(',').map((t) => (/^\d+$/.test(t.trim()) ? Number(t) : Number.NaN));
  if (!jobs.length || jobs.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
    throw new UsageError(`--suite-jobs must be a comma-separated list of job counts from 1 to 64 (e.g. 1,2); got "${text}"`);
  }
  return jobs;
}

// environment: the bench's environment options as run arguments (--cache DIR ...).
export async function measureSuite(jobsList: readonly number[], environment: readonly string[], progress: Progress): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const failures = await mkdtemp(join(tmpdir(), 'dmafault-bench-'));
  try {
    for (const jobs of jobsList) {
      const { values, plan } = planRun(parse('run', ['--jobs', String(jobs), '--failures', failures, ...environment], runOptions).values);
      progress(`the default suite with --jobs ${jobs}`);
      const { summary } = await runSuite(values, plan, (m) => progress(`  ${m}`));
      if (summary.failures.length || summary.errors.length) throw new Error(`the default suite failed during the benchmark (--jobs ${jobs}): ${summary.failures.length} failed, ${summary.errors.length} not judged`);
      out[`suite_ms_jobs_${jobs}`] = summary.duration_ms;
      out[`suite_cases_jobs_${jobs}`] = summary.cases;
    }
    const [base] = jobsList;
    for (const jobs of jobsList.slice(1)) out[`suite_speedup_jobs_${jobs}_vs_${base}`] = Math.round((out[`suite_ms_jobs_${base}`]! / out[`suite_ms_jobs_${jobs}`]!) * 1000) / 1000;
  } finally {
    await rm(failures, { recursive: true, force: true });
  }
  return out;
}

// The toolchain image built cold (no layer cache; the base kept) and then
// reused, its size, and the default suite in `shards` containers.
export async function measureDocker(shards: number, cache: string | undefined, progress: Progress): Promise<Record<string, number>> {
  const engine = parseEngine(undefined);
  await checkEngine(engine);
  const options = { base: DEFAULT_BASE, flavours: ['stock'], cache };
  const cold = await ensureImage([engine], { ...options, noCache: true }, progress);
  const started = performance.now();
  const cached = await ensureImage([engine], options, progress);
  const cachedMs = performance.now() - started;
  const failures = await mkdtemp(join(tmpdir(), 'dmafault-bench-'));
  try {
    const wall = performance.now();
    const { summary } = await dockerRun({ hosts: [], base: DEFAULT_BASE, shards, flavour: 'stock', failuresDir: failures, cache, args: [] }, (m) => progress(`  ${m}`));
    if (summary.failures.length || summary.errors.length) throw new Error(`the default suite failed in Docker during the benchmark: ${summary.failures.length} failed, ${summary.errors.length} not judged`);
    return {
      image_build_cold_s: Math.round(cold.buildSeconds ?? Number.NaN),
      image_build_cached_s: Math.round(cachedMs / 100) / 10,
      image_size_mb: Math.round(cached.size / 1e6),
      [`suite_ms_docker_shards_${shards}`]: summary.duration_ms,
      [`suite_wall_ms_docker_shards_${shards}`]: Math.round(performance.now() - wall),
    };
  } finally {
    await rm(failures, { recursive: true, force: true });
  }
}
