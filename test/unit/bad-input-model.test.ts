// The badinput model's mmap rules, in the driver's order, and what the arbitrary draws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BadCall, badCall, badInputModel, EINVAL } from '../../properties/bad-input.js';

type Mmap = Extract<BadCall, { kind: 'mmap' }>;
const mmap = (shared: boolean, len: number, off: number, prot: 'rw' | 'r' = 'rw'): Mmap => ({ kind: 'mmap', shared, len, off, prot });
const inval = [-1, EINVAL];

describe('mmap of the device file', () => {
  it.each<[string, Mmap, number[]]>([
    ['one byte, shared', mmap(true, 1, 0), [0, 0]],
    ['the whole buffer, shared, read-only', mmap(true, 4096, 0, 'r'), [0, 0]],
    ['zero length: the kernel refuses it', mmap(true, 0, 0), inval],
    ['zero length, private: the kernel still comes first', mmap(false, 0, 4096), inval],
    ['an offset that is not page-aligned: the kernel refuses it', mmap(true, 16, 100), inval],
    ['private, otherwise valid', mmap(false, 4096, 0), inval],
    ['private, read-only', mmap(false, 1, 0, 'r'), inval],
    ['one byte past the buffer', mmap(true, 4097, 0), inval],
    ['two pages', mmap(true, 8192, 0), inval],
    ['a page offset', mmap(true, 1, 4096), inval],
  ])('%s', (_name, c, want) => {
    expect(badInputModel(c)).toEqual(want);
  });

  it('draws private and shared, every length class, both offsets and both protections', () => {
    const drawn = fc.sample(badCall, { numRuns: 3000, seed: 1 }).filter((c): c is Mmap => c.kind === 'mmap');
    const lens = new Set(drawn.map((c) => (c.len >= 1 && c.len <= 4096 ? 'in' : c.len)));
    expect([...lens].sort()).toEqual([0, 4097, 8192, 'in'].sort());
    expect(new Set(drawn.map((c) => c.off))).toEqual(new Set([0, 4096]));
    expect(new Set(drawn.map((c) => c.shared))).toEqual(new Set([true, false]));
    expect(new Set(drawn.map((c) => c.prot))).toEqual(new Set(['rw', 'r']));
    // Cases that only a driver accepting MAP_PRIVATE gets wrong are not rare.
    expect(drawn.filter((c) => !c.shared && badInputModel({ ...c, shared: true })[0] === 0).length).toBeGreaterThan(30);
  });
});
