// The default driver passes every property on every DMA profile, and each
// profile is configured as named (that the bouncing and the translation are
// real is shown by the no-sync and wrong-direction variants of the catalogue,
// caught only on swiotlb and iommu).
import { afterAll, describe, expect, it } from 'vitest';
import { properties } from '../../properties/registry.js';
import { formatFailure, runProperty } from '../../properties/runner.js';
import { GuestSession } from '../../properties/session.js';
import { profileNames } from '../../vm/qemu/profiles.js';
import { environment } from './helpers.js';

const evidence: Record<string, [string, RegExp]> = {
  direct: ['grep -c swiotlb=force /proc/cmdline; ls /sys/kernel/iommu_groups | wc -l', /^0\n0$/m],
  swiotlb: ['cat /sys/kernel/debug/swiotlb/io_tlb_nslabs; dmesg | grep -c "DMAR: IOMMU enabled"', /^\d+\n0$/m],
  iommu: ['dmesg | grep -c "DMAR: IOMMU enabled"; readlink /sys/bus/pci/drivers/edu_dma/0000:00:01.0/iommu_group', /^1\n.*iommu_groups/m],
};

describe.each(profileNames())('profile %s', (profile) => {
  const session = new GuestSession(async ({ cpus }) => {
    const env = await environment();
    return env.boot(profile, await env.driver(), { cpus });
  });
  afterAll(() => session.close());

  it('is configured as named', async () => {
    await session.guest();
    const [command, expected] = evidence[profile]!;
    expect((await session.current!.exec(command)).stdout).toMatch(expected);
  });

  it.each(properties.map((p) => [p.name, p] as const))('%s passes with the default driver', async (_name, entry) => {
    // 100 cases, or the default suite's count when smaller (race: 25 cases at 0.6 s each).
    const runs = Math.min(100, entry.numRuns);
    const report = await runProperty(entry, session, { numRuns: runs });
    expect(report.passed, report.passed ? '' : formatFailure(report)).toBe(true);
    expect(report.cases).toBe(runs);
    expect(session.reboots).toBe(0);
  });
});
