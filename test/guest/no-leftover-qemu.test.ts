// No QEMU outlives a run of the dmafault command: not on Ctrl-C, not on SIGTERM,
// not even when the command is SIGKILLed and cannot clean up.
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { alive } from './helpers.js';

const bin = new URL('../../bin/dmafault.js', import.meta.url).pathname;

async function qemuChildOf(pid: number): Promise<number> {
  const { stdout } = await execa('pgrep', ['-P', String(pid), '-f', 'qemu-system-x86_64'], { reject: false });
  const qemu = Number(stdout.split('\n')[0]);
  if (!qemu) throw new Error(`no QEMU child of ${pid}`);
  return qemu;
}

it.each(['SIGINT', 'SIGTERM', 'SIGKILL'] as const)('kills QEMU when the run gets %s', async (signal) => {
  const child = execa('node', [bin, 'run', '--runs', '1000000'], { reject: false, all: true });
  await new Promise<void>((resolve, reject) => {
    child.all?.on('data', (chunk: Buffer) => /guest (up|restored) in/.test(chunk.toString()) && resolve());
    void child.then((r) => reject(new Error(`run ended before the guest was up:\n${r.all}`)));
  });
  const qemu = await qemuChildOf(child.pid!);
  expect(await alive(qemu)).toBe(true);
  child.kill(signal);
  await child;
  await new Promise((r) => setTimeout(r, 500));
  expect(await alive(qemu), `QEMU ${qemu} survived ${signal}`).toBe(false);
});
