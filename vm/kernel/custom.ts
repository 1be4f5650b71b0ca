// Bring your own kernel: an image plus its build (or headers) directory, and
// optionally the modules installed with `make modules_install INSTALL_MOD_PATH=DIR`.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import type { GuestKernel } from './guest-kernel.js';
import { kernelIdentity } from './identity.js';

export interface CustomKernelOptions {
  image: string;
  buildDir: string;
  modulesRoot?: string;
}

export async function customKernel(options: CustomKernelOptions): Promise<GuestKernel> {
  const image = resolve(options.image);
  const buildDir = resolve(options.buildDir);
  if (!existsSync(image)) throw new UsageError(`--kernel: no such file ${image}; expected a bzImage or vmlinux`);
  const releaseFile = join(buildDir, 'include/config/kernel.release');
  if (!existsSync(releaseFile)) {
    throw new UsageError(`--kernel-build: ${releaseFile} not found; expected a configured kernel build or headers directory`);
  }
  let release = (await readFile(releaseFile, 'utf8')).trim();
  let modulesRoot: string | null = null;
  if (options.modulesRoot) {
    modulesRoot = resolve(options.modulesRoot);
    // Some distributions' headers record the upstream version, not `uname -r`
    // (Debian: 6.1.192 vs 6.1.0-56-amd64): then trust a lone modules directory.
    const installed = existsSync(join(modulesRoot, 'lib/modules')) ? await readdir(join(modulesRoot, 'lib/modules')) : [];
    if (!installed.includes(release) && installed.length === 1) release = installed[0]!;
    if (!existsSync(join(modulesRoot, 'lib/modules', release, 'modules.dep'))) {
      throw new UsageError(`--kernel-modules: expected ${modulesRoot}/lib/modules/${release}/modules.dep (make modules_install INSTALL_MOD_PATH=${modulesRoot})`);
    }
  }
  const config = join(buildDir, '.config');
  return { release, image, buildDir, modulesRoot, config, origin: 'custom', flavour: 'stock', identity: await kernelIdentity(release, config, buildDir) };
}
