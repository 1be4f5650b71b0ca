// Runs one property against a guest session with fast-check, and turns the
// outcome into a plain report: seed, path, the shrunk counterexample and the
// exact command that replays it.
import fc from 'fast-check';
import type { PropertyEntry } from './registry.js';
import { describeCounterexample, type PropertyReport } from '../reproduce/report.js';
import type { GuestSession } from './session.js';
import { UsageError } from '../vm/errors.js';

export interface RunOptions {
  readonly seed?: number;
  readonly path?: string;
  readonly replayPath?: string;
  readonly numRuns?: number;
  // Replay only the case at seed/path, without shrinking further (the default
  // with a path for a property whose entry says replayStopsAtCase).
  readonly exact?: boolean;
  // Extra CLI options the replay command must repeat (driver variant, kernel, ...).
  readonly replayArgs?: readonly string[];
}


export function replayCommand(property: string, seed: number, path: string, extra: readonly string[] = [], replayPath?: string): string {
  const commands = replayPath ? [`--replay-path ${replayPath}`] : [];
  return ['npx dmafault run', `--property ${property}`, `--seed=${seed}`, `--path ${path}`, ...commands, ...extra].join(' ');
}

// fast-check's refusal of a path that names no case, as the user's error.
function wrongPath(err: unknown, property: string, options: RunOptions): UsageError | undefined {
  if (!(err instanceof Error) || !/^Unable to replay, got wrong path/.test(err.message)) return undefined;
  const hint = options.replayPath === undefined ? ' (a command sequence also needs the --replay-path printed with it)' : '';
  return new UsageError(`--path ${options.path} names no case of property ${property} with --seed=${options.seed}${options.replayPath === undefined ? '' : ` and --replay-path ${options.replayPath}`}: give them exactly as a failure printed them${hint}`);
}

export async function runProperty(entry: PropertyEntry, session: GuestSession, options: RunOptions = {}): Promise<PropertyReport> {
  const started = performance.now();
  session.property = entry.name;
  session.cpus = entry.cpus ?? 1;
  const params: fc.Parameters<unknown> = {
    numRuns: options.numRuns ?? entry.numRuns,
    endOnFailure: options.exact ?? (options.path !== undefined && entry.replayStopsAtCase === true),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.path !== undefined ? { path: options.path } : {}),
  };
  let details: fc.RunDetails<[unknown]>;
  try {
    // fast-check refuses a wrong path by throwing, before it returns a promise.
    details = await fc.check(entry.build(session, { replayPath: options.replayPath, replaying: options.path !== undefined }), params);
  } catch (err) {
    throw wrongPath(err, entry.name, options) ?? err;
  }
  session.throwIfInfraFailed();
  const leaked = details.failed ? undefined : await session.finishProperty();
  const durationMs = performance.now() - started;
  const base = { property: entry.name, cases: details.numRuns, shrinks: details.numShrinks, seed: details.seed, durationMs };
  if (!details.failed) return leaked ? { ...base, passed: false, error: leaked } : { ...base, passed: true };
  const path = details.counterexamplePath ?? '';
  const errorValue = details.errorInstance;
  const error = errorValue instanceof Error ? errorValue.message : String(errorValue);
  const counterexample = details.counterexample?.[0];
  const replayPath = /replayPath="([^"]+)"/.exec(describeCounterexample(counterexample))?.[1];
  return {
    ...base,
    passed: false,
    path,
    ...(replayPath ? { replayPath } : {}),
    counterexample,
    error,
    replay: replayCommand(entry.name, details.seed, path, options.replayArgs, replayPath),
  };
}


export function formatFailure(report: PropertyReport): string {
  if (report.path === undefined) {
    return [`property ${report.property} failed after its ${report.cases} case(s) passed`, `  error: ${report.error}`, `  seed: ${report.seed} (the run, not one case: rerun it with --seed=${report.seed})`].join('\n');
  }
  return [
    `property ${report.property} failed after ${report.cases} case(s) and ${report.shrinks} shrink(s)`,
    `  counterexample: ${describeCounterexample(report.counterexample)}`,
    `  error: ${report.error}`,
    `  seed: ${report.seed}  path: ${report.path}`,
    `  replay: ${report.replay}`,
  ].join('\n');
}
