// `dmafault audit`: which of the driver's error-handling sites the suite
// reaches, under which fault points and properties. Runs the suite (the same
// options as `run`), or reads the last run's audit with --last; prints the
// table, writes a self-contained HTML report and its JSON form, and with
// --fail-under PCT exits 1 when fewer sites were reached.
import { join } from 'node:path';
import { type AuditReport, belowThreshold, parseThreshold, readAuditReport, writeAuditReport } from '../audit/report.js';
import { renderAuditHtml } from '../audit/render-html.js';
import { renderAuditText } from '../audit/render-text.js';
import { cacheRoot } from '../vm/cache.js';
import { UsageError } from '../vm/errors.js';
import { stderrProgress } from '../vm/progress.js';
import { parse } from './options.js';
import { formatSummary, lastAuditPath, planRun, runOptions, runSuite } from './run.js';
import { writeFile } from 'node:fs/promises';

export const auditHelp = `usage: dmafault audit [run options] [--last] [--out DIR] [--fail-under PCT]
Runs the suite (any option of dmafault run) and reports, per error-handling site
of the driver, how often each fault point and property reached it. With
--intercept (a driver without hooks, through dmatap) the sites are the driver's
calls of the functions dmatap intercepts, read from the built module: each call
of a function a point can fail is reached when a failure was injected there.
  --last                 report on the last suite run (dmafault run or audit) instead
  --out DIR              write DIR/audit.html and DIR/audit.json (default: ./dmafault-audit)
  --fail-under PCT       exit 1 when fewer than PCT percent of the sites were reached
It also exits 1 when a property failed (its failure file is written as by run).`;

const auditOptions = {
  ...runOptions,
  last: { type: 'boolean', default: false },
  out: { type: 'string', default: 'dmafault-audit' },
  'fail-under': { type: 'string' },
} as const;

export async function audit(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${auditHelp}\n`);
    return 0;
  }
  const { values } = parse('audit', argv, auditOptions);
  const threshold = values['fail-under'] === undefined ? undefined : parseThreshold(values['fail-under'], '--fail-under');
  const { last, out, 'fail-under': _failUnder, ...run } = values;
  let report: AuditReport;
  let failedProperties = 0;
  if (last) {
    const given = Object.keys(run).filter((k) => argv.some((a) => a === `--${k}` || a.startsWith(`--${k}=`)) && !['cache', 'json'].includes(k));
    if (given.length) throw new UsageError(`--last reads the last run's audit; it takes no run options (got --${given.join(', --')})`);
    report = await readAuditReport(await lastAuditPath(cacheRoot(values.cache)));
  } else {
    const { plan } = planRun(run);
    const result = await runSuite(run, plan, stderrProgress());
    failedProperties = result.summary.failures.length;
    if (!values.json) process.stdout.write(formatSummary(result.summary));
    report = result.audit;
  }
  await writeAuditReport(join(out, 'audit.json'), report);
  await writeFile(join(out, 'audit.html'), renderAuditHtml(report));
  const below = threshold !== undefined && belowThreshold(report, threshold);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ...report, failed_properties: failedProperties, below_threshold: below })}\n`);
  } else {
    process.stdout.write(`\n${renderAuditText(report)}\n`);
    process.stdout.write(`report: ${join(out, 'audit.html')} (JSON: ${join(out, 'audit.json')})\n`);
    if (below) process.stdout.write(`error-site coverage ${report.coverage.percent}% is below --fail-under ${threshold}%\n`);
  }
  return below || failedProperties ? 1 : 0;
}
