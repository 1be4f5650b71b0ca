// Writes one failure file per failed property report.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describeCounterexample, type PropertyReport } from './report.js';
import { FAILURE_FORMAT, FAILURE_VERSION, type FailureFile } from './failure-file.js';

export function toFailureFile(report: PropertyReport, profile: string, environment: FailureFile['environment']): FailureFile {
  const counterexample = report.replayPath ? describeCounterexample(report.counterexample) : report.counterexample;
  return {
    format: FAILURE_FORMAT,
    version: FAILURE_VERSION,
    property: report.property,
    profile,
    seed: report.seed,
    path: report.path ?? '',
    ...(report.replayPath ? { replayPath: report.replayPath } : {}),
    counterexample: JSON.parse(JSON.stringify(counterexample ?? null)),
    oracle: { message: report.error ?? '' },
    environment,
    replay: report.replay ?? '',
    created: new Date().toISOString(),
  };
}

export async function writeFailureFile(dir: string, failure: FailureFile): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = resolve(join(dir, `${failure.property}-${failure.profile}-${failure.seed}.json`));
  await writeFile(file, `${JSON.stringify(failure, null, 2)}\n`);
  return file;
}
