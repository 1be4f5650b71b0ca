// Shared set-up for tests that run a real guest: the environment is provisioned
// by global-setup.ts, so here it only comes out of the cache.
import { execa } from 'execa';
import type { Flavour } from '../../vm/kernel/flavour.js';
import { type Environment, setup } from '../../vm/setup.js';

const envs = new Map<Flavour, Promise<Environment>>();

// The environment of a kernel flavour (global-setup.ts built both).
export function environment(flavour: Flavour = 'stock'): Promise<Environment> {
  let env = envs.get(flavour);
  if (!env) envs.set(flavour, (env = setup({ flavour })));
  return env;
}

// True while a process with this pid exists (and is not a zombie).
export async function alive(pid: number | undefined): Promise<boolean> {
  if (pid === undefined) return false;
  const { stdout } = await execa('ps', ['-o', 'stat=', '-p', String(pid)], { reject: false });
  return stdout.trim() !== '' && !stdout.trim().startsWith('Z');
}

// QEMU processes whose command line mentions `marker` (e.g. a cache directory).
export async function qemuProcessesFor(marker: string): Promise<string[]> {
  const { stdout } = await execa('pgrep', ['-af', 'qemu-system-x86_64'], { reject: false });
  return stdout.split('\n').filter((line) => line.includes(marker) && !line.includes('pgrep'));
}
