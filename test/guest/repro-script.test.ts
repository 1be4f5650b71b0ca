// `dmafault repro FILE --script OUT` writes a C reproducer that reproduces the
// catalogue bug alone in a fresh guest (no Node there, none needed to build
// it), and the same program run against the default driver reports nothing:
// its checks judge the driver, they do not replay a verdict.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { compileScript, runScript } from '../../reproduce/script/verify.js';
import { tempDir } from '../temp-dirs.js';
import { environment } from './helpers.js';

const bin = new URL('../../bin/dmafault.js', import.meta.url).pathname;

describe.each([
  // An exact errno expectation (copy to a kernel address: -ENOMEM instead of -EFAULT).
  ['badinput', 'enomem-for-efault', 300, /FAIL step \d+: returned -1 \(errno 12 .*expected -1 errno Bad address/],
  // The pager thread writes back pinned pages; the data check fails.
  ['roundtrip', 'no-dirty-mark', 300, /FAIL step \d+: data differs at byte/],
  // Module unload and shell steps; the leak oracle fails.
  ['lifecycle', 'release-leak', 60, /FAIL leak: ledger coherent_buffers 0 -> 1/],
  // Threads, one per actor, each call started when the failing run started it;
  // another reader's bytes come back through the unlocked bounce stage.
  ['race', 'bounce-unlocked', 300, /FAIL step \d+: data differs at byte/],
] as const)('%s with the catalogue bug %s', (property, variant, runs, symptom) => {
  it('writes a reproducer that fails alone on the bug and passes on the default driver', async () => {
    const dir = tempDir('dmafault-script-');
    const run = await execa('node', [bin, 'run', '--profile', 'direct', '--property', property, '--variant', variant, '--runs', String(runs), '--failures', dir], { reject: false });
    expect(run.exitCode, run.stderr).toBe(1);
    const [name] = (await readdir(dir)).filter((n) => n.endsWith('.json'));
    const out = join(dir, 'repro.c');

    const repro = await execa('node', [bin, 'repro', join(dir, name!), '--script', out, '--json'], { reject: false });
    expect(repro.exitCode, repro.stderr).toBe(1);
    const result = JSON.parse(repro.stdout);
    expect(result.reproduced).toBe(true);
    expect(result.script.reproduces, result.script.output).toBe(true);
    expect(result.script.output).toMatch(symptom);
    expect(result.script.output).toMatch(/^REPRODUCED: /m);

    const source = await readFile(out, 'utf8');
    expect(source).toMatch(/^int main\(int argc, char \*\*argv\)$/m);
    expect(source).not.toMatch(/node|dmafault-agent/i);

    const env = await environment();
    const machine = await env.boot('direct', await env.driver());
    try {
      const clean = await runScript(machine, await compileScript(source));
      expect(clean.output).toMatch(/^not reproduced: /m);
      expect(clean.exitCode, clean.output).toBe(0);
    } finally {
      await machine.close();
    }
  });
});

it('says so, and writes nothing, when the failure no longer reproduces', async () => {
  const dir = tempDir('dmafault-script-');
  const run = await execa('node', [bin, 'run', '--profile', 'direct', '--property', 'badinput', '--variant', 'enomem-for-efault', '--runs', '300', '--failures', dir], { reject: false });
  expect(run.exitCode).toBe(1);
  const [name] = await readdir(dir);
  const file = join(dir, name!);
  // The same failure file, claimed for the default driver: it passes there.
  const text = (await readFile(file, 'utf8')).replace('"driverVariant": "enomem-for-efault"', '"driverVariant": null');
  const moved = join(dir, 'default.json');
  await writeFile(moved, text);
  const repro = await execa('node', [bin, 'repro', moved, '--script', join(dir, 'none.c')], { reject: false });
  expect(repro.exitCode).toBe(0);
  expect(repro.stdout).toContain('no reproducer written: the failure did not reproduce');
  expect(await readdir(dir)).not.toContain('none.c');
});

