// JUnit XML for CI systems: one test suite per profile, one test case per
// property, a failure element with the counterexample and the replay command,
// or an error element when the harness broke and the property has no verdict.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeCounterexample, type PropertyReport } from './report.js';

// XML 1.0 forbids most control characters (a kernel log may carry them) even
// as references: they are dropped. Lone surrogates go too.
const FORBIDDEN = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const escape = (text: string) =>
  text.replace(FORBIDDEN, '').replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

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
      if (r.harnessError) return `${head}\n      <error type="${escape(r.harnessError.code)}" message="${escape(r.harnessError.message.split('\n')[0]!)}">${escape(r.harnessError.message)}</error>\n    </testcase>`;
      const body = [
        `counterexample: ${describeCounterexample(r.counterexample)}`,
        `seed: ${r.seed} path: ${r.path}`,
        `replay: ${r.replay}`,
        ...(r.failureFile ? [`failure file: ${r.failureFile}`] : []),
      ].join('\n');
      return `${head}\n      <failure message="${escape(r.error ?? 'failed')}">${escape(body)}</failure>\n    </testcase>`;
    });
    const errors = mine.filter((r) => r.harnessError).length;
    const failures = mine.filter((r) => !r.passed).length - errors;
    const time = mine.reduce((t, r) => t + r.durationMs, 0) / 1000;
    return `  <testsuite name="dmafault ${escape(profile)}" tests="${mine.length}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n${suites.join('\n')}\n</testsuites>\n`;
}

export async function writeJunit(file: string, reports: readonly JunitReport[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, junitXml(reports));
}
