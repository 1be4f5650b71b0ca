import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { singleFaultPlan } from '../../faults/arbitraries.js';
import { parsePlan } from '../../faults/plan.js';
import { FaultController } from '../../faults/controller.js';
import type { Guest } from '../../properties/guest.js';
import { expectedErrno, faultModel } from '../../properties/fault-model.js';
import { parseHeader } from '../../vm/build/catalogue.js';
import { UsageError } from '../../vm/errors.js';

describe('fault plans', () => {
  it('accepts what the arbitraries generate, unchanged', () => {
    fc.assert(
      fc.property(singleFaultPlan(), (plan) => {
        expect(parsePlan(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
      }),
    );
  });

  it.each([
    [{ faults: [{ point: 'gup_explode', schedule: { nth: 1 } }] }, /faults\[0\]\.point: unknown point "gup_explode"; expected one of gup_partial/],
    [{ faults: [{ point: 'gup_fail', schedule: { nth: 0 } }] }, /faults\[0\]\.schedule\.nth: expected an integer from 1/],
    [{ faults: [{ point: 'gup_fail', schedule: { probability: 101 } }] }, /probability: expected an integer from 0 to 100, got 101/],
    [{ faults: [{ point: 'gup_fail', schedule: {} }] }, /expected nth, or a probability above 0/],
    [{ faults: [{ point: 'gup_fail', schedule: { nth: 1, probability: 5 } }] }, /nth excludes interval and probability/],
    [{ faults: [{ point: 'gup_fail', schedule: { nth: 1 }, errno: 2 }] }, /gup_fail returns one of 14, 12, 11, 5, not 2/],
    [{ faults: [{ point: 'dma_timeout', schedule: { nth: 1 }, errno: 5 }] }, /dma_timeout takes no errno/],
    [{ faults: [{ point: 'gup_fail', schedule: { nth: 1 }, pages: 2 }] }, /only gup_partial takes pages/],
    [{ faults: [{ point: 'gup_fail', schedule: { nth: 1 }, colour: 'red' }] }, /unknown field "colour"/],
    [{ faults: [{ point: 'gup_fail', schedule: { nth: 1 } }, { point: 'gup_fail', schedule: { nth: 2 } }] }, /gup_fail appears twice/],
    [{ fault: [] }, /expected \{"faults": \[\.\.\.\]\}/],
    [null, /expected \{"faults"/],
  ])('refuses %j', (raw, message) => {
    expect(() => parsePlan(raw)).toThrow(UsageError);
    expect(() => parsePlan(raw)).toThrow(message);
  });
});

describe('the errno model', () => {
  it('gives the knob errno for failing calls and success where the driver recovers', () => {
    expect(expectedErrno('copy', 'gup_fail', 12)).toBe(12);
    expect(expectedErrno('copy', 'gup_fail', undefined)).toBe(14);
    expect(expectedErrno('xfer_to', 'gup_partial', undefined)).toBe(0);
    expect(expectedErrno('pread', 'dma_timeout', undefined)).toBe(110);
    expect(expectedErrno('open', 'coherent_alloc_fail', undefined)).toBe(12);
  });

  it('covers every operation', () => {
    expect(Object.keys(faultModel).sort()).toEqual(['copy', 'open', 'pread', 'pwrite', 'xfer_from', 'xfer_to']);
  });
});

describe('bug catalogue headers', () => {
  it('reads the description and the property that must catch the bug', () => {
    expect(parseHeader('x', 'Leaks a page.\nCaught-by: roundtrip\n\n--- a/f.c')).toEqual({ name: 'x', description: 'Leaks a page.', caughtBy: 'roundtrip', profile: 'direct', flavour: 'stock' });
    expect(parseHeader('y', 'Stale.\nCaught-by: roundtrip on swiotlb\n')).toMatchObject({ caughtBy: 'roundtrip', profile: 'swiotlb', flavour: 'stock' });
  });

  it('reads the kernel flavour the bug needs', () => {
    expect(parseHeader('z', 'UAF.\nCaught-by: lifecycle on direct flavour debug\n')).toMatchObject({ caughtBy: 'lifecycle', profile: 'direct', flavour: 'debug' });
    expect(parseHeader('z', 'UAF.\nCaught-by: lifecycle flavour debug\n')).toMatchObject({ profile: 'direct', flavour: 'debug' });
  });

  it('keeps a bug no property reaches yet, with the reason', () => {
    expect(parseHeader('r', 'A race.\nCaught-by: none (needs two threads)\n')).toMatchObject({ caughtBy: null, unreached: 'needs two threads' });
  });

  it.each([['--- a/f.c\n+++ b/f.c'], ['Bug.\nCaught-by: none\n'], ['Bug.\nCaught-by: lifecycle flavour huge\n'], ['Bug.\nCaught-by:\n']])('refuses the header %j', (text) => {
    expect(() => parseHeader('x', text)).toThrow(/Caught-by/);
  });
});

describe('arming', () => {
  // A guest that records each debugfs write, in order.
  function recordingGuest(writes: string[]): Guest {
    return { writeFile: async (path: string, text: string) => void writes.push(`${path.split('/').slice(-2).join('/')}=${text}`) } as unknown as Guest;
  }

  it('writes every knob of the point, with the default for what the plan leaves out, and arms last', async () => {
    const writes: string[] = [];
    const controller = new FaultController(recordingGuest(writes), '/faults');
    await controller.arm({ faults: [{ point: 'gup_partial', schedule: { nth: 2 }, pages: 3 }] }, 0);
    expect(writes).toContain('gup_partial/pages=3');
    const first = writes.length;
    await controller.arm({ faults: [{ point: 'gup_partial', schedule: { nth: 1 } }, { point: 'gup_fail', schedule: { nth: 1 } }, { point: 'pageout', schedule: { nth: 1 } }] }, 7);
    const second = writes.slice(first);
    expect(second).toContain('gup_partial/pages=0');
    expect(second).toContain('gup_fail/errno=14');
    expect(second).toContain('pageout/timeout_ms=5000');
    expect(second).toContain('pageout/pid=7');
    expect(second.filter((w) => w.startsWith('pageout/')).at(-1)).toBe('pageout/armed=1');
  });
});
