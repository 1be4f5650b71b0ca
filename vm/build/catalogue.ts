// The bug catalogue: driver/bugs/NAME.patch, each opening with a one-line
// description and a "Caught-by: PROPERTY" line naming the property that must fail.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bugsDir, listVariants } from './driver.js';

export interface CatalogueEntry {
  readonly name: string;
  readonly description: string;
  readonly caughtBy: string;
}

export function parseHeader(name: string, text: string): CatalogueEntry {
  const [description = '', caught = ''] = text.split('\n');
  const caughtBy = /^Caught-by: (\S+)$/.exec(caught)?.[1];
  if (!description || description.startsWith('---') || !caughtBy) {
    throw new Error(`${name}.patch: expected a description line, then "Caught-by: PROPERTY", before the diff`);
  }
  return { name, description, caughtBy };
}

export async function catalogue(): Promise<CatalogueEntry[]> {
  const names = await listVariants();
  return Promise.all(names.map(async (name) => parseHeader(name, await readFile(join(bugsDir, `${name}.patch`), 'utf8'))));
}
