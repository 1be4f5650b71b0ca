// Kernel modules the guest needs at boot, with their dependencies from modules.dep.
// A module the kernel has built in (per its .config) needs nothing.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProvisionError } from '../errors.js';
import type { GuestKernel } from '../kernel/guest-kernel.js';

// Module name -> the config symbol that builds it.
export const bootModules: Readonly<Record<string, string>> = Object.freeze({
  virtio_pci: 'CONFIG_VIRTIO_PCI',
  virtio_net: 'CONFIG_VIRTIO_NET',
  virtio_rng: 'CONFIG_HW_RANDOM_VIRTIO',
  zram: 'CONFIG_ZRAM',
  brd: 'CONFIG_BLK_DEV_RAM',
  // ext4 needs a crc32c driver, which modules.dep does not list.
  crc32c_generic: 'CONFIG_CRYPTO_CRC32C',
  ext4: 'CONFIG_EXT4_FS',
});

const norm = (name: string) => name.replace(/-/g, '_');
const moduleName = (path: string) => norm(path.split('/').pop()!.replace(/\.ko(\.\w+)?$/, ''));

export function parseModulesDep(text: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const [path, rest] = line.split(':');
    if (!path || rest === undefined) continue;
    deps.set(path.trim(), rest.trim().split(/\s+/).filter(Boolean));
  }
  return deps;
}

// Paths (relative to lib/modules/<release>) of `names` and everything they need.
export function closure(deps: Map<string, string[]>, names: string[]): { paths: string[]; missing: string[] } {
  const byName = new Map([...deps.keys()].map((path) => [moduleName(path), path]));
  const paths = new Set<string>();
  const missing: string[] = [];
  const visit = (path: string) => {
    if (paths.has(path)) return;
    paths.add(path);
    for (const dep of deps.get(path) ?? []) visit(dep);
  };
  for (const name of names) {
    const path = byName.get(norm(name));
    if (path) visit(path);
    else missing.push(name);
  }
  return { paths: [...paths], missing };
}

export interface ModulePlan {
  // Paths relative to lib/modules/<release>.
  readonly files: string[];
  // Names to modprobe at boot, in order.
  readonly load: string[];
}

export async function planModules(kernel: GuestKernel, names = Object.keys(bootModules)): Promise<ModulePlan> {
  const config = existsSync(kernel.config) ? await readFile(kernel.config, 'utf8') : '';
  const builtIn = (name: string) => new RegExp(`^${bootModules[name] ?? '-'}=y$`, 'm').test(config);
  const modular = names.filter((name) => !builtIn(name));
  if (modular.length === 0) return { files: [], load: [] };
  const depFile = kernel.modulesRoot ? join(kernel.modulesRoot, 'lib/modules', kernel.release, 'modules.dep') : '';
  if (!depFile || !existsSync(depFile)) {
    throw new ProvisionError(`kernel ${kernel.release} builds ${modular.join(', ')} as modules but no modules were given; pass --kernel-modules or build them in`);
  }
  const { paths, missing } = closure(parseModulesDep(await readFile(depFile, 'utf8')), modular);
  if (missing.length) throw new ProvisionError(`kernel ${kernel.release} has no module ${missing.join(', ')} and does not build it in`);
  return { files: paths, load: modular };
}
