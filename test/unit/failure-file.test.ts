import { describe, expect, it } from 'vitest';
import { environmentDifferences, FAILURE_FORMAT, parseFailure } from '../../reproduce/failure-file.js';
import { UsageError } from '../../vm/errors.js';

const good = {
  format: FAILURE_FORMAT,
  version: 1,
  property: 'roundtrip',
  profile: 'direct',
  seed: -5,
  path: '0:1',
  counterexample: { len: 1 },
  oracle: { message: 'leaked' },
  environment: { kernel: '6.1.0-56-amd64', qemu: '7.2.22', accel: 'tcg', driverHash: 'abc', driverVariant: null, dmafault: '0.1.0' },
  replay: 'npx dmafault run ...',
  created: '2026-11-21T00:00:00Z',
};
const text = JSON.stringify(good);

describe('failure files', () => {
  it('accepts what run writes', () => {
    expect(parseFailure(text)).toEqual(good);
  });

  it.each([
    [text.slice(0, text.length / 2), /not valid JSON .*truncated/],
    ['{"junit": true}', /not a dmafault failure file/],
    ['[1,2]', /not a dmafault failure file/],
    [JSON.stringify({ ...good, version: 2 }), /version: expected 1, got 2/],
    [JSON.stringify({ ...good, seed: 'x' }), /seed: expected an integer seed/],
    [JSON.stringify({ ...good, path: 'a:b' }), /path: expected a path like 3:0:1/],
    [JSON.stringify({ ...good, oracle: {} }), /oracle\.message/],
    [JSON.stringify({ ...good, environment: { ...good.environment, qemu: 7 } }), /environment\.qemu: expected a string/],
  ])('refuses %s', (input, message) => {
    expect(() => parseFailure(input)).toThrow(UsageError);
    expect(() => parseFailure(input)).toThrow(message);
  });

  it('names each difference of environment', () => {
    expect(environmentDifferences(good.environment, { ...good.environment, kernel: '6.12.0', driverHash: 'def' })).toEqual([
      'kernel: recorded 6.1.0-56-amd64, now 6.12.0',
      'driverHash: recorded abc, now def',
    ]);
  });
});
