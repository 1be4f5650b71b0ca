// Builds a generated reproducer on the host and runs it in a fresh guest, to
// show that the script alone (no Node, no dmafault) reproduces the failure.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Machine } from '../../vm/machine.js';
import { runCommand } from '../../vm/run-command.js';

export interface ScriptRun {
  readonly exitCode: number;
  readonly output: string;
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

export async function runScript(machine: Machine, binary: Buffer): Promise<ScriptRun> {
  await machine.upload('/tmp/repro', binary);
  const result = await machine.exec('/tmp/repro -v');
  return { exitCode: result.code, output: result.stdout + result.stderr };
}
