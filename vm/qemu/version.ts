// The version of the QEMU on PATH, as failure files and the benchmark record it.
import { execa } from 'execa';

export async function qemuVersion(): Promise<string> {
  const { stdout } = await execa('qemu-system-x86_64', ['--version']);
  return /version (\S+)/.exec(stdout)?.[1] ?? stdout.split('\n')[0] ?? 'unknown';
}
