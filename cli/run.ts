// `dmafault run`: provision, boot the guest, load the driver, run the property
// suite, print a summary; exit status 1 when any property failed.
import { properties as allProperties, findProperty } from '../properties/registry.js';
import { formatFailure, type PropertyReport, runProperty } from '../properties/runner.js';
import { GuestSession } from '../properties/session.js';
import { UsageError } from '../vm/errors.js';
import { stderrProgress } from '../vm/progress.js';
import { profileByName, setup } from '../vm/setup.js';
import { environmentHelp, environmentOptions, integer, parse, setupOptions } from './options.js';

export const runHelp = `usage: dmafault run [options]
Boots the guest, loads the driver and runs the property suite.
  --property NAME        run one property (${allProperties.map((p) => p.name).join(', ')})
  --seed N --path P      replay a failure exactly (printed with every failure)
  --runs N               cases per property (default: each property's own)
  --profile NAME         DMA profile (default: direct)
  --variant NAME         use a bug variant of the driver (driver/bugs/NAME.patch)
  --keep-logs            keep each VM's console and QEMU logs
${environmentHelp}`;

export interface RunSummary {
  readonly cases: number;
  readonly failures: PropertyReport[];
  readonly properties: PropertyReport[];
  readonly profiles: string[];
  readonly kernel: string;
  readonly accel: string;
  readonly driver: { hash: string; variant: string | null };
  readonly reboots: number;
  readonly duration_ms: number;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse('run', argv, {
    ...environmentOptions,
    property: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    runs: { type: 'string' },
    profile: { type: 'string', default: 'direct' },
    variant: { type: 'string' },
    'keep-logs': { type: 'boolean', default: false },
  });
  if (values.help) {
    process.stdout.write(`${runHelp}\n`);
    return 0;
  }
  const seed = integer('seed', values.seed, -(2 ** 31), 2 ** 31 - 1);
  const numRuns = integer('runs', values.runs, 1, 1_000_000);
  if (values.path !== undefined && !/^\d+(:\d+)*$/.test(values.path)) throw new UsageError(`--path must look like 12:0:3 (from a failure report); got "${values.path}"`);
  if (values.path !== undefined && seed === undefined) throw new UsageError('--path needs the --seed it was printed with');
  const selected = values.property ? [findProperty(values.property)] : [...allProperties];
  if (selected[0] === undefined) throw new UsageError(`unknown property "${values.property}"; expected one of: ${allProperties.map((p) => p.name).join(', ')}`);
  profileByName(values.profile);

  const started = performance.now();
  const progress = stderrProgress();
  const env = await setup({ ...setupOptions(values), progress });
  const driver = await env.driver(values.variant ?? null);
  const session = new GuestSession(async () => {
    const machine = await env.boot(values.profile, driver, { keepLogs: values['keep-logs'] });
    progress(`guest up in ${Math.round(machine.bootMs)} ms (${env.kernel.release}, ${env.accel}, profile ${values.profile})`);
    return machine;
  }, progress);
  const replayArgs = [
    ...(values.variant ? [`--variant ${values.variant}`] : []),
    ...(values.profile !== 'direct' ? [`--profile ${values.profile}`] : []),
    ...(values.kernel ? [`--kernel ${values.kernel} --kernel-build ${values['kernel-build']}`] : []),
  ];
  const reports: PropertyReport[] = [];
  try {
    for (const entry of selected) {
      if (!entry) continue;
      progress(`property ${entry.name}: ${entry.describe}`);
      const report = await runProperty(entry, session, { seed, path: values.path, numRuns, replayArgs });
      progress(report.passed ? `property ${entry.name}: ${report.cases} cases passed` : formatFailure(report));
      reports.push(report);
    }
  } finally {
    await session.close();
  }
  const summary: RunSummary = {
    cases: reports.reduce((n, r) => n + r.cases, 0),
    failures: reports.filter((r) => !r.passed),
    properties: reports,
    profiles: [values.profile],
    kernel: env.kernel.release,
    accel: env.accel,
    driver: { hash: driver.hash, variant: driver.variant },
    reboots: session.reboots,
    duration_ms: Math.round(performance.now() - started),
  };
  process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  return summary.failures.length ? 1 : 0;
}

function formatSummary(s: RunSummary): string {
  const lines = [
    `dmafault run: ${s.properties.length} propert${s.properties.length === 1 ? 'y' : 'ies'}, ${s.cases} cases, ${s.failures.length} failed (${(s.duration_ms / 1000).toFixed(1)} s; kernel ${s.kernel}, ${s.accel}, driver ${s.driver.variant ?? 'default'})`,
  ];
  for (const r of s.properties) lines.push(`  ${r.passed ? 'ok  ' : 'FAIL'} ${r.property} (${r.cases} cases)`);
  for (const f of s.failures) lines.push('', formatFailure(f));
  return `${lines.join('\n')}\n`;
}
