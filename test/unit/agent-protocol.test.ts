// The guest agent's request parsing, run natively on the host (the ops used
// here touch no device): ids echoed on every parseable line, numbers decimal
// or 0x-hex only, close limited to what open returned, long files refused.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, expect, it } from 'vitest';
import { projectRoot } from '../../vm/project-root.js';
import { tempDir } from '../temp-dirs.js';

let agent = '';

beforeAll(async () => {
  const dir = tempDir('dmafault-agent-');
  agent = join(dir, 'agent');
  await execa('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', `-I${join(projectRoot, 'driver/uapi')}`, '-o', agent, join(projectRoot, 'vm/agent/agent.c'), '-lpthread']);
});

async function talk(lines: string[]): Promise<string[]> {
  const { stdout } = await execa(agent, [], { input: `${lines.join('\n')}\n` });
  return stdout.split('\n');
}

it('answers a malformed request with its own id', async () => {
  expect(await talk(['5 ping extra', '6 nosuchop', '7', `8 ping ${'x'.repeat(300 * 1024)}`])).toEqual(['5 -1 22', '6 -1 38', '7 -1 22', '8 -1 7']);
});

it('reads numbers as decimal or 0x-hex, never octal', async () => {
  // Bytes 0..15 hold the pattern of seed 1; a check at offset `off` against
  // base 10 matches (-1, errno 0) only if `off` was read as ten.
  const out = await talk(['1 alloc 8192 anon rw', '2 fill 0 0 16 1 0', '3 check 0 010 1 1 10', '4 check 0 0xa 1 1 10', '5 check 0 0xA 0x0x1 1 10', '6 check 0 0xg 1 1 10', '7 check 0 -10 1 1 10']);
  expect(out.slice(2)).toEqual(['3 -1 0', '4 -1 0', '5 -1 22', '6 -1 22', '7 -1 22']);
});

it('closes only descriptors that open returned', async () => {
  const out = await talk(['1 alloc 4096 memfd rw', '2 open /dev/null r', '3 close 4', '4 close 3', '5 close 3', '6 close 0']);
  // fd 3 is the memfd behind buffer 0 (not the caller's), fd 4 the opened file.
  expect(out.slice(2)).toEqual(['3 0 0', '4 -1 9', '5 -1 9', '6 -1 9']);
});

it('refuses a file longer than it can return instead of cutting it short', async () => {
  const dir = tempDir('dmafault-agent-');
  await writeFile(join(dir, 'big'), 'x'.repeat(64 * 1024 + 1));
  await writeFile(join(dir, 'fits'), 'x'.repeat(64 * 1024));
  const [big, fits] = await talk([`1 readfile ${join(dir, 'big')}`, `2 readfile ${join(dir, 'fits')}`]);
  expect(big).toBe('1 -1 27');
  expect(fits!.startsWith('2 65536 0 7878')).toBe(true);
});

it('runs a race: one thread per actor, each line timed, results in script order', async () => {
  const script = ['0 ping', '1 close 3', '0 close 3', '1 fork', '1 nosuchop'].join('\n');
  const hex = (text: string) => Buffer.from(text).toString('hex');
  const [, refused, ok] = await talk(['1 open /dev/null r', `2 race ${hex(script)}`, `3 race ${hex(script.split('\n').slice(0, 4).join('\n'))}`]);
  expect(refused).toBe('2 -1 22');
  const [, ret, errno, payload] = ok!.split(' ');
  expect([ret, errno]).toEqual(['4', '0']);
  const steps = payload!.split(',').map((s) => s.split(':').map(Number));
  expect(steps.map(([r]) => r)).toEqual([0, expect.any(Number), expect.any(Number), 0]);
  // Exactly one of the two closes of fd 3 wins; the other sees EBADF.
  expect([steps[1]!.slice(0, 2), steps[2]!.slice(0, 2)].map(String).sort()).toEqual(['-1,9', '0,0']);
  for (const [, , t0, t1] of steps) expect(t1!).toBeGreaterThanOrEqual(t0!);
});

it('maptouch maps, writes and checks a page of a file in one call', async () => {
  const dir = tempDir('dmafault-maptouch-');
  const file = join(dir, 'page');
  await writeFile(file, Buffer.alloc(4096));
  const race = Buffer.from('0 maptouch 3 1 0\n1 maptouch 3 2 1').toString('hex');
  const out = await talk([`1 open ${file} rw`, `2 open ${file} r`, '3 maptouch 3 7', '4 maptouch 4 7', '5 maptouch 9 7', `6 race ${race}`, '7 maptouch 3 7 15', '8 maptouch 3 7 16']);
  // A read-only descriptor refuses a shared writable mapping (EACCES); fd 9 was never opened (EBADF).
  expect(out.slice(2, 5)).toEqual(['3 0 0', '4 -1 13', '5 -1 9']);
  // Two actors, two slots: their bytes never meet.
  expect(out[5]).toMatch(/^6 2 0 0:0:\d+:\d+,0:0:\d+:\d+$/);
  // Slots 0..15 lie in the page's last KiB; 16 is refused.
  expect(out.slice(6)).toEqual(['7 0 0', '8 -1 22']);
  const page = await readFile(file);
  expect(page.subarray(4096 - 1024, 4096 - 1024 + 64).some((b) => b !== 0)).toBe(true);
  expect(page.subarray(0, 4096 - 1024).every((b) => b === 0)).toBe(true);
});

it('starts a race line no earlier than the start it names', async () => {
  const script = ['0@30000000 ping', '1 ping', '1@0x1312d00 ping'].join('\n');
  const [ok, bad] = await talk([`1 race ${Buffer.from(script).toString('hex')}`, `2 race ${Buffer.from('0@x ping').toString('hex')}`]);
  const steps = ok!.split(' ')[3]!.split(',').map((s) => s.split(':').map(Number));
  expect(steps[0]![2]).toBeGreaterThanOrEqual(30_000_000);
  expect(steps[1]![2]).toBeLessThan(20_000_000);
  expect(steps[2]![2]).toBeGreaterThanOrEqual(20_000_000);
  expect(bad).toBe('2 -1 22');
});
