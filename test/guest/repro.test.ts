// A catalogue bug found by `dmafault run` writes a failure file; `dmafault repro`
// on it fails again on a fresh guest; a broken file is refused without a boot.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { parseFailure } from '../../reproduce/failure-file.js';
import { tempDir } from '../temp-dirs.js';

const bin = new URL('../../bin/dmafault.js', import.meta.url).pathname;

it('run writes a failure file that repro replays to the same failure', async () => {
  const dir = tempDir('dmafault-failures-');
  const run = await execa('node', [bin, 'run', '--profile', 'direct', '--property', 'badinput', '--variant', 'enomem-for-efault', '--runs', '300', '--failures', dir], { reject: false });
  expect(run.exitCode).toBe(1);
  const [name] = await readdir(dir);
  expect(name).toMatch(/^badinput-direct-.*\.json$/);
  const failure = parseFailure(await readFile(join(dir, name!), 'utf8'), name);
  expect(failure.environment.driverVariant).toBe('enomem-for-efault');
  expect(run.stderr).toContain(`npx dmafault repro ${join(dir, name!)}`);

  const again = await execa('node', [bin, 'repro', join(dir, name!), '--json'], { reject: false });
  expect(again.exitCode).toBe(1);
  const result = JSON.parse(again.stdout);
  expect(result.reproduced).toBe(true);
  expect(result.counterexample).toBe(JSON.stringify(failure.counterexample));
  expect(result.environment_differences).toEqual([]);
});

it('refuses a truncated failure file before booting anything', async () => {
  const file = join(tempDir('dmafault-bad-'), 'cut.json');
  await writeFile(file, '{"format": "dmafault-failure", "version": 1, "prop');
  const started = Date.now();
  const result = await execa('node', [bin, 'repro', file], { reject: false });
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toMatch(/not valid JSON.*truncated/);
  expect(Date.now() - started).toBeLessThan(5000);
});
