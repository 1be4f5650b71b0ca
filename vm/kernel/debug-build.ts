// The debug flavour: Debian's kernel source configured with allnoconfig plus
// vm/kernel/flavours/debug.config, checked symbol by symbol, then built once per
// machine and cached by source version, fragment and compiler.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import lockfile from 'proper-lockfile';
import { cacheDir } from '../cache.js';
import { ProvisionError } from '../errors.js';
import { type Progress, step } from '../progress.js';
import { runCommand } from '../run-command.js';
import { timeout } from '../timeouts.js';
import { flavours } from './flavour.js';
import type { GuestKernel } from './guest-kernel.js';
import { kernelIdentity } from './identity.js';
import { kernelSource } from './source.js';

// Symbols the fragment sets that the resulting .config does not have (a
// dependency missing, a typo): the build would silently lack a checker.
export function unmetSymbols(fragment: string, config: string): string[] {
  const have = new Set(config.split('\n').map((line) => line.trim()));
  return fragment
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^CONFIG_\w+=/.test(line) || /^# CONFIG_\w+ is not set$/.test(line))
    .filter((line) => !have.has(line));
}

async function compilerVersion(): Promise<string> {
  return (await execa('gcc', ['--version'])).stdout.split('\n')[0] ?? 'gcc';
}

// Runs the kernel build, reporting how many files it has compiled every 30 s.
async function make(tree: string, out: string, progress: Progress): Promise<void> {
  const jobs = String(availableParallelism());
  const child = execa('make', ['-C', tree, `O=${out}`, 'ARCH=x86_64', `-j${jobs}`, 'all'], { all: true, reject: false, timeout: timeout('kernelBuildMs'), stdin: 'ignore' });
  let compiled = 0;
  const tail: string[] = [];
  child.all?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (/^\s+CC\s/.test(line)) compiled++;
      if (line) tail.push(line);
      if (tail.length > 40) tail.shift();
    }
  });
  const started = Date.now();
  const ticker = setInterval(() => progress(`building the debug kernel: ${compiled} files compiled, ${Math.round((Date.now() - started) / 1000)} s`), 30_000);
  try {
    const result = await child;
    if (result.failed) throw new ProvisionError(`the debug kernel build failed (${result.shortMessage}) in ${out}\n${tail.join('\n')}`);
  } finally {
    clearInterval(ticker);
  }
}

async function configure(tree: string, out: string, fragment: string): Promise<void> {
  await runCommand('make', ['-C', tree, `O=${out}`, 'ARCH=x86_64', `KCONFIG_ALLCONFIG=${fragment}`, 'allnoconfig']);
  const unmet = unmetSymbols(await readFile(fragment, 'utf8'), await readFile(join(out, '.config'), 'utf8'));
  if (unmet.length) {
    throw new ProvisionError(`the debug kernel's .config lacks what ${fragment} asks for (a dependency is off or the symbol is gone):\n  ${unmet.join('\n  ')}`);
  }
}

async function describeKernel(dir: string): Promise<GuestKernel> {
  const buildDir = join(dir, 'build');
  const config = join(buildDir, '.config');
  const release = (await readFile(join(buildDir, 'include/config/kernel.release'), 'utf8')).trim();
  return {
    release,
    // The bzImage, not the ELF vmlinux: PVH entry runs instrumented C code
    // (memset in xen_prepare_pvh) before KASAN's shadow exists, and the guest
    // never prints a line (measured on 6.1.192).
    image: join(buildDir, 'arch/x86/boot/bzImage'),
    buildDir,
    modulesRoot: null,
    config,
    origin: 'debug',
    flavour: 'debug',
    identity: await kernelIdentity(release, config, buildDir),
  };
}

// The debug kernel, built first if no build of this source, fragment and compiler is cached.
export async function debugKernel(cache: string, progress: Progress): Promise<GuestKernel> {
  const fragment = flavours.debug.configFragment!;
  const source = await kernelSource(cache, progress);
  const key = createHash('sha256')
    .update(`${source.package} ${source.version}\0${await readFile(fragment)}\0${await compilerVersion()}`)
    .digest('hex')
    .slice(0, 12);
  const dir = await cacheDir(cache, 'kernels', `debug-${source.version}-${key}`);
  const done = join(dir, '.complete');
  if (existsSync(done)) return describeKernel(dir);

  // One build per machine: a second dmafault waits for the first instead of racing it.
  if (await lockfile.check(dir, { stale: 60_000 })) progress(`another dmafault is building the debug kernel in ${dir}; waiting for it`);
  const release = await lockfile.lock(dir, { retries: { retries: 720, minTimeout: 5_000, maxTimeout: 5_000 }, stale: 60_000 });
  try {
    if (existsSync(done)) return describeKernel(dir);
    const out = join(dir, 'build');
    await rm(out, { recursive: true, force: true });
    await mkdir(out, { recursive: true });
    await step(progress, `configuring the debug kernel (${source.package} ${source.version})`, () => configure(source.tree, out, fragment));
    await step(progress, `building the debug kernel in ${out} (once per machine; about 10 min on 2 cores)`, () => make(source.tree, out, progress));
    await writeFile(done, `${source.package} ${source.version} ${key}\n`);
  } finally {
    await release();
  }
  return describeKernel(dir);
}
