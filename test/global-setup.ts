// Provisions once before any test file: host packages, the stock kernel, agent,
// base image and the default driver, so the files only find them in the cache.
// The debug kernel (built from source the first time: minutes) is built by a
// `dmafault prepare --flavour debug` in the background meanwhile; the test
// files that need it run last (vitest.config.ts) and wait for its build lock.
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheRoot } from '../vm/cache.js';
import { stderrProgress } from '../vm/progress.js';
import { setup } from '../vm/setup.js';

const bin = new URL('../bin/dmafault.js', import.meta.url).pathname;

export default async function globalSetup(): Promise<() => void> {
  const progress = stderrProgress('dmafault setup');
  const env = await setup({ progress });
  await env.driver();
  const logs = join(cacheRoot(), 'logs');
  await mkdir(logs, { recursive: true });
  const log = join(logs, 'prepare-debug.log');
  const out = openSync(log, 'w');
  const child = spawn(process.execPath, [bin, 'prepare', '--flavour', 'debug'], { stdio: ['ignore', out, out] });
  progress(`preparing the debug flavour in the background (pid ${child.pid}, log ${log})`);
  return () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
}
