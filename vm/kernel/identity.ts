// The identity of a kernel build: what a module must match to load. Two builds
// of one release (a KASAN and a lockdep kernel of 6.1.192, say) differ here, so
// the driver built for one is never loaded into the other.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

// Hash of the release, the .config and the exported symbols' versions (Module.symvers).
export async function kernelIdentity(release: string, config: string, buildDir: string): Promise<string> {
  const hash = createHash('sha256').update(release).update('\0');
  for (const file of [config, join(buildDir, 'Module.symvers')]) {
    hash.update(existsSync(file) ? await readFile(file) : 'absent').update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}
