// Named, frozen guest configurations. A DMA profile fixes the machine, memory,
// devices and kernel options that decide how DMA reaches memory
// (shared/notes/platform.md has the measurements behind each choice).

export interface Profile {
  readonly name: string;
  readonly describe: string;
  readonly machine: string;
  readonly memoryMiB: number;
  // Devices created before edu (an IOMMU must exist before the devices behind it).
  readonly devices: readonly string[];
  readonly kernelArgs: readonly string[];
  // Appended on the debug kernel flavour, whose checkers take a third of a small guest.
  readonly debugKernelArgs?: readonly string[];
}

const freeze = (p: Profile): Profile =>
  Object.freeze({ ...p, devices: Object.freeze([...p.devices]), kernelArgs: Object.freeze([...p.kernelArgs]), debugKernelArgs: Object.freeze([...(p.debugKernelArgs ?? [])]) });

export const profiles: Readonly<Record<string, Profile>> = Object.freeze({
  // edu truncates DMA addresses to 28 bits: without an IOMMU all RAM must sit below 256 MiB.
  direct: freeze({
    name: 'direct',
    describe: 'no IOMMU: DMA addresses are physical addresses',
    machine: 'q35',
    memoryMiB: 256,
    devices: [],
    kernelArgs: ['iommu=off'],
  }),
  // Every mapping bounces through swiotlb: a missing dma_sync shows as stale data.
  // And no MSI: edu raises a legacy INTx line that other devices share, so an
  // interrupt handler left registered stays on the line (with MSI, freeing the
  // vector takes the handler with it and the kernel warns instead).
  swiotlb: freeze({
    name: 'swiotlb',
    describe: 'swiotlb=force: every mapping bounces through a swiotlb slot; legacy INTx interrupts (pci=nomsi)',
    machine: 'q35',
    memoryMiB: 256,
    devices: [],
    kernelArgs: ['iommu=off', 'swiotlb=force', 'pci=nomsi'],
    // 32 MiB of bounce slots instead of 64: with KASAN's shadow, kmemleak and
    // lockdep, the OOM killer took dropbear after 20 min of lifecycle sequences
    // (42802 of 65406 pages reserved). The largest mapping in the suite is 2 MiB.
    debugKernelArgs: ['swiotlb=16384,force'],
  }),
  // DMA goes through an emulated VT-d: a DMA after unmap is a logged DMAR fault.
  iommu: freeze({
    name: 'iommu',
    describe: 'emulated Intel IOMMU: IOVAs under the mask, DMA after unmap faults',
    machine: 'q35',
    memoryMiB: 1024,
    devices: ['-device', 'intel-iommu'],
    kernelArgs: ['intel_iommu=on', 'iommu.strict=1'],
  }),
});

export function profileNames(): string[] {
  return Object.keys(profiles);
}
