// Every catalogue variant applies to the driver as it is now: a driver change
// that moves a patch's context must update the patch in the same commit.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { projectRoot } from '../../vm/project-root.js';

const driver = join(projectRoot, 'driver');

it('applies every patch in driver/bugs cleanly', async () => {
  const patches = (await readdir(join(driver, 'bugs'))).filter((n) => n.endsWith('.patch'));
  expect(patches.length).toBeGreaterThan(20);
  const failing: string[] = [];
  for (const name of patches) {
    const r = await execa('patch', ['-p1', '--dry-run', '-s', '-i', join(driver, 'bugs', name)], { cwd: driver, reject: false });
    if (r.exitCode !== 0) failing.push(`${name}: ${r.stdout}${r.stderr}`.trim());
  }
  expect(failing).toEqual([]);
});
