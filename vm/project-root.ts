// The dmafault checkout or package root (holds driver/ and vm/agent/), found from this
// module's location so it works from sources (vitest) and from dist/ (the CLI).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function find(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'dmafault') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('dmafault: cannot find the package root above ' + import.meta.url);
    dir = parent;
  }
}

export const projectRoot = find();

export function version(): string {
  return JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).version;
}
