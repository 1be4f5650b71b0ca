// Where dmafault keeps downloads, unpacked kernels and builds between runs.
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

// Option beats DMAFAULT_CACHE beats $XDG_CACHE_HOME/dmafault beats ~/.cache/dmafault.
export function cacheRoot(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return resolve(option);
  if (env.DMAFAULT_CACHE) return resolve(env.DMAFAULT_CACHE);
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'dmafault');
}

export async function cacheDir(root: string, ...parts: string[]): Promise<string> {
  const dir = join(root, ...parts);
  await mkdir(dir, { recursive: true });
  return dir;
}
