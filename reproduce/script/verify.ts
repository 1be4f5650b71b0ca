// Builds a generated reproducer on the host and runs it in a fresh guest, to
// show that the script alone (no Node, no dmafault) reproduces the failure.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelCrashError } from '../../vm/errors.js';
import type { Machine } from '../../vm/machine.js';
import { runCommand } from '../../vm/run-command.js';

export interface ScriptRun {
  // The program's exit status, or null when the kernel reported a bug while it ran.
  readonly exitCode: number | null;
  readonly output: string;
  // The kernel's report, and the steps the program logged to the console before it.
  readonly kernelReport?: { readonly title: string; readonly excerpt: string; readonly steps: string[] };
}

// A checker's report, offsets and addresses aside: 'BUG: KASAN: use-after-free in edu_irq'.
export function findingKey(title: string): string {
  return title
    .replace(/^guest kernel: /, '')
    .replace(/\+0x[\da-f]+\/0x[\da-f]+/g, '')
    .replace(/\b0x[\da-f]+\b|\b[\da-f]{12,16}\b/g, 'ADDR')
    .trim();
}

// Whether the report the reproducer met is the finding the failure recorded.
export function sameFinding(recorded: string, title: string): boolean {
  const first = recorded.split('\n')[0] ?? '';
  return findingKey(first).includes(findingKey(title)) || findingKey(title).includes(findingKey(first));
}

// gcc -static, as the guest has no C library to link against.
export async function compileScript(source: string): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'dmafault-repro-'));
  try {
    await writeFile(join(dir, 'repro.c'), source);
    await runCommand('gcc', ['-O2', '-static', '-pthread', '-Wall', '-Wextra', '-Werror', '-o', join(dir, 'repro'), join(dir, 'repro.c')]);
    return await readFile(join(dir, 'repro'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Runs the program; a kernel report while it runs (the machine fails with it)
// is returned with the steps the program had logged to the console.
export async function runScript(machine: Machine, binary: Buffer): Promise<ScriptRun> {
  await machine.upload('/tmp/repro', binary);
  try {
    const result = await machine.exec('/tmp/repro -v');
    return { exitCode: result.code, output: result.stdout + result.stderr };
  } catch (err) {
    if (!(err instanceof KernelCrashError)) throw err;
    // The steps logged before the report (the program may go on a little after it).
    const lines = machine.consoleTail(400).split('\n');
    const at = lines.findIndex((line) => line.includes(err.title));
    const steps = lines
      .slice(0, at >= 0 ? at : lines.length)
      .map((line) => /dmafault-repro: (step \d+: .*)$/.exec(line)?.[1])
      .filter((line): line is string => line !== undefined);
    return { exitCode: null, output: err.log, kernelReport: { title: err.title, excerpt: err.log, steps } };
  }
}
