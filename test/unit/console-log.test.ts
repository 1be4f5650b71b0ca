import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConsoleLog } from '../../vm/console/console-log.js';
import { tempDir } from '../temp-dirs.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/console/${name}`, import.meta.url), 'utf8');

// Closed before their directories go (a file still being opened would fail there).
const logs: ConsoleLog[] = [];
afterEach(async () => {
  await Promise.all(logs.splice(0).map((log) => log.close()));
});

function feed(text: string, chunk = 7): ConsoleLog {
  const log = new ConsoleLog(join(tempDir('dmafault-'), 'console.log'));
  logs.push(log);
  for (let i = 0; i < text.length; i += chunk) log.push(text.slice(i, i + chunk));
  return log;
}

describe('console crash scanner', () => {
  it.each([
    ['warning.log', 'warning', 'WARNING: CPU: 0 PID: 97 at drivers/misc/edu_dma.c:123'],
    ['oops.log', 'bug', 'BUG: unable to handle page fault'],
    ['panic.log', 'panic', 'Kernel panic - not syncing: sysrq triggered crash'],
  ])('recognises %s as %s', (file, kind, title) => {
    const [report] = feed(fixture(file)).crashesSince(0);
    expect(report?.kind).toBe(kind);
    expect(report?.title).toContain(title);
  });

  it('cuts the excerpt at the end-of-trace marker', () => {
    const [report] = feed(fixture('warning.log')).crashesSince(0);
    expect(report?.excerpt).toContain('edu_ioctl+0x1d3');
    expect(report?.excerpt).toContain('end trace');
    expect(report?.excerpt).not.toContain('something after');
  });

  it('reports one crash per report, not one per matching line', () => {
    expect(feed(fixture('oops.log')).crashesSince(0)).toHaveLength(1);
  });

  it('names the checker and cuts at its end when fed \\r\\n lines in small chunks', () => {
    const [report, ...more] = feed(fixture('kasan-uaf.log').replace(/\n/g, '\r\n'), 5).crashesSince(0);
    expect(more).toEqual([]);
    expect(report?.kind).toBe('kasan');
    expect(report?.title).toBe('BUG: KASAN: use-after-free in edu_irq+0x2a/0x80 [edu_dma]');
    expect(report?.excerpt.split('\n').at(-1)).toMatch(/\] ={66}$/);
  });

  it('finds nothing in a clean boot log, including "Warning:" from userspace', () => {
    expect(feed(fixture('clean.log')).crashesSince(0)).toEqual([]);
  });

  it('only scans from the given line on', () => {
    const log = feed(fixture('warning.log') + fixture('clean.log'));
    expect(log.crashesSince(13)).toEqual([]);
  });

  it('resolves waitFor on lines split across chunks, before and after arrival', async () => {
    const log = feed('abc\ndmafault: re', 3);
    const later = log.waitFor(/dmafault: ready/);
    log.push('ady\n');
    await expect(later).resolves.toBe('dmafault: ready');
    await expect(log.waitFor(/^abc$/)).resolves.toBe('abc');
  });
});
