import { describe, expect, it } from 'vitest';
import { runLanes } from '../../cli/lanes.js';
import type { ProfileReport } from '../../suite/summary.js';
import { joinSlices } from '../../cli/slices.js';
import { parseShard, shardUnits, sliceUnits, suiteUnits } from '../../cli/units.js';
import { UsageError } from '../../vm/errors.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

// Items are "key:n"; a resource records what it served.
function harness(fail?: string) {
  const opened: { key: string; lane: number; served: string[]; closed: boolean }[] = [];
  let running = 0;
  let most = 0;
  const hooks = {
    key: (item: string) => item.split(':')[0]!,
    open: (key: string, lane: number) => {
      const r = { key, lane, served: [] as string[], closed: false };
      opened.push(r);
      return r;
    },
    close: async (r: (typeof opened)[number]) => {
      expect(r.closed).toBe(false);
      r.closed = true;
    },
    run: async (item: string, r: (typeof opened)[number]) => {
      expect(r.key).toBe(item.split(':')[0]);
      running++;
      most = Math.max(most, running);
      await tick();
      running--;
      if (item === fail) throw new Error(`boom ${item}`);
      r.served.push(item);
      return item.toUpperCase();
    },
  };
  return { hooks, opened, most: () => most };
}

describe('runLanes', () => {
  const items = ['a:1', 'a:2', 'a:3', 'b:1', 'b:2', 'c:1', 'c:2'];

  it('returns the results in the items order, at most jobs at a time, and closes every resource', async () => {
    const h = harness();
    expect(await runLanes(items, 2, h.hooks)).toEqual(items.map((i) => i.toUpperCase()));
    expect(h.most()).toBe(2);
    expect(h.opened.every((r) => r.closed)).toBe(true);
    expect(h.opened.flatMap((r) => r.served).sort()).toEqual([...items].sort());
  });

  it('gives a lane with nothing of its key a key no other lane holds, so few resources open', async () => {
    const h = harness();
    await runLanes(items, 2, h.hooks);
    // Lane 1 starts on a, lane 2 on b (not a second a); then one of them takes c.
    expect(h.opened.slice(0, 2).map((r) => [r.lane, r.key])).toEqual([[1, 'a'], [2, 'b']]);
    expect(h.opened.length).toBeLessThanOrEqual(4);
    expect(new Set(h.opened.map((r) => r.key))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('one job: one lane, one resource per key, in order', async () => {
    const h = harness();
    await runLanes(items, 1, h.hooks);
    expect(h.opened.map((r) => r.key)).toEqual(['a', 'b', 'c']);
    expect(h.most()).toBe(1);
  });

  it('stops taking items after an error, closes everything, and throws the error', async () => {
    const h = harness('a:2');
    await expect(runLanes(items, 2, h.hooks)).rejects.toThrow('boom a:2');
    expect(h.opened.every((r) => r.closed)).toBe(true);
    expect(h.opened.flatMap((r) => r.served).length).toBeLessThan(items.length - 1);
  });

  it('refuses a job count that is not a positive integer', async () => {
    await expect(runLanes(items, 0, harness().hooks)).rejects.toThrow(/jobs must be a positive integer, got 0/);
  });
});

describe('shards', () => {
  const units = suiteUnits(['direct', 'iommu', 'swiotlb'], ['roundtrip', 'faults', 'badinput', 'lifecycle', 'race']);

  it('splits the suite into disjoint slices whose union is the suite, every profile in each', () => {
    for (const count of [1, 2, 3, 4, 15, 16]) {
      const slices = Array.from({ length: count }, (_, i) => shardUnits(units, { index: i + 1, count }));
      expect(slices.flat().map((u) => u.index).sort((a, b) => a - b)).toEqual(units.map((u) => u.index));
      expect(Math.max(...slices.map((s) => s.length)) - Math.min(...slices.map((s) => s.length))).toBeLessThanOrEqual(1);
    }
    expect(new Set(shardUnits(units, { index: 2, count: 2 }).map((u) => u.profile)).size).toBe(3);
    expect(shardUnits(units, { index: 1, count: 2 })[0]).toEqual({ index: 0, profile: 'direct', property: 'roundtrip' });
  });

  it('parses I/N and names what was wrong', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/2', '3/2', '2', '1/0', 'a/b', '1/2/3', ' 1/2', '1/2000']) {
      expect(() => parseShard(bad)).toThrow(UsageError);
      expect(() => parseShard(bad)).toThrow(/--shard must be I\/N with 1 <= I <= N <= 1024/);
    }
  });
});

describe('case slices', () => {
  const runs = (p: string) => ({ roundtrip: 300, race: 25, lifecycle: 100 })[p] ?? 0;

  it('splits only when lanes would idle, into slices that add up to the unit', () => {
    const suite = suiteUnits(['direct', 'iommu'], ['roundtrip', 'race']);
    expect(sliceUnits(suite, 2, runs)).toEqual(suite);
    const one = suiteUnits(['direct'], ['roundtrip']);
    const sliced = sliceUnits(one, 3, runs);
    expect(sliced.map((u) => u.slice)).toEqual([
      { index: 1, count: 3, runs: 100 },
      { index: 2, count: 3, runs: 100 },
      { index: 3, count: 3, runs: 100 },
    ]);
    expect(sliceUnits(suiteUnits(['direct'], ['lifecycle']), 4, (p) => (p === 'lifecycle' ? 101 : 0))!.map((u) => u.slice!.runs)).toEqual([26, 25, 25, 25]);
    // Fewer than 20 cases a slice is not worth a guest: race's 25 stay whole.
    expect(sliceUnits(suiteUnits(['direct'], ['race']), 2, runs)).toEqual(suiteUnits(['direct'], ['race']));
  });

  it('joins slices: cases summed, the slowest time, the first failure with its own seed and path', () => {
    const r = (over: Partial<ProfileReport>): ProfileReport => ({ property: 'faults', profile: 'direct', passed: true, cases: 150, shrinks: 0, seed: 1, durationMs: 1000, ...over });
    expect(joinSlices([r({ seed: 1 }), r({ seed: 2, durationMs: 1500 })])).toMatchObject({ passed: true, cases: 300, durationMs: 1500, seed: 1 });
    const failed = joinSlices([r({ seed: 1 }), r({ seed: 7, passed: false, cases: 12, shrinks: 5, path: '11:0', error: 'boom' })]);
    expect(failed).toMatchObject({ passed: false, seed: 7, path: '11:0', error: 'boom', cases: 162, shrinks: 5 });
  });
});
