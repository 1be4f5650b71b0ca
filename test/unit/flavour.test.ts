// Kernel flavours: the option is parsed strictly, the debug fragment's symbols
// are checked against the .config a build got, and two builds of one release
// have different identities.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unmetSymbols } from '../../vm/kernel/debug-build.js';
import { parseFlavour } from '../../vm/kernel/flavour.js';
import { kernelIdentity } from '../../vm/kernel/identity.js';
import { UsageError } from '../../vm/errors.js';
import { tempDir } from '../temp-dirs.js';

describe('--flavour', () => {
  it('is stock by default, or debug', () => {
    expect(parseFlavour(undefined)).toBe('stock');
    expect(parseFlavour('debug')).toBe('debug');
  });

  it('refuses anything else, naming what it expects', () => {
    expect(() => parseFlavour('kasan')).toThrow(UsageError);
    expect(() => parseFlavour('kasan')).toThrow('--flavour must be one of: stock, debug; got "kasan"');
  });
});

describe('the debug fragment against the .config', () => {
  const fragment = '# comment\nCONFIG_KASAN=y\nCONFIG_NR_CPUS=8\n# CONFIG_UBSAN_SANITIZE_ALL is not set\n';

  it('is met when every line is in the config', () => {
    expect(unmetSymbols(fragment, 'CONFIG_KASAN=y\nCONFIG_NR_CPUS=8\n# CONFIG_UBSAN_SANITIZE_ALL is not set\nCONFIG_X=y\n')).toEqual([]);
  });

  it('names each symbol a dependency turned off or changed', () => {
    expect(unmetSymbols(fragment, '# CONFIG_KASAN is not set\nCONFIG_NR_CPUS=64\nCONFIG_UBSAN_SANITIZE_ALL=y\n')).toEqual([
      'CONFIG_KASAN=y',
      'CONFIG_NR_CPUS=8',
      '# CONFIG_UBSAN_SANITIZE_ALL is not set',
    ]);
  });
});

describe('kernel identity', () => {
  it('differs between two builds of one release, and is stable for one', async () => {
    const dir = tempDir('dmafault-identity-');
    const [a, b] = [join(dir, 'a'), join(dir, 'b')];
    await Promise.all([
      writeFile(`${a}.config`, 'CONFIG_KASAN=y\n'),
      writeFile(`${b}.config`, 'CONFIG_PROVE_LOCKING=y\n'),
    ]);
    const idA = await kernelIdentity('6.1.192', `${a}.config`, dir);
    expect(await kernelIdentity('6.1.192', `${a}.config`, dir)).toBe(idA);
    expect(await kernelIdentity('6.1.192', `${b}.config`, dir)).not.toBe(idA);
    await writeFile(join(dir, 'Module.symvers'), '0x12345678\tpin_user_pages_fast\tvmlinux\tEXPORT_SYMBOL_GPL\t\n');
    expect(await kernelIdentity('6.1.192', `${a}.config`, dir)).not.toBe(idA);
  });
});
