// Builds dmatap (driver/dmatap/), the module that intercepts a target module's
// DMA-lifecycle calls, against a guest kernel. Like the driver, its sources are
// copied to a cache directory keyed by their hash and the kernel build's
// identity, so the checkout stays clean and an unchanged module is never rebuilt.
import { existsSync } from 'node:fs';
import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '../cache.js';
import { buildOnce } from './build-once.js';
import type { GuestKernel } from '../kernel/guest-kernel.js';
import { type Progress, step } from '../progress.js';
import { runCommand } from '../run-command.js';
import { timeout } from '../timeouts.js';
import { debugInfo, driverDir, faultlibSources } from './driver.js';
import { hashFiles } from './source-hash.js';

export const dmatapDir = join(driverDir, 'dmatap');

// The files that make the module (its README does not), with the fault
// points' library it shares with dmafi (its faultlib/ links to ../faultlib).
export async function dmatapSources(): Promise<string[]> {
  const own = (await readdir(dmatapDir)).filter((n) => /\.(c|h)$|^Kbuild$|^Makefile$/.test(n)).map((n) => join(dmatapDir, n));
  return [...own, ...(await faultlibSources())];
}

export async function buildDmatap(kernel: GuestKernel, cache: string, progress: Progress): Promise<{ ko: string; hash: string }> {
  const files = await dmatapSources();
  const hash = await hashFiles(dmatapDir, files, [kernel.identity, ...debugInfo(kernel)]);
  const dir = await cacheDir(cache, 'build', `dmatap-${kernel.release}-${hash}`);
  const ko = join(dir, 'dmatap.ko');
  if (existsSync(ko)) return { ko, hash };

  await buildOnce(dir, 'dmatap.ko', (into) =>
    step(progress, `building dmatap for ${kernel.release}`, async () => {
      await cp(dmatapDir, into, { recursive: true, dereference: true });
      await runCommand('make', ['-C', kernel.buildDir, `M=${into}`, 'W=1', ...debugInfo(kernel), 'modules'], { timeoutMs: timeout('buildMs') });
    }),
  );
  return { ko, hash };
}
