// Host packages dmafault needs, checked with dpkg and installed with apt when running as root.
import { execa } from 'execa';
import { ProvisionError } from '../errors.js';
import type { Progress } from '../progress.js';
import { runCommand } from '../run-command.js';

// Debian/Ubuntu package names, each with the reason it is needed.
export const hostPackages: Readonly<Record<string, string>> = Object.freeze({
  'qemu-system-x86': 'runs the guest',
  'busybox-static': 'the guest userland',
  'dropbear-bin': 'the guest SSH server and host key generation',
  cpio: 'packs the initramfs',
  kmod: 'depmod for the guest modules',
  gcc: 'builds the guest agent',
  'gcc-12': 'builds the driver with the compiler of the Debian kernel',
  'libc6-dev': 'static libc for the guest agent',
  make: 'kernel module builds',
  'xz-utils': 'unpacks the kernel image',
  patch: 'applies driver bug variants',
  sparse: 'checks the driver (make C=2)',
  bc: 'the debug kernel build (timeconst)',
  bison: 'the debug kernel build (Kconfig parser)',
  flex: 'the debug kernel build (Kconfig lexer)',
  'libelf-dev': 'the debug kernel build (objtool)',
});

async function installed(name: string): Promise<boolean> {
  const result = await execa('dpkg-query', ['-W', '-f=${Status}', name], { reject: false });
  return result.exitCode === 0 && result.stdout.trim() === 'install ok installed';
}

export async function missingPackages(names = Object.keys(hostPackages)): Promise<string[]> {
  const flags = await Promise.all(names.map(installed));
  return names.filter((_, i) => !flags[i]);
}

// Installs what is missing (root only); otherwise stops with the exact command to run.
export async function ensureHostPackages(progress: Progress): Promise<void> {
  const missing = await missingPackages();
  if (missing.length === 0) return;
  const install = ['install', '-y', '-q', '--no-install-recommends', ...missing];
  if (process.getuid?.() !== 0) {
    throw new ProvisionError(
      `missing host packages: ${missing.join(', ')}; run:\n  sudo apt-get update && sudo apt-get ${install.join(' ')}`,
    );
  }
  progress(`installing host packages: ${missing.join(' ')}`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await runCommand('apt-get', ['update', '-q'], { env });
  await runCommand('apt-get', install, { env });
}
