// checkpatch --strict, sparse and W=1 are clean on the driver, and each of them
// is shown to catch what it exists for on a deliberately broken copy.
import { readFile, writeFile, cp } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { driverDir, driverSources } from '../../vm/build/driver.js';
import { checkpatchScript, runCheckpatch, runSparseW1 } from '../../vm/build/driver-checks.js';
import { cacheRoot } from '../../vm/cache.js';
import type { GuestKernel } from '../../vm/kernel/guest-kernel.js';
import { setup } from '../../vm/setup.js';
import { tempDir } from '../temp-dirs.js';

// Every file of driver/ (all .c and .h, uapi/, Kbuild) and the Makefile: none is left out.
const sources = [...(await driverSources()).map((f) => relative(driverDir, f)), 'Makefile'];
let script: string;
let kernel: GuestKernel;

beforeAll(async () => {
  kernel = (await setup()).kernel;
  script = await checkpatchScript(cacheRoot(), () => {});
});

async function brokenCopy(edit: (text: string) => string): Promise<string> {
  const dir = join(tempDir('dmafault-broken-'), 'driver');
  await cp(driverDir, dir, { recursive: true });
  const file = join(dir, 'edu_bounce.c');
  await writeFile(file, edit(await readFile(file, 'utf8')));
  return dir;
}

describe('the reference driver', () => {
  it('checks every source file, the site list among them', () => {
    expect(sources).toEqual(expect.arrayContaining(['edu_core.c', 'edu_sites.h', 'edu_drv.h', 'dmafi.c', 'dmafi.h', 'uapi/edu_dma.h', 'Kbuild']));
  });

  it('is clean under checkpatch.pl --strict', async () => {
    const result = await runCheckpatch(script, driverDir, sources);
    expect(result.findings).toEqual([]);
    expect(result.clean).toBe(true);
  });

  it('is clean under sparse and a W=1 build', async () => {
    const result = await runSparseW1(kernel, driverDir);
    expect(result.findings, result.output).toEqual([]);
    expect(result.clean).toBe(true);
  });
});

describe('the checks can fail', () => {
  it('checkpatch flags a style error', async () => {
    const dir = await brokenCopy((t) => t.replace('\tif (WARN_ON_ONCE(pos < 0))\n', '\tif(WARN_ON_ONCE(pos < 0))\n'));
    const result = await runCheckpatch(script, dir, ['edu_bounce.c']);
    expect(result.clean).toBe(false);
    expect(result.findings.join('\n')).toMatch(/SPACING/);
  });

  it('sparse flags a user pointer dereferenced directly (the seed bug)', async () => {
    const dir = await brokenCopy((t) =>
      t.replace('\t\tleft = copy_to_user(ubuf, ef->stage, len);', '\t\tmemcpy((void *)ubuf, ef->stage, len);\n\t\tleft = 0;'),
    );
    const result = await runSparseW1(kernel, dir);
    expect(result.clean).toBe(false);
    expect(result.findings.join('\n')).toMatch(/address space/);
  });

  it('W=1 flags an unused variable', async () => {
    const dir = await brokenCopy((t) => t.replace('\tint ret;\n', '\tint ret, unused;\n'));
    const result = await runSparseW1(kernel, dir);
    expect(result.clean).toBe(false);
    expect(result.findings.join('\n')).toMatch(/unused variable/);
  });
});
