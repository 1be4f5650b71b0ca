import { describe, expect, it } from 'vitest';
import { delta, injectedDelta, parsePointSummary, parseSiteCounts, wasReset } from '../../audit/counters.js';
import { UsageError } from '../../vm/errors.js';

describe('counter files', () => {
  it('parses the sites file, ignoring blank lines and extra spaces', () => {
    expect(parseSiteCounts('xfer_bad_flags 3\npin_err_release   0\n\n  map_err 12  \n')).toEqual({ xfer_bad_flags: 3, pin_err_release: 0, map_err: 12 });
    expect(parseSiteCounts('')).toEqual({});
  });

  it('parses a fault summary', () => {
    expect(parsePointSummary('gup_fail 10 2\ndma_map_fail 4 0\n')).toEqual({
      gup_fail: { evaluated: 10, injected: 2 },
      dma_map_fail: { evaluated: 4, injected: 0 },
    });
  });

  it.each([
    ['a 1\nb\n', /sites:2: expected "<site> <hits>", got "b"/],
    ['a 1 2\n', /sites:1: expected "<site> <hits>", got "a 1 2"/],
    ['a -1\n', /sites:1: expected a counter \(a non-negative integer below 2\^53\), got "-1"/],
    ['a 1.5\n', /got "1\.5"/],
    ['a 0x10\n', /got "0x10"/],
    ['a 18446744073709551615\n', /below 2\^53/],
    ['9a 1\n', /expected "<site> <hits>"/],
    ['a 1\na 2\n', /sites:2: a appears twice/],
  ])('refuses the sites file %j', (text, message) => {
    expect(() => parseSiteCounts(text)).toThrow(UsageError);
    expect(() => parseSiteCounts(text)).toThrow(message);
  });

  it('names the summary and its line', () => {
    expect(() => parsePointSummary('gup_fail 1 0\ngup_partial 3\n', 'edu_dma/0000:00:04.0/faults/summary')).toThrow(
      'edu_dma/0000:00:04.0/faults/summary:2: expected "<point> <evaluated> <injected>", got "gup_partial 3"',
    );
  });
});

describe('deltas', () => {
  it('subtracts per key, counts new keys from 0 and a lower value as a reset', () => {
    expect(delta({ a: 5, b: 2, c: 7, gone: 1 }, { a: 9, b: 2, c: 3, fresh: 4 })).toEqual({ a: 4, b: 0, c: 3, fresh: 4 });
  });

  it('tells when counters that live together were reset', () => {
    expect(wasReset({ a: 5, b: 2 }, { a: 6, b: 2 })).toBe(false);
    expect(wasReset({ a: 5, b: 2 }, { a: 6, b: 1 })).toBe(true);
    expect(wasReset({ a: 5 }, {})).toBe(true);
  });

  it('counts injections, a point whose counters went down as restarted', () => {
    const before = { gup_fail: { evaluated: 10, injected: 2 }, dma_map_fail: { evaluated: 8, injected: 1 }, pageout: { evaluated: 3, injected: 0 } };
    const after = { gup_fail: { evaluated: 12, injected: 3 }, dma_map_fail: { evaluated: 2, injected: 1 }, pageout: { evaluated: 3, injected: 0 }, writeback: { evaluated: 1, injected: 1 } };
    expect(injectedDelta(before, after)).toEqual({ gup_fail: 1, dma_map_fail: 1, pageout: 0, writeback: 1 });
  });
});
