// The accelerator arguments: one vCPU keeps icount, more run multi-threaded TCG.
import { describe, expect, it } from 'vitest';
import { accelArgs, qemuArgs } from '../../vm/qemu/args.js';
import { profiles } from '../../vm/qemu/profiles.js';

describe('qemu arguments', () => {
  it('runs one TCG vCPU under icount, so edu timers cost no wall time', () => {
    expect(accelArgs('tcg', 1)).toEqual(['-accel', 'tcg', '-icount', 'shift=auto,sleep=off']);
  });

  it('runs two or more TCG vCPUs multi-threaded and without icount (icount with SMP hangs in CPU bring-up)', () => {
    expect(accelArgs('tcg', 2)).toEqual(['-accel', 'tcg,thread=multi']);
    expect(accelArgs('kvm', 2)).toEqual(['-accel', 'kvm', '-cpu', 'host']);
  });

  it('passes the vCPU count and refuses a count QEMU would not take', () => {
    const base = { profile: profiles.direct!, accel: 'tcg' as const, kernelImage: 'k', initrd: 'i', sshPort: 2222 };
    const args = qemuArgs({ ...base, cpus: 2 });
    expect(args[args.indexOf('-smp') + 1]).toBe('2');
    expect(qemuArgs(base)[qemuArgs(base).indexOf('-smp') + 1]).toBe('1');
    expect(() => qemuArgs({ ...base, cpus: 0 })).toThrow(/vCPUs must be an integer from 1 to 8; got 0/);
  });
});
