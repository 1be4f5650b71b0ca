// The QEMU command line for one VM, built from a profile and the VM's files.
import type { Profile } from './profiles.js';
import { driverUnderTest } from '../../target/index.js';

export type Accel = 'tcg' | 'kvm';

export interface QemuArgsInput {
  readonly profile: Profile;
  readonly accel: Accel;
  readonly kernelImage: string;
  readonly initrd: string;
  readonly sshPort: number;
  readonly extraKernelArgs?: readonly string[];
  readonly extraQemuArgs?: readonly string[];
  // vCPUs (default 1).
  readonly cpus?: number;
  // A fixed icount shift (see accelArgs); default auto.
  readonly icountShift?: number;
  // QMP socket to listen on (unix path).
  readonly qmpSocket?: string;
  // Restore a saved guest instead of booting: the -incoming URI. The kernel,
  // initramfs and command line then come from the saved memory.
  readonly incoming?: string;
}

// The accelerator's arguments. One vCPU under TCG runs with -icount so that edu's
// 100 ms DMA timer costs no wall time. icount forces round-robin TCG, and with two
// or more vCPUs QEMU 7.2 hangs in secondary-CPU bring-up (measured: the AP spins
// in cpu_init/smp_callin while the boot CPU waits, for good, with and without
// sleep=off, shift=auto or fixed, idle=poll, tsc=reliable, qboot or SeaBIOS). So
// an SMP guest runs multi-threaded TCG without icount: its vCPUs run truly in
// parallel on the host's cores (which is what races need), and each DMA then
// waits edu's 100 ms timer in real time.
//
// `icountShift` fixes the guest clock to 2^shift ns per instruction instead of
// letting QEMU adapt it to the host's speed (shift=auto): the guest's clock then
// counts instructions alone, and a cost measured on it does not move with host
// load (the benchmark's guest-time figures).
export function accelArgs(accel: Accel, cpus: number, icountShift?: number): string[] {
  if (accel === 'kvm') return ['-accel', 'kvm', '-cpu', 'host'];
  if (cpus > 1) return ['-accel', 'tcg,thread=multi'];
  if (icountShift !== undefined && (!Number.isInteger(icountShift) || icountShift < 0 || icountShift > 10)) throw new RangeError(`the icount shift must be an integer from 0 to 10; got ${icountShift}`);
  return ['-accel', 'tcg', '-icount', `shift=${icountShift ?? 'auto'},sleep=off`];
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
  const cpus = input.cpus ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 8) throw new RangeError(`vCPUs must be an integer from 1 to 8; got ${cpus}`);
  const accel = accelArgs(input.accel, cpus, input.icountShift);
  const append = [...baseKernelArgs, ...profile.kernelArgs, ...(input.extraKernelArgs ?? [])].join(' ');
  return [
    '-M', profile.machine,
    ...accel,
    '-smp', String(cpus),
    '-m', String(profile.memoryMiB),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    ...(input.incoming !== undefined ? ['-incoming', input.incoming] : ['-kernel', input.kernelImage, '-initrd', input.initrd, '-append', append]),
    ...(input.qmpSocket !== undefined ? ['-qmp', `unix:${input.qmpSocket},server=on,wait=off`] : []),
    '-chardev', 'stdio,id=con,signal=off',
    '-serial', 'chardev:con',
    ...profile.devices,
    ...driverUnderTest.qemuDevice,
    '-device', 'virtio-rng-pci',
    '-netdev', `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${input.sshPort}-:22`,
    '-device', 'virtio-net-pci,netdev=n0',
    ...(input.extraQemuArgs ?? []),
  ];
}
