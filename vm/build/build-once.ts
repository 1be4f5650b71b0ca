// Builds a cache directory once. Callers in this process that want the same
// directory share one build; another process never sees it half built: the
// build runs in a sibling directory that is renamed into place once complete
// (a rename over the empty directory cacheDir() made). Two processes that
// build at once both finish, and the first rename wins.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const inflight = new Map<string, Promise<void>>();

async function buildInto(dir: string, product: string, build: (into: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await build(tmp);
    try {
      await rename(tmp, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      // Another build won the rename, or an older, unfinished one left files.
      if (existsSync(join(dir, product))) return;
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

// Runs build(into) unless `dir` already holds `product`; `into` is a fresh
// directory that becomes `dir` when build returns.
export async function buildOnce(dir: string, product: string, build: (into: string) => Promise<void>): Promise<void> {
  if (existsSync(join(dir, product))) return;
  let running = inflight.get(dir);
  if (!running) {
    running = buildInto(dir, product, build).finally(() => inflight.delete(dir));
    inflight.set(dir, running);
  }
  await running;
}
