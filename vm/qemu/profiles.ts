// Named, frozen guest configurations. A DMA profile fixes the machine, memory and
// kernel options that decide how DMA reaches memory (see shared/notes/platform.md:
// edu's 28-bit DMA mask limits direct and swiotlb guests to 256 MiB).

export interface Profile {
  readonly name: string;
  readonly machine: string;
  readonly memoryMiB: number;
  readonly devices: readonly string[];
  readonly kernelArgs: readonly string[];
}

export const profiles: Readonly<Record<string, Profile>> = Object.freeze({
  direct: Object.freeze({
    name: 'direct',
    machine: 'q35',
    memoryMiB: 256,
    devices: Object.freeze([]),
    kernelArgs: Object.freeze([]),
  }),
});

export function profileNames(): string[] {
  return Object.keys(profiles);
}
