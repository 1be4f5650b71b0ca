// `dmafault merge`: joins the --json outputs of `dmafault run --shard I/N` (one
// per machine or container) into one summary, one JUnit file and one audit.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderAuditHtml } from '../audit/render-html.js';
import { writeAuditReport } from '../audit/report.js';
import { writeJunit } from '../reproduce/junit.js';
import { mergeParts, parsePart } from '../suite/parts.js';
import { UsageError } from '../vm/errors.js';
import { parse } from './options.js';
import { formatSummary } from './run.js';

export const mergeHelp = `usage: dmafault merge PART.json... [--json] [--junit FILE] [--out DIR]
Joins the --json outputs of dmafault run --shard I/N (all N of them, one file each)
into one summary, exit status as run's.
  --junit FILE           also write the merged results as JUnit XML
  --out DIR              write the merged audit to DIR/audit.html and DIR/audit.json
                         (default: ./dmafault-audit)
  --json                 print the merged summary as JSON`;

const mergeOptions = {
  json: { type: 'boolean', default: false },
  junit: { type: 'string' },
  out: { type: 'string', default: 'dmafault-audit' },
} as const;

export async function merge(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${mergeHelp}\n`);
    return 0;
  }
  const { values, positionals } = parse('merge', argv, mergeOptions, true);
  if (!positionals.length) throw new UsageError('merge: give the shard files (the --json outputs of dmafault run --shard I/N)');
  const parts = await Promise.all(
    positionals.map(async (file) => {
      const text = await readFile(file, 'utf8').catch((err: Error) => {
        throw new UsageError(`merge: cannot read ${file}: ${err.message}`);
      });
      return parsePart(file, text);
    }),
  );
  const { audit, ...summary } = mergeParts(parts);
  await writeAuditReport(join(values.out, 'audit.json'), audit);
  await writeFile(join(values.out, 'audit.html'), renderAuditHtml(audit));
  if (values.junit) await writeJunit(values.junit, summary.properties);
  process.stdout.write(values.json ? `${JSON.stringify({ ...summary, audit: join(values.out, 'audit.json') })}\n` : `${formatSummary(summary)}merged ${summary.shards} shards; audit: ${join(values.out, 'audit.html')}\n`);
  return summary.errors.length ? 3 : summary.failures.length ? 1 : 0;
}
