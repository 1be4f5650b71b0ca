// A cache directory is built once: concurrent callers share the build, and
// a directory without its product (an unfinished older build) is replaced.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildOnce } from '../../vm/build/build-once.js';
import { tempDir } from '../temp-dirs.js';

async function fresh(): Promise<string> {
  const dir = join(tempDir('build-once-'), 'build');
  await mkdir(dir);
  return dir;
}

describe('buildOnce', () => {
  it('runs one build for concurrent callers and renames it into place', async () => {
    const dir = await fresh();
    let builds = 0;
    const build = async (into: string) => {
      builds++;
      await mkdir(into);
      await new Promise((r) => setTimeout(r, 20));
      await writeFile(join(into, 'm.ko'), 'module');
    };
    await Promise.all([buildOnce(dir, 'm.ko', build), buildOnce(dir, 'm.ko', build), buildOnce(dir, 'm.ko', build)]);
    expect(builds).toBe(1);
    expect(await readFile(join(dir, 'm.ko'), 'utf8')).toBe('module');
    await buildOnce(dir, 'm.ko', build);
    expect(builds).toBe(1);
    expect((await readdir(join(dir, '..'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('replaces an unfinished directory, and leaves nothing behind when the build fails', async () => {
    const dir = await fresh();
    await writeFile(join(dir, 'half.o'), '');
    await expect(buildOnce(dir, 'm.ko', async () => { throw new Error('make failed'); })).rejects.toThrow('make failed');
    expect((await readdir(join(dir, '..'))).sort()).toEqual(['build']);
    await buildOnce(dir, 'm.ko', async (into) => {
      await mkdir(into);
      await writeFile(join(into, 'm.ko'), 'x');
    });
    expect(existsSync(join(dir, 'half.o'))).toBe(false);
    expect(existsSync(join(dir, 'm.ko'))).toBe(true);
  });
});
