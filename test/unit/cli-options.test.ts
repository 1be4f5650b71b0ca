import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { integer } from '../../cli/options.js';
import { parseJobsList } from '../../cli/suite-bench.js';
import { cacheRoot } from '../../vm/cache.js';
import { UsageError } from '../../vm/errors.js';
import { parseAccel } from '../../vm/qemu/accel.js';
import { qemuArgs } from '../../vm/qemu/args.js';
import { profiles } from '../../vm/qemu/profiles.js';
import { replayCommand } from '../../properties/runner.js';

describe('command line', () => {
  it('refuses unknown options and bad numbers with the option named', async () => {
    await expect(main(['run', '--bogus'])).resolves.toBe(2);
    await expect(main(['run', '--runs', '0'])).resolves.toBe(2);
    await expect(main(['run', '--path', '1:2'])).resolves.toBe(2);
    await expect(main(['run', '--property', 'nope'])).resolves.toBe(2);
    await expect(main(['run', '--profile', 'nope'])).resolves.toBe(2);
    await expect(main(['audit', '--intercept', '--last'])).resolves.toBe(2);
    await expect(main(['frobnicate'])).resolves.toBe(2);
    await expect(main(['run', '--shard', '3/2'])).resolves.toBe(2);
    await expect(main(['run', '--shard', '1/2', '--property', 'faults', '--profile', 'direct', '--seed', '1', '--path', '1'])).resolves.toBe(2);
    await expect(main(['run', '--jobs', '0'])).resolves.toBe(2);
    await expect(main(['merge'])).resolves.toBe(2);
    await expect(main(['merge', '/nonexistent/part-1.json'])).resolves.toBe(2);
    expect(() => integer('runs', '12x', 1)).toThrow(/--runs must be an integer from 1/);
    expect(parseJobsList('1,2')).toEqual([1, 2]);
    for (const bad of ['', '0', '1,,2', '1,x', '65']) expect(() => parseJobsList(bad)).toThrow(/--suite-jobs must be a comma-separated list of job counts from 1 to 64/);
  });

  it('prints a replay command that its own parser accepts, negative seeds included', () => {
    const cmd = replayCommand('roundtrip', -5, '3:0', ['--variant leak-one-pin']);
    expect(cmd).toBe('npx dmafault run --property roundtrip --seed=-5 --path 3:0 --variant leak-one-pin');
  });

  it('resolves the cache directory: option, then env, then XDG, then home', () => {
    expect(cacheRoot('/x', {})).toBe('/x');
    expect(cacheRoot(undefined, { DMAFAULT_CACHE: '/y' })).toBe('/y');
    expect(cacheRoot(undefined, { XDG_CACHE_HOME: '/z' })).toBe('/z/dmafault');
  });

  it('accepts only known accelerators', () => {
    expect(parseAccel('tcg')).toBe('tcg');
    expect(() => parseAccel('hax')).toThrow(UsageError);
  });
});

describe('QEMU command line', () => {
  const args = qemuArgs({ profile: profiles.direct!, accel: 'tcg', kernelImage: '/k', initrd: '/i', sshPort: 4321 });
  const joined = args.join(' ');

  it('uses icount under TCG, never reboots, and panics out', () => {
    expect(joined).toContain('-accel tcg -icount shift=auto,sleep=off');
    expect(args).toContain('-no-reboot');
    expect(joined).toMatch(/panic=-1/);
  });

  it('restricts guest networking and forwards only from 127.0.0.1', () => {
    expect(joined).toContain('user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:4321-:22');
  });

  it('keeps direct-DMA guests within edu’s 28-bit reach', () => {
    expect(profiles.direct!.memoryMiB).toBeLessThanOrEqual(256);
    expect(joined).toContain('-device edu');
  });
});
