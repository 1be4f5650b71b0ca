// The bug catalogue: driver/bugs/NAME.patch, each opening with a one-line
// description and a Caught-by line, before the diff:
//   Caught-by: PROPERTY [on PROFILE] [flavour FLAVOUR]
// names the property that must fail, the DMA profile (default: direct) and the
// guest kernel flavour (default: stock) it needs;
//   Caught-by: none (WHY)
// keeps a bug that no property can reach yet, and says why.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Flavour } from '../kernel/flavour.js';
import { bugsDir, listVariants } from './driver.js';

export interface CatalogueEntry {
  readonly name: string;
  readonly description: string;
  // The property that must fail, or null when none can reach the bug yet.
  readonly caughtBy: string | null;
  readonly profile: string;
  readonly flavour: Flavour;
  // Why no property catches it (caughtBy null).
  readonly unreached?: string;
}

const CAUGHT = /^Caught-by: (\S+)(?: on (\S+))?(?: flavour (stock|debug))?$/;
const NONE = /^Caught-by: none \((.+)\)$/;

export function parseHeader(name: string, text: string): CatalogueEntry {
  const [description = '', caught = ''] = text.split('\n');
  const expected = `${name}.patch: expected a description line, then "Caught-by: PROPERTY [on PROFILE] [flavour stock|debug]" or "Caught-by: none (why)", before the diff`;
  if (!description || description.startsWith('---')) throw new Error(expected);
  const none = NONE.exec(caught);
  if (none) return { name, description, caughtBy: null, profile: 'direct', flavour: 'stock', unreached: none[1]! };
  const match = CAUGHT.exec(caught);
  if (!match?.[1] || match[1] === 'none') throw new Error(expected);
  return { name, description, caughtBy: match[1], profile: match[2] ?? 'direct', flavour: (match[3] as Flavour | undefined) ?? 'stock' };
}

export async function catalogue(): Promise<CatalogueEntry[]> {
  const names = await listVariants();
  return Promise.all(names.map(async (name) => parseHeader(name, await readFile(join(bugsDir, `${name}.patch`), 'utf8'))));
}
