// The QEMU command line for one VM, built from a profile and the VM's files.
import type { Profile } from './profiles.js';

export type Accel = 'tcg' | 'kvm';

export interface QemuArgsInput {
  readonly profile: Profile;
  readonly accel: Accel;
  readonly kernelImage: string;
  readonly initrd: string;
  readonly sshPort: number;
  readonly extraKernelArgs?: readonly string[];
  readonly extraQemuArgs?: readonly string[];
}

// Quiet enough to keep the emulated UART cheap, loud enough (5) to show WARNINGs.
export const baseKernelArgs = Object.freeze([
  'console=ttyS0',
  'loglevel=5',
  'panic=-1',
  'cryptomgr.notests=1',
  'initcall_blacklist=load_system_certificate_list,init_blk_tracer',
]);

export function qemuArgs(input: QemuArgsInput): string[] {
  const { profile } = input;
  const accel =
    input.accel === 'kvm'
      ? ['-accel', 'kvm', '-cpu', 'host']
      : // icount lets the virtual clock jump over idle time: edu's 100 ms DMA timer then costs no wall time.
        ['-accel', 'tcg', '-icount', 'shift=auto,sleep=off'];
  const append = [...baseKernelArgs, ...profile.kernelArgs, ...(input.extraKernelArgs ?? [])].join(' ');
  return [
    '-M', profile.machine,
    ...accel,
    '-smp', '1',
    '-m', String(profile.memoryMiB),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', input.kernelImage,
    '-initrd', input.initrd,
    '-append', append,
    '-chardev', 'stdio,id=con,signal=off',
    '-serial', 'chardev:con',
    ...profile.devices,
    '-device', 'edu',
    '-device', 'virtio-rng-pci',
    '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${input.sshPort}-:22`,
    '-device', 'virtio-net-pci,netdev=n0',
    ...(input.extraQemuArgs ?? []),
  ];
}
