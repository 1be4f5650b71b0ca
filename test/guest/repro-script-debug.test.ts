// `dmafault repro FILE --script OUT` on the debug flavour: a kernel checker's
// finding reproduced by the standalone program.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { tempDir } from '../temp-dirs.js';

const bin = new URL('../../bin/dmafault.js', import.meta.url).pathname;

// A checker finding (debug flavour): the reproducer dies with the kernel's
// report in the fresh guest; that is it working, and the steps it logged to the
// console before the report say where it got to.
it('counts the same kernel-checker report in the fresh guest as reproduced (irq-after-free, KASAN)', async () => {
  const dir = tempDir('dmafault-script-');
  const run = await execa('node', [bin, 'run', '--flavour', 'debug', '--profile', 'direct', '--property', 'lifecycle', '--variant', 'irq-after-free', '--runs', '20', '--failures', dir], { reject: false });
  expect(run.exitCode, run.stderr).toBe(1);
  const [name] = (await readdir(dir)).filter((n) => n.endsWith('.json'));
  const failure = JSON.parse(await readFile(join(dir, name!), 'utf8'));
  expect(failure.environment.flavour).toBe('debug');
  expect(failure.oracle.message).toMatch(/BUG: KASAN: use-after-free in edu_irq/);

  const repro = await execa('node', [bin, 'repro', join(dir, name!), '--script', join(dir, 'repro.c'), '--json'], { reject: false });
  expect(repro.exitCode, repro.stderr).toBe(1);
  const result = JSON.parse(repro.stdout);
  expect(result.script.reproduces, result.script.output).toBe(true);
  expect(result.script.exit_code).toBeNull();
  expect(result.script.kernel_report.title).toMatch(/BUG: KASAN: use-after-free in edu_irq/);
  // The last step the program logged is what freed the IRQ after the state:
  // an unbind, or a module unload (which unbinds); shrinking may land on either.
  expect(result.script.kernel_report.steps.at(-1)).toMatch(/^step \d+: .*(unbind|rmmod edu_dma)/);
});
