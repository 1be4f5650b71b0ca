// Guest kernel flavours: the stock Debian kernel (nothing to build), or a debug
// kernel built from Debian's own source with the kernel's checkers turned on.
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { projectRoot } from '../project-root.js';

export type Flavour = 'stock' | 'debug';

export interface FlavourInfo {
  readonly name: Flavour;
  readonly describe: string;
  // Kconfig fragment applied on top of allnoconfig; null: Debian's packaged kernel.
  readonly configFragment: string | null;
}

export const flavours: Readonly<Record<Flavour, FlavourInfo>> = Object.freeze({
  stock: Object.freeze({ name: 'stock', describe: "Debian's linux-image-amd64, as shipped", configFragment: null }),
  debug: Object.freeze({
    name: 'debug',
    describe: 'built from linux-source with KASAN, lockdep, kmemleak, DMA-API debug, DEBUG_SHIRQ, UBSAN, ODEBUG, KFENCE, fault injection',
    configFragment: join(projectRoot, 'vm/kernel/flavours/debug.config'),
  }),
});

// Parses --flavour; undefined means stock.
export function parseFlavour(value: string | undefined): Flavour {
  if (value === undefined || value === 'stock' || value === 'debug') return value ?? 'stock';
  throw new UsageError(`--flavour must be one of: ${Object.keys(flavours).join(', ')}; got "${value}"`);
}
