// Debian's kernel source for the release of the default kernel: the
// linux-source package of the very version behind linux-image-amd64, fetched
// with `apt-get download` and unpacked into the cache (no root needed).
import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from '../cache.js';
import { ProvisionError } from '../errors.js';
import { type Progress, step } from '../progress.js';
import { runCommand } from '../run-command.js';
import { resolveDebianPackages } from './debian.js';

export interface KernelSource {
  // Debian package and version, e.g. linux-source-6.1 6.1.192-3.
  readonly package: string;
  readonly version: string;
  // The unpacked tree (holds Makefile, scripts/, ...).
  readonly tree: string;
}

async function packageVersion(pkg: string): Promise<string> {
  const { stdout } = await execa('apt-cache', ['show', '--no-all-versions', pkg], { reject: false });
  const version = /^Version: (\S+)$/m.exec(stdout)?.[1];
  if (!version) throw new ProvisionError(`apt-cache knows no version of ${pkg}; run \`apt-get update\``);
  return version;
}

// The source package matching the default kernel: linux-kbuild-6.1 -> linux-source-6.1, same version.
export async function resolveKernelSource(): Promise<{ package: string; version: string }> {
  const { packages } = await resolveDebianPackages();
  const [image] = packages;
  const kbuild = packages.find((name) => name.startsWith('linux-kbuild-'));
  if (!image || !kbuild) throw new ProvisionError('cannot tell the Debian kernel packages apart');
  return { package: kbuild.replace('linux-kbuild-', 'linux-source-'), version: await packageVersion(image) };
}

export async function kernelSource(cache: string, progress: Progress): Promise<KernelSource> {
  const wanted = await step(progress, 'resolving the Debian kernel source', resolveKernelSource);
  const dir = await cacheDir(cache, 'kernel-src', `${wanted.package}_${wanted.version}`);
  const tree = join(dir, wanted.package);
  const done = join(dir, '.complete');
  if (existsSync(done)) return { ...wanted, tree };

  const debs = await cacheDir(cache, 'debs', `${wanted.package}_${wanted.version}`);
  const deb = async () => (await readdir(debs)).find((name) => name.endsWith('.deb'));
  if (!(await deb())) {
    await step(progress, `downloading ${wanted.package} ${wanted.version}`, () =>
      runCommand('apt-get', ['download', `${wanted.package}=${wanted.version}`], { cwd: debs }),
    );
  }
  await step(progress, `unpacking ${wanted.package} ${wanted.version}`, async () => {
    await rm(tree, { recursive: true, force: true });
    const tarball = `./usr/src/${wanted.package}.tar.xz`;
    await execa('sh', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -xO "$2" | tar -xJ -C "$3"', 'x', join(debs, (await deb())!), tarball, dir]);
    if (!existsSync(join(tree, 'Makefile'))) throw new ProvisionError(`${wanted.package} ${wanted.version} did not unpack to ${tree}`);
  });
  await writeFile(done, `${wanted.package} ${wanted.version}\n`);
  return { ...wanted, tree };
}
