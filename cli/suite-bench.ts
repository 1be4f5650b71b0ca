// The default suite's wall time with each of several --jobs values, measured
// one after another in one benchmark run, so their ratio compares like with like.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
