// The three checks kernel reviewers run first: checkpatch.pl --strict, sparse
// (C=2) and a W=1 build. checkpatch comes from Debian's linux-source package,
// fetched with apt-get download and cut down to the three files it needs.
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from '../cache.js';
import { ProvisionError } from '../errors.js';
import type { GuestKernel } from '../kernel/guest-kernel.js';
import { type Progress, step } from '../progress.js';
import { runCommand } from '../run-command.js';
import { timeout } from '../timeouts.js';

const CHECKPATCH_FILES = ['scripts/checkpatch.pl', 'scripts/spelling.txt', 'scripts/const_structs.checkpatch'];

async function linuxSourcePackage(): Promise<string> {
  const { stdout } = await execa('apt-cache', ['depends', 'linux-source'], { reject: false });
  const name = /Depends: (linux-source-[\d.]+)/.exec(stdout)?.[1];
  if (!name) throw new ProvisionError('apt does not know linux-source; run `apt-get update`');
  return name;
}

// Path of checkpatch.pl, with spelling.txt and const_structs.checkpatch beside it.
export async function checkpatchScript(cache: string, progress: Progress): Promise<string> {
  const pkg = await linuxSourcePackage();
  const dir = await cacheDir(cache, 'checkpatch', pkg);
  const script = join(dir, 'scripts/checkpatch.pl');
  if (existsSync(script)) return script;
  await step(progress, `fetching checkpatch.pl from ${pkg}`, async () => {
    const debs = await cacheDir(cache, 'debs', pkg);
    if (!(await readdir(debs)).some((n) => n.endsWith('.deb'))) await runCommand('apt-get', ['download', pkg], { cwd: debs });
    const deb = join(debs, (await readdir(debs)).find((n) => n.endsWith('.deb'))!);
    const wanted = CHECKPATCH_FILES.map((f) => `*/${f}`);
    const tarball = `./usr/src/${pkg}.tar.xz`;
    await execa('sh', ['-c', `dpkg-deb --fsys-tarfile "$1" | tar -xO "$2" | tar -xJ --strip-components=1 -C "$3" --wildcards "$4" "$5" "$6"`, 'x', deb, tarball, dir, ...wanted]);
    if (!existsSync(script)) throw new ProvisionError(`${pkg} did not contain scripts/checkpatch.pl`);
  });
  return script;
}

export interface CheckResult {
  readonly clean: boolean;
  readonly findings: string[];
  readonly output: string;
}

export async function runCheckpatch(script: string, dir: string, files: string[]): Promise<CheckResult> {
  const result = await execa('perl', [script, '--strict', '--no-tree', '--terse', '--show-types', '-f', ...files], { cwd: dir, reject: false });
  const findings = result.stdout.split('\n').filter((l) => /: (ERROR|WARNING|CHECK):/.test(l));
  return { clean: findings.length === 0 && result.exitCode === 0, findings, output: result.stdout };
}

// Builds a copy of `sourceDir` with W=1 and sparse on every file (C=2).
export async function runSparseW1(kernel: GuestKernel, sourceDir: string): Promise<CheckResult> {
  const dir = join(await mkdtemp(join(tmpdir(), 'dmafault-checks-')), 'driver');
  try {
    await cp(sourceDir, dir, { recursive: true, filter: (src) => !src.includes('/bugs') });
    const result = await execa('make', ['-C', kernel.buildDir, `M=${dir}`, 'W=1', 'C=2', 'modules'], {
      reject: false,
      all: true,
      timeout: timeout('buildMs'),
    });
    const output = (result.all ?? '').replaceAll(dir, 'driver');
    const findings = output.split('\n').filter((l) => /(warning|error):/.test(l));
    return { clean: findings.length === 0 && result.exitCode === 0, findings, output };
  } finally {
    await rm(join(dir, '..'), { recursive: true, force: true });
  }
}
