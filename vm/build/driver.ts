// Builds the driver under test, or one of its bug variants, against a guest kernel.
// Sources are copied to a cache directory keyed by their hash, so the checkout
// stays clean and an unchanged driver is never rebuilt.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, readdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { cacheDir } from '../cache.js';
import { UsageError } from '../errors.js';
import type { GuestKernel } from '../kernel/guest-kernel.js';
import { type Progress, step } from '../progress.js';
import { projectRoot } from '../project-root.js';
import { runCommand } from '../run-command.js';
import { timeout } from '../timeouts.js';
import { buildOnce } from './build-once.js';
import { hashFiles } from './source-hash.js';
import { driverUnderTest } from '../../target/index.js';

export const driverDir = join(projectRoot, driverUnderTest.sourceDir);
const uapiDir = join(projectRoot, dirname(driverUnderTest.uapiHeader));
// Directories of the source tree that are not the driver's own sources.
const notDriver = [join(driverDir, 'bugs'), join(driverDir, 'dmatap')];
export const bugsDir = join(driverDir, 'bugs');
// The fault points' knobs and schedule, which dmafi and dmatap share.
export const faultlibDir = join(driverDir, 'faultlib');

export async function faultlibSources(): Promise<string[]> {
  return (await readdir(faultlibDir)).filter((n) => /\.(c|h)$/.test(n)).map((n) => join(faultlibDir, n));
}

export interface DriverBuild {
  readonly ko: string;
  readonly hash: string;
  readonly variant: string | null;
  // The (patched) sources the module was built from.
  readonly sourceDir: string;
}

export async function driverSources(): Promise<string[]> {
  const top = (await readdir(driverDir)).filter((n) => /\.(c|h)$|^Kbuild$/.test(n)).map((n) => join(driverDir, n));
  const uapi = (await readdir(uapiDir)).map((n) => join(uapiDir, n));
  return [...top, ...(await faultlibSources()), ...uapi];
}

export async function listVariants(): Promise<string[]> {
  if (!existsSync(bugsDir)) return [];
  return (await readdir(bugsDir)).filter((n) => n.endsWith('.patch')).map((n) => n.slice(0, -'.patch'.length)).sort();
}

function variantPatch(variant: string): string {
  const patch = join(bugsDir, `${variant}.patch`);
  if (!existsSync(patch)) throw new UsageError(`unknown driver variant "${variant}"; expected one of the patches in ${bugsDir}`);
  return patch;
}

// The debug flavour's kernel is built without debug information, so its
// modules would be too: with -g they carry line tables, which the host needs
// to place a call site (addr2line) and the kernel ignores.
export function debugInfo(kernel: Pick<GuestKernel, 'flavour'>): string[] {
  return kernel.flavour === 'debug' ? ['KCFLAGS=-g'] : [];
}

export interface DriverOptions {
  // false: build with DMAFI=n, the fault points compiled out.
  readonly faults?: boolean;
}

export async function buildDriver(
  kernel: GuestKernel,
  cache: string,
  progress: Progress,
  variant: string | null = null,
  options: DriverOptions = {},
): Promise<DriverBuild> {
  const files = await driverSources();
  const patch = variant ? variantPatch(variant) : null;
  const makeArgs = [...(options.faults === false ? ['DMAFI=n'] : []), ...debugInfo(kernel)];
  // Keyed by the kernel build's identity, not its release: two builds of one release differ.
  const hash = await hashFiles(driverDir, patch ? [...files, patch] : files, [kernel.identity, ...makeArgs]);
  const dir = await cacheDir(cache, 'build', `driver-${kernel.release}-${hash}`);
  const ko = join(dir, `${driverUnderTest.module}.ko`);
  if (existsSync(ko)) return { ko, hash, variant, sourceDir: dir };

  const what = `${variant ? ` variant ${variant}` : ''}${makeArgs.length ? ` (${makeArgs.join(' ')})` : ''}`;
  await buildOnce(dir, basename(ko), (into) =>
    step(progress, `building driver${what} for ${kernel.release}`, async () => {
      await cp(driverDir, into, { recursive: true, filter: (src) => !notDriver.some((d) => src.startsWith(d)) });
      if (patch) await runCommand('patch', ['-p1', '--quiet', '-d', into, '-i', patch]);
      await runCommand('make', ['-C', kernel.buildDir, `M=${into}`, 'W=1', ...makeArgs, 'modules'], { timeoutMs: timeout('buildMs') });
    }),
  );
  return { ko, hash, variant, sourceDir: dir };
}

// A module (the driver, or a companion) as the guest loads it: without debug information (the host keeps
// that, for symbolizing), so that uploading it costs milliseconds. Made once per build.
export async function guestModule(ko: string): Promise<string> {
  const guest = ko.replace(/\.ko$/, '.guest.ko');
  if (existsSync(guest)) return guest;
  // Unique: two lanes of one process may strip the same module at once.
  const tmp = `${guest}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await runCommand('strip', ['--strip-debug', '-o', tmp, ko]);
  await rename(tmp, guest);
  return guest;
}
