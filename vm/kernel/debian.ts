// Debian's current generic kernel and its headers, resolved at run time through
// apt's metapackages, fetched with `apt-get download` and unpacked without root.
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from '../cache.js';
import { ProvisionError } from '../errors.js';
import { type Progress, step } from '../progress.js';
import { runCommand } from '../run-command.js';
import { extractVmlinux } from './extract-vmlinux.js';
import type { GuestKernel } from './guest-kernel.js';
import { kernelIdentity } from './identity.js';

async function dependsOn(pkg: string, prefix: string): Promise<string[]> {
  const result = await execa('apt-cache', ['depends', '--no-recommends', '--no-suggests', pkg], { reject: false });
  return [...result.stdout.matchAll(/Depends: (\S+)/g)]
    .map((m) => m[1] ?? '')
    .filter((name) => name.startsWith(prefix));
}

// The packages behind linux-image-amd64 today, e.g. 6.1.0-56-amd64.
export async function resolveDebianPackages(): Promise<{ release: string; packages: string[] }> {
  let [image] = await dependsOn('linux-image-amd64', 'linux-image-');
  if (!image && process.getuid?.() === 0) {
    await runCommand('apt-get', ['update', '-q']);
    [image] = await dependsOn('linux-image-amd64', 'linux-image-');
  }
  if (!image) {
    throw new ProvisionError('apt does not know linux-image-amd64; run `apt-get update` (Debian or Ubuntu with Debian sources)');
  }
  const release = image.slice('linux-image-'.length);
  const headers = `linux-headers-${release}`;
  const deps = await dependsOn(headers, 'linux-');
  const common = deps.find((name) => name.startsWith('linux-headers-'));
  const kbuild = deps.find((name) => name.startsWith('linux-kbuild-'));
  if (!common || !kbuild) throw new ProvisionError(`cannot resolve the dependencies of ${headers} with apt-cache`);
  return { release, packages: [image, headers, common, kbuild] };
}

async function download(dir: string, packages: string[]): Promise<string[]> {
  const debs = () => readdir(dir).then((names) => names.filter((n) => n.endsWith('.deb')));
  if ((await debs()).length < packages.length) await runCommand('apt-get', ['download', ...packages], { cwd: dir });
  return (await debs()).map((name) => join(dir, name));
}

// The headers' Makefile includes the common headers by absolute /usr/src path; point it at our copy.
async function relocateHeaders(root: string, release: string): Promise<string> {
  const buildDir = join(root, 'usr/src', `linux-headers-${release}`);
  const makefile = join(buildDir, 'Makefile');
  const text = await readFile(makefile, 'utf8');
  await writeFile(makefile, text.replace(/^include \/usr\/src\//m, `include ${join(root, 'usr/src')}/`));
  return buildDir;
}

export async function debianKernel(cache: string, progress: Progress): Promise<GuestKernel> {
  const { release, packages } = await step(progress, 'resolving the Debian kernel', resolveDebianPackages);
  const dir = await cacheDir(cache, 'kernels', release);
  const root = join(dir, 'root');
  const done = join(dir, '.complete');
  const buildDir = join(root, 'usr/src', `linux-headers-${release}`);
  const config = join(root, 'boot', `config-${release}`);
  const kernel = async (): Promise<GuestKernel> => ({
    release,
    image: join(dir, 'vmlinux'),
    buildDir,
    modulesRoot: root,
    config,
    origin: 'debian',
    flavour: 'stock',
    identity: await kernelIdentity(release, config, buildDir),
  });
  if (existsSync(done)) return kernel();

  const debs = await step(progress, `downloading kernel ${release}`, async () =>
    download(await cacheDir(cache, 'debs', release), packages),
  );
  await step(progress, `unpacking kernel ${release}`, async () => {
    await rm(root, { recursive: true, force: true });
    for (const deb of debs) await runCommand('dpkg-deb', ['-x', deb, root]);
    await relocateHeaders(root, release);
    await runCommand('depmod', ['-b', root, release]);
    await extractVmlinux(join(root, 'boot', `vmlinuz-${release}`), join(dir, 'vmlinux'));
  });
  await writeFile(done, `${packages.join('\n')}\n`);
  return kernel();
}
