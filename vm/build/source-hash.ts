// Content hash of a set of files, to key cached builds.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

export async function hashFiles(base: string, files: string[], extra: string[] = []): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) {
    hash.update(relative(base, file)).update('\0').update(await readFile(file)).update('\0');
  }
  for (const item of extra) hash.update(item).update('\0');
  return hash.digest('hex').slice(0, 16);
}
