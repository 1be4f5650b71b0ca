// The dmafault command: dispatches to a subcommand and maps errors to exit codes
// (1: a property failed, 2: bad usage, 3: infrastructure or guest error).
import { DmafaultError } from '../vm/errors.js';
import { version } from '../vm/project-root.js';
import { audit, auditHelp } from './audit.js';
import { bench, benchHelp } from './bench.js';
import { merge, mergeHelp } from './merge.js';
import { prepare, prepareHelp } from './prepare.js';
import { repro, reproHelp } from './repro.js';
import { run, runHelp } from './run.js';

const usage = `usage: dmafault <command> [options]
commands:
  run      boot a guest, load the driver, run the property suite
  repro    replay a failure file exactly on a fresh guest
  audit    which error paths of the driver the suite reaches (table, HTML, JSON)
  bench    measure boot time, agent round trip and case throughput
  merge    join the --json outputs of run --shard I/N into one summary, JUnit and audit
  prepare  provision and build what a run needs (the debug kernel: once), then exit
  help     show this text (dmafault <command> --help for a command's options)
  version  print the version

${runHelp}

${reproHelp}

${auditHelp}

${benchHelp}

${mergeHelp}

${prepareHelp}`;

const commands: Record<string, (argv: string[]) => Promise<number>> = { run, repro, audit, bench, merge, prepare };

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${usage}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === 'version' || name === '--version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`dmafault: unknown command "${name}"; expected one of: ${Object.keys(commands).join(', ')}, help, version\n`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (err) {
    if (err instanceof DmafaultError) {
      process.stderr.write(`dmafault ${name}: ${err.code}: ${err.message}\n`);
      return err.kind === 'usage' ? 2 : 3;
    }
    throw err;
  }
}
