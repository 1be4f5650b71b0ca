// Picks TCG or KVM. KVM is used only when a short probe boots the kernel to its
// first panic under it (nested KVM here aborts or hangs; platform.md).
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { execa } from 'execa';
import { UsageError } from '../errors.js';
import type { Accel } from './args.js';

export type AccelChoice = Accel | 'auto';

let probed: Promise<Accel> | undefined;

export function parseAccel(value: string | undefined): AccelChoice {
  const choice = value ?? process.env.DMAFAULT_ACCEL ?? 'auto';
  if (choice !== 'auto' && choice !== 'tcg' && choice !== 'kvm') {
    throw new UsageError(`accelerator must be auto, tcg or kvm; got "${choice}"`);
  }
  return choice;
}

async function probeKvm(kernelImage: string): Promise<Accel> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return 'tcg';
  }
  const result = await execa(
    'qemu-system-x86_64',
    ['-accel', 'kvm', '-cpu', 'host', '-M', 'q35', '-m', '128', '-nodefaults', '-display', 'none', '-no-reboot',
      '-kernel', kernelImage, '-append', 'console=ttyS0 panic=-1', '-serial', 'stdio'],
    { reject: false, timeout: 8000, stdin: 'ignore' },
  );
  return /Kernel panic/.test(result.stdout) ? 'kvm' : 'tcg';
}

export function resolveAccel(choice: AccelChoice, kernelImage: string): Promise<Accel> {
  if (choice !== 'auto') return Promise.resolve(choice);
  probed ??= probeKvm(kernelImage);
  return probed;
}
