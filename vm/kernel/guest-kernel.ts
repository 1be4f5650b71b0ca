// What the harness needs of a guest kernel, whoever built it.
import type { Flavour } from './flavour.js';

export interface GuestKernel {
  // `uname -r` of the kernel.
  readonly release: string;
  // What QEMU boots: an uncompressed PVH vmlinux (fast under TCG) or a bzImage.
  readonly image: string;
  // Kernel build or headers directory, for `make -C <buildDir> M=... modules`.
  readonly buildDir: string;
  // A root holding lib/modules/<release>/ with modules.dep, or null when the
  // kernel has everything the guest needs built in.
  readonly modulesRoot: string | null;
  // The kernel's .config, to tell built-in from modular drivers.
  readonly config: string;
  readonly origin: 'debian' | 'custom' | 'debug';
  // Which checkers it carries: 'debug' for the debug flavour, else 'stock'.
  readonly flavour: Flavour;
  // Release + config + symbol versions (identity.ts): the key of every module build.
  readonly identity: string;
}
