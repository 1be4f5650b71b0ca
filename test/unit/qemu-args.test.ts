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

  it('restores instead of booting: -incoming replaces the kernel, initramfs and command line; the rest stays as booted', () => {
    const base = { profile: profiles.iommu!, accel: 'tcg' as const, kernelImage: 'k', initrd: 'i', sshPort: 2222, qmpSocket: '/c/vm/qmp.sock' };
    const booted = qemuArgs(base);
    const restored = qemuArgs({ ...base, incoming: "exec:cat '/c/s/state'" });
    expect(booted).toEqual(expect.arrayContaining(['-kernel', 'k', '-initrd', 'i', '-append']));
    expect(restored).not.toContain('-kernel');
    expect(restored).not.toContain('-initrd');
    expect(restored).not.toContain('-append');
    expect(restored[restored.indexOf('-incoming') + 1]).toBe("exec:cat '/c/s/state'");
    expect(restored[restored.indexOf('-qmp') + 1]).toBe('unix:/c/vm/qmp.sock,server=on,wait=off');
    const strip = (args: string[]) => args.filter((a, i) => !['-kernel', '-initrd', '-append', '-incoming'].includes(a) && !['-kernel', '-initrd', '-append', '-incoming'].includes(args[i - 1] ?? ''));
    expect(strip(restored)).toEqual(strip(booted));
  });
});
