// `dmafault repro FILE`: boots the failure's profile with its driver variant and
// replays exactly its counterexample (no new search); exit status 1 when it
// still fails, 0 when it no longer does. Differences in kernel, QEMU or driver
// are named. A bad failure file is refused before anything boots.
import { findProperty } from '../properties/registry.js';
import { runProperty } from '../properties/runner.js';
import { describeCounterexample } from '../reproduce/report.js';
import { GuestSession } from '../properties/session.js';
import { environmentDifferences, type FailureFile, readFailureFile, recordEnvironment } from '../reproduce/failure-file.js';
import { generateScript } from '../reproduce/script/generate.js';
import { compileScript, runScript, sameFinding } from '../reproduce/script/verify.js';
import { dockerRepro } from '../docker/repro.js';
import type { Machine } from '../vm/machine.js';
import type { Progress } from '../vm/progress.js';
import { writeFile } from 'node:fs/promises';
import { UsageError } from '../vm/errors.js';
import { version } from '../vm/project-root.js';
import { stderrProgress } from '../vm/progress.js';
import { qemuVersion } from '../vm/qemu/version.js';
import { profileByName, setup } from '../vm/setup.js';
import { environmentHelp, environmentOptions, setupOptions } from './options.js';
import { parseArgs } from 'node:util';
import { dmafiHooks, dmatapHooks } from '../faults/hooks.js';
import { driverUnderTest } from '../target/index.js';

export const reproHelp = `usage: dmafault repro FILE [options]
Replays the failure recorded in FILE (written by dmafault run) on a fresh guest.
  --script OUT           also write a standalone C reproducer of it to OUT (no Node
                         needed anywhere), then build it and run it in another fresh
                         guest to show whether it reproduces the failure on its own
  --keep-logs            keep the VM's console and QEMU logs
  --docker               replay in the toolchain image the failure ran in (its file
                         names it), on the default engine or --docker-host URL
${environmentHelp}`;

interface ScriptResult {
  readonly path: string;
  readonly reproduces: boolean;
  readonly exit_code: number | null;
  readonly output: string;
  // How many times the program ran in the guest (a race: until it reproduces, at most RACE_ATTEMPTS).
  readonly attempts: number;
  // The kernel's report when the program died with it, and its last logged steps.
  readonly kernel_report?: { readonly title: string; readonly steps: string[] };
}

// What overlapping calls do in the kernel is not fixed even with the recorded
// schedule: a race's program runs again in the same guest until it reproduces.
const RACE_ATTEMPTS = 10;

// Writes the reproducer of the failing case just replayed, then runs it alone in a fresh guest.
async function writeScript(out: string, failure: FailureFile, session: GuestSession, boot: (o: { cpus: number }) => Promise<Machine>, progress: Progress): Promise<ScriptResult> {
  const failed = session.failedCase;
  if (!failed) throw new Error('the replay failed but recorded no trace of the failing case');
  const source = await generateScript({ failure, events: failed.trace.events, deviceDebugfs: failed.deviceDebugfs });
  await writeFile(out, source);
  progress(`wrote the reproducer ${out}; building it and running it in a fresh guest`);
  const binary = await compileScript(source);
  // The guest the property ran on: a race needs its vCPUs.
  const machine = await boot({ cpus: session.cpus });
  try {
    const limit = session.cpus > 1 ? RACE_ATTEMPTS : 1;
    for (let attempts = 1; ; attempts++) {
      const run = await runScript(machine, binary);
      // The same checker finding in the fresh guest is the reproducer working.
      const report = run.kernelReport;
      const reproduces = run.exitCode === 1 || (report !== undefined && sameFinding(failure.oracle.message, report.title));
      // A kernel report ends the machine; any exit but 0 and 1 is the program's own error.
      if (!reproduces && run.exitCode === 0 && attempts < limit) continue;
      return {
        path: out,
        reproduces,
        exit_code: run.exitCode,
        output: run.output,
        attempts,
        ...(report ? { kernel_report: { title: report.title, steps: report.steps } } : {}),
      };
    }
  } finally {
    await machine.close();
  }
}

function describeScript(s: ScriptResult): string {
  const k = s.kernel_report;
  const runs = s.attempts > 1 ? ` (run ${s.attempts} times)` : '';
  const verdict = s.reproduces ? `reproduces the failure on its own${runs}` : `did NOT reproduce the failure on its own${runs} (${k ? `the kernel reported something else: ${k.title}` : `exit status ${s.exit_code}`})`;
  if (k) {
    const steps = k.steps.length ? k.steps.slice(-8).map((l) => `  ${l}`) : ['  (no step reached the console)'];
    return [`reproducer ${s.path}: ${verdict} in a fresh guest: the kernel reported "${k.title}" while it ran, after:`, ...steps].join('\n');
  }
  const lines = s.output.split('\n').filter((l) => /^(FAIL|REPRODUCED|not reproduced|note|reproducer)/.test(l));
  return [`reproducer ${s.path}: ${verdict} in a fresh guest`, ...lines.map((l) => `  ${l}`)].join('\n');
}

export async function repro(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...environmentOptions, 'keep-logs': { type: 'boolean', default: false }, script: { type: 'string' }, docker: { type: 'boolean', default: false }, 'docker-host': { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (see dmafault repro --help)`, { cause: err });
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${reproHelp}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`dmafault repro takes one failure file, got ${positionals.length}`);
  const failure = await readFailureFile(positionals[0]!);
  const entry = findProperty(failure.property);
  if (!entry) throw new UsageError(`failure file: property "${failure.property}" is unknown to this dmafault (${version()})`);
  profileByName(failure.profile);

  const progress = stderrProgress();
  if (values['docker-host'] !== undefined && !values.docker) throw new UsageError('--docker-host names an engine for --docker: add --docker');
  if (values.docker) {
    const given = (['kernel', 'kernel-build', 'kernel-modules', 'flavour', 'accel', 'keep-logs'] as const).filter((k) => values[k] !== undefined && values[k] !== false);
    if (given.length) throw new UsageError(`--docker replays in the image the failure names, as it ran there: it takes no --${given.join(', --')}`);
    const out = await dockerRepro({ failure, file: positionals[0]!, host: values['docker-host'], script: values.script, json: values.json }, progress);
    process.stdout.write(out.stdout);
    return out.exitCode;
  }
  // The flavour the failure was found on, unless the user asks for another.
  const options = setupOptions(values);
  const flavour = values.flavour === undefined ? (failure.environment.flavour ?? 'stock') : options.flavour;
  const env = await setup({ ...options, flavour, progress });
  // A failure found under --intercept replays the same way: no hooks, dmatap loaded first.
  const intercept = failure.environment.intercept === true;
  if (intercept && values.script !== undefined) throw new UsageError('--script writes a reproducer for the driver alone; this failure was found through dmatap (--intercept), which the reproducer does not load');
  const driver = await env.driver(failure.environment.driverVariant, { faults: !intercept });
  const companion = intercept ? { companion: { ko: (await env.dmatap()).ko, params: `target=${driverUnderTest.module}` } } : {};
  const now = await recordEnvironment(env, driver, await qemuVersion(), version(), intercept);
  const differences = environmentDifferences(failure.environment, now);
  for (const d of differences) progress(`environment differs: ${d}`);

  const boot = ({ cpus }: { cpus: number } = { cpus: 1 }) => env.boot(failure.profile, driver, { keepLogs: values['keep-logs'], cpus, ...companion });
  const session = new GuestSession(boot, progress, intercept ? dmatapHooks : dmafiHooks);
  session.recording = values.script !== undefined;
  try {
    const report = await runProperty(entry, session, { seed: failure.seed, path: failure.path, replayPath: failure.replayPath, exact: true });
    await session.close();
    const script = values.script !== undefined && !report.passed ? await writeScript(values.script, failure, session, boot, progress) : undefined;
    const result = {
      reproduced: !report.passed,
      property: failure.property,
      profile: failure.profile,
      counterexample: report.passed ? failure.counterexample : describeCounterexample(report.counterexample),
      error: report.error ?? null,
      recorded_error: failure.oracle.message,
      environment_differences: differences,
      ...(script ? { script } : {}),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      process.stdout.write(
        result.reproduced
          ? `reproduced: ${failure.property} on ${failure.profile} still fails\n  counterexample: ${result.counterexample}\n  error: ${result.error}\n`
          : `not reproduced: ${failure.property} on ${failure.profile} passes now\n  recorded error: ${failure.oracle.message}\n`,
      );
      if (script) process.stdout.write(`${describeScript(script)}\n`);
      else if (values.script !== undefined) process.stdout.write(`no reproducer written: the failure did not reproduce\n`);
    }
    return result.reproduced ? 1 : 0;
  } finally {
    await session.close();
  }
}
