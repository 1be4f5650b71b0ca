// A suite split in slices (`run --shard I/N --json`, as a CI matrix would run
// them) and joined by `dmafault merge` gives the whole suite's units once each,
// one JUnit file and one audit whose cases are the slices' cases.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { properties } from '../../properties/registry.js';
import { tempDir } from '../temp-dirs.js';

const bin = new URL('../../bin/dmafault.js', import.meta.url).pathname;

it('two shards of the direct profile, run at once and merged, are the profile suite', async () => {
  const dir = tempDir('dmafault-shards-');
  const shard = (i: number) =>
    execa('node', [bin, 'run', '--profile', 'direct', '--runs', '5', '--jobs', '1', '--shard', `${i}/2`, '--json', '--failures', dir], { reject: false, stdin: 'ignore' });
  const parts = await Promise.all([shard(1), shard(2)]);
  const files: string[] = [];
  for (const [i, part] of parts.entries()) {
    expect(part.exitCode, part.stderr.slice(-3000)).toBe(0);
    const summary = JSON.parse(part.stdout);
    expect(summary.shard).toEqual({ index: i + 1, count: 2 });
    expect(summary.audit.format).toBe('dmafault-audit');
    files.push(join(dir, `part-${i + 1}.json`));
    await writeFile(files[i]!, part.stdout);
  }
  const [one, two] = parts.map((p) => JSON.parse(p.stdout));
  // Every second unit: the registry's properties 1, 3, 5 and 2, 4.
  expect(one.properties.map((p: { property: string }) => p.property)).toEqual(properties.filter((_, i) => i % 2 === 0).map((p) => p.name));
  expect(two.properties.map((p: { property: string }) => p.property)).toEqual(properties.filter((_, i) => i % 2 === 1).map((p) => p.name));

  const out = join(dir, 'audit');
  const junit = join(dir, 'junit.xml');
  const merged = await execa('node', [bin, 'merge', files[1]!, files[0]!, '--json', '--junit', junit, '--out', out], { reject: false });
  expect(merged.exitCode, merged.stderr).toBe(0);
  const summary = JSON.parse(merged.stdout);
  expect(summary.properties.map((p: { property: string }) => p.property)).toEqual(properties.map((p) => p.name));
  expect(summary.cases).toBe(one.cases + two.cases);
  expect(summary.cases).toBe(5 * properties.length);
  const audit = JSON.parse(await readFile(join(out, 'audit.json'), 'utf8'));
  expect(audit.cases).toBe(one.audit.cases + two.audit.cases);
  expect(audit.properties.sort()).toEqual(properties.map((p) => p.name).sort());
  const xml = await readFile(junit, 'utf8');
  expect(xml.match(/<testcase /g)).toHaveLength(properties.length);

  // One slice alone is refused: the merged summary would miss half the suite.
  const alone = await execa('node', [bin, 'merge', files[0]!], { reject: false });
  expect(alone.exitCode).toBe(2);
  expect(alone.stderr).toMatch(/shard\(s\) 2\/2 missing/);
}, 900_000);
