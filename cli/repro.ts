// `dmafault repro FILE`: boots the failure's profile with its driver variant and
// replays exactly its counterexample (no new search); exit status 1 when it
// still fails, 0 when it no longer does. Differences in kernel, QEMU or driver
// are named. A bad failure file is refused before anything boots.
import { findProperty } from '../properties/registry.js';
import { describeCounterexample, runProperty } from '../properties/runner.js';
import { GuestSession } from '../properties/session.js';
import { environmentDifferences, readFailureFile } from '../reproduce/failure-file.js';
import { UsageError } from '../vm/errors.js';
import { version } from '../vm/project-root.js';
import { stderrProgress } from '../vm/progress.js';
import { qemuVersion } from '../vm/qemu/version.js';
import { profileByName, setup } from '../vm/setup.js';
import { environmentHelp, environmentOptions, setupOptions } from './options.js';
import { parseArgs } from 'node:util';

export const reproHelp = `usage: dmafault repro FILE [options]
Replays the failure recorded in FILE (written by dmafault run) on a fresh guest.
  --keep-logs            keep the VM's console and QEMU logs
${environmentHelp}`;

export async function repro(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...environmentOptions, 'keep-logs': { type: 'boolean', default: false } }, allowPositionals: true, strict: true });
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
  const env = await setup({ ...setupOptions(values), progress });
  const driver = await env.driver(failure.environment.driverVariant);
  const now = { kernel: env.kernel.release, qemu: await qemuVersion(), accel: env.accel, driverHash: driver.hash, driverVariant: driver.variant, dmafault: version() };
  const differences = environmentDifferences(failure.environment, now);
  for (const d of differences) progress(`environment differs: ${d}`);

  const session = new GuestSession(() => env.boot(failure.profile, driver, { keepLogs: values['keep-logs'] }), progress);
  try {
    const report = await runProperty(entry, session, { seed: failure.seed, path: failure.path, replayPath: failure.replayPath, exact: true });
    const result = {
      reproduced: !report.passed,
      property: failure.property,
      profile: failure.profile,
      counterexample: report.passed ? failure.counterexample : describeCounterexample(report.counterexample),
      error: report.error ?? null,
      recorded_error: failure.oracle.message,
      environment_differences: differences,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      process.stdout.write(
        result.reproduced
          ? `reproduced: ${failure.property} on ${failure.profile} still fails\n  counterexample: ${result.counterexample}\n  error: ${result.error}\n`
          : `not reproduced: ${failure.property} on ${failure.profile} passes now\n  recorded error: ${failure.oracle.message}\n`,
      );
    }
    return result.reproduced ? 1 : 0;
  } finally {
    await session.close();
  }
}
