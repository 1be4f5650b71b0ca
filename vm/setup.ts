// Everything before the first boot: host packages, guest kernel, agent, base image
// and accelerator. Each step is cached and skipped when done.
import { buildAgent } from './build/agent.js';
import { buildDriver, type DriverBuild, type DriverOptions } from './build/driver.js';
import { cacheRoot } from './cache.js';
import { UsageError } from './errors.js';
import { buildBaseImage } from './image/base-image.js';
import { customKernel } from './kernel/custom.js';
import { debianKernel } from './kernel/debian.js';
import { debugKernel } from './kernel/debug-build.js';
import { type Flavour, parseFlavour } from './kernel/flavour.js';
import type { GuestKernel } from './kernel/guest-kernel.js';
import { Machine, type MachineOptions } from './machine.js';
import { ensureHostPackages } from './provision/host-packages.js';
import { parseAccel, resolveAccel } from './qemu/accel.js';
import type { Accel } from './qemu/args.js';
import { type Profile, profiles } from './qemu/profiles.js';
import { type Progress, silent } from './progress.js';
import { buildDmatap } from './build/dmatap.js';

export interface SetupOptions {
  readonly cache?: string;
  readonly kernel?: string;
  readonly kernelBuild?: string;
  readonly kernelModules?: string;
  readonly accel?: string;
  // 'stock' (default) or 'debug': see vm/kernel/flavour.ts.
  readonly flavour?: Flavour | string;
  readonly progress?: Progress;
}

export type BootExtras = Partial<Pick<MachineOptions, 'keepLogs' | 'driverParams' | 'extraKernelArgs' | 'extraQemuArgs' | 'cpus' | 'bootTimeoutMs' | 'requestTimeoutMs' | 'shellTimeoutMs' | 'snapshots' | 'icountShift' | 'companion'>>;

export interface Environment {
  readonly cache: string;
  readonly kernel: GuestKernel;
  readonly accel: Accel;
  readonly baseImage: string;
  readonly progress: Progress;
  driver(variant?: string | null, options?: DriverOptions): Promise<DriverBuild>;
  // dmatap, the interceptor (driver/dmatap), built for this kernel.
  dmatap(): Promise<{ readonly ko: string; readonly hash: string }>;
  boot(profile: string, driver: DriverBuild, extra?: BootExtras): Promise<Machine>;
}

export function profileByName(name: string): Profile {
  const profile = profiles[name];
  if (!profile) throw new UsageError(`unknown profile "${name}"; expected one of: ${Object.keys(profiles).join(', ')}`);
  return profile;
}

async function chooseKernel(options: SetupOptions, cache: string, progress: Progress): Promise<GuestKernel> {
  const flavour = parseFlavour(options.flavour);
  if (flavour === 'debug') {
    if (options.kernel || options.kernelBuild || options.kernelModules) throw new UsageError('--flavour debug builds its own kernel; it does not go with --kernel, --kernel-build or --kernel-modules');
    return debugKernel(cache, progress);
  }
  if (options.kernel || options.kernelBuild) {
    if (!options.kernel || !options.kernelBuild) throw new UsageError('--kernel and --kernel-build go together: an image and its build/headers directory');
    return customKernel({ image: options.kernel, buildDir: options.kernelBuild, modulesRoot: options.kernelModules });
  }
  if (options.kernelModules) throw new UsageError('--kernel-modules needs --kernel and --kernel-build');
  return debianKernel(cache, progress);
}

export async function setup(options: SetupOptions = {}): Promise<Environment> {
  const progress = options.progress ?? silent;
  const cache = cacheRoot(options.cache);
  const accelChoice = parseAccel(options.accel);
  await ensureHostPackages(progress);
  const kernel = await chooseKernel(options, cache, progress);
  const agent = await buildAgent(cache, progress);
  const baseImage = await buildBaseImage(kernel, agent, cache, progress);
  const accel = await resolveAccel(accelChoice, kernel.image);
  return {
    cache,
    kernel,
    accel,
    baseImage,
    progress,
    driver: (variant = null, driverOptions = {}) => buildDriver(kernel, cache, progress, variant, driverOptions),
    dmatap: () => buildDmatap(kernel, cache, progress),
    boot: (profile, driver, extra = {}) => {
      const p = profileByName(profile);
      const flavourArgs = kernel.flavour === 'debug' ? (p.debugKernelArgs ?? []) : [];
      return Machine.boot({ kernel, baseImage, driver, profile: p, accel, cache, ...extra, extraKernelArgs: [...flavourArgs, ...(extra.extraKernelArgs ?? [])] });
    },
  };
}
