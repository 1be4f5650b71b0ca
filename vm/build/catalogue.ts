// The bug catalogue: driver/bugs/NAME.patch, each opening with a one-line
// description and a "Caught-by: PROPERTY [on PROFILE]" line naming the property
// that must fail, and the DMA profile it needs (default: direct).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bugsDir, listVariants } from './driver.js';

export interface CatalogueEntry {
  readonly name: string;
  readonly description: string;
  readonly caughtBy: string;
  readonly profile: string;
}

export function parseHeader(name: string, text: string): CatalogueEntry {
  const [description = '', caught = ''] = text.split('\n');
  const match = /^Caught-by: (\S+)(?: on (\S+))?$/.exec(caught);
  if (!description || description.startsWith('---') || !match?.[1]) {
    throw new Error(`${name}.patch: expected a description line, then "Caught-by: PROPERTY [on PROFILE]", before the diff`);
  }
  return { name, description, caughtBy: match[1], profile: match[2] ?? 'direct' };
}

export async function catalogue(): Promise<CatalogueEntry[]> {
  const names = await listVariants();
  return Promise.all(names.map(async (name) => parseHeader(name, await readFile(join(bugsDir, `${name}.patch`), 'utf8'))));
}
