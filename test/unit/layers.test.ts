// The tree's layers: a module imports only from its own layer or those below,
// and what is specific to the driver under test is named in target/ alone.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../vm/project-root.js';

// Bottom first: the suite's results (suite/) under the Docker back end, under the CLI.
const LAYERS = [['target'], ['vm'], ['faults'], ['audit'], ['reproduce'], ['properties'], ['suite'], ['docker'], ['cli']];
const rank = (dir: string) => LAYERS.findIndex((layer) => layer.includes(dir));

function sources(dir: string): string[] {
  return readdirSync(join(projectRoot, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => relative(projectRoot, join(e.parentPath, e.name)));
}

const files = LAYERS.flat().flatMap(sources);

describe('layers', () => {
  it('no module imports from a layer above its own', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const own = rank(file.split('/')[0]!);
      for (const [, spec] of readFileSync(join(projectRoot, file), 'utf8').matchAll(/^import [^;]*? from '(\.[^']+)'/gms)) {
        const target = relative(projectRoot, join(projectRoot, file, '..', spec!)).split('/')[0]!;
        if (rank(target) > own) wrong.push(`${file} imports ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the driver under test is named only in target/', () => {
    const named = /edu_dma|edu-dma|'edu'|0x11e8|0000:00:01\.0/;
    const wrong = files
      .filter((f) => !f.startsWith('target/'))
      .flatMap((f) => readFileSync(join(projectRoot, f), 'utf8').split('\n').map((line, i) => ({ f, i, line })))
      .filter(({ line }) => !/^\s*(\/\/|\*)/.test(line) && named.test(line))
      .map(({ f, i, line }) => `${f}:${i + 1}: ${line.trim()}`);
    expect(wrong).toEqual([]);
  });
});
