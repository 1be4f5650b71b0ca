// The part of the guest initramfs shared by every VM of one kernel: busybox,
// dropbear and its libraries, boot modules, the guest agent and /init.
// Per-VM secrets and the driver go in a small overlay (overlay.ts).
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { hashFiles } from '../build/source-hash.js';
import { cacheDir } from '../cache.js';
import { ProvisionError } from '../errors.js';
import type { GuestKernel } from '../kernel/guest-kernel.js';
import { type Progress, step } from '../progress.js';
import { packCpio } from './cpio.js';
import { planModules } from './guest-modules.js';
import { initScript } from './init-script.js';

const BUSYBOX = '/bin/busybox';
const DROPBEAR = '/usr/sbin/dropbear';

async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await execa('ldd', [binary]);
  return [...stdout.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1] ?? '').filter(Boolean);
}

async function place(stage: string, from: string, to = from, mode?: number): Promise<void> {
  const dest = join(stage, to);
  await mkdir(dirname(dest), { recursive: true });
  await copyFile(from, dest);
  if (mode !== undefined) await chmod(dest, mode);
}

async function stageTree(stage: string, kernel: GuestKernel, agent: string): Promise<void> {
  const plan = await planModules(kernel);
  for (const dir of ['proc', 'sys', 'dev', 'tmp', 'run', 'root', 'etc/dmafault', 'lib/dmafault']) {
    await mkdir(join(stage, dir), { recursive: true });
  }
  await place(stage, BUSYBOX, '/bin/busybox', 0o755);
  await place(stage, DROPBEAR, DROPBEAR, 0o755);
  for (const lib of await sharedLibraries(DROPBEAR)) await place(stage, lib);
  await place(stage, agent, '/sbin/dmafault-agent', 0o755);
  const modules = join('lib/modules', kernel.release);
  for (const file of plan.files) await place(stage, join(kernel.modulesRoot ?? '', modules, file), join(modules, file));
  if (plan.files.length) await execa('depmod', ['-b', stage, kernel.release]);
  await writeFile(join(stage, 'etc/dmafault/modules'), `${plan.load.join('\n')}\n`);
  await writeFile(join(stage, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(stage, 'etc/group'), 'root:x:0:\n');
  await writeFile(join(stage, 'etc/shells'), '/bin/sh\n');
  await writeFile(join(stage, 'init'), initScript(), { mode: 0o755 });
}

export async function buildBaseImage(kernel: GuestKernel, agent: string, cache: string, progress: Progress): Promise<string> {
  if (!existsSync(BUSYBOX) || !existsSync(DROPBEAR)) {
    throw new ProvisionError(`${BUSYBOX} or ${DROPBEAR} missing; install busybox-static and dropbear-bin`);
  }
  const hash = await hashFiles('/', [BUSYBOX, DROPBEAR, agent], [kernel.identity, kernel.image, initScript()]);
  const dir = await cacheDir(cache, 'images', `base-${kernel.release}-${hash}`);
  const out = join(dir, 'base.cpio');
  if (existsSync(out)) return out;
  await step(progress, 'building the guest image', async () => {
    const stage = join(dir, 'stage');
    await rm(stage, { recursive: true, force: true });
    await stageTree(stage, kernel, agent);
    await packCpio(stage, `${out}.tmp`);
    await execa('mv', [`${out}.tmp`, out]);
    await rm(stage, { recursive: true, force: true });
  });
  return out;
}
