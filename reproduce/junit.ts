// JUnit XML for CI systems: one test suite per profile, one test case per
// property, a failure element with the counterexample and the replay command.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeCounterexample, type PropertyReport } from '../properties/runner.js';

const escape = (text: string) =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

export interface JunitReport extends PropertyReport {
  readonly profile: string;
  readonly failureFile?: string;
}

export function junitXml(reports: readonly JunitReport[]): string {
  const profiles = [...new Set(reports.map((r) => r.profile))];
  const suites = profiles.map((profile) => {
    const mine = reports.filter((r) => r.profile === profile);
    const cases = mine.map((r) => {
      const head = `    <testcase classname="dmafault.${escape(profile)}" name="${escape(r.property)}" time="${(r.durationMs / 1000).toFixed(3)}">`;
      if (r.passed) return `${head}</testcase>`;
      const body = [
        `counterexample: ${describeCounterexample(r.counterexample)}`,
        `seed: ${r.seed} path: ${r.path}`,
        `replay: ${r.replay}`,
        ...(r.failureFile ? [`failure file: ${r.failureFile}`] : []),
      ].join('\n');
      return `${head}\n      <failure message="${escape(r.error ?? 'failed')}">${escape(body)}</failure>\n    </testcase>`;
    });
    const failures = mine.filter((r) => !r.passed).length;
    const time = mine.reduce((t, r) => t + r.durationMs, 0) / 1000;
    return `  <testsuite name="dmafault ${escape(profile)}" tests="${mine.length}" failures="${failures}" time="${time.toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${suites.join('\n')}\n</testsuites>\n`;
}

export async function writeJunit(file: string, reports: readonly JunitReport[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, junitXml(reports));
}
