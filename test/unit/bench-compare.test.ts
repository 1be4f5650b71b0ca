// bench --compare: which arguments the compared runs get, and the ratios.
import { describe, expect, it } from 'vitest';
import { compareArgs } from '../../cli/bench.js';
import { ratios } from '../../cli/compare.js';
import { accelArgs } from '../../vm/qemu/args.js';

describe('bench --compare', () => {
  it('passes every option but --compare, --catalogue and --json to both runs', () => {
    expect(compareArgs(['--compare', 'HEAD~1', '--boots', '5', '--catalogue', '--json', '--no-overhead'])).toEqual(['--boots', '5', '--no-overhead']);
    expect(compareArgs(['--compare=v1', '--flavour', 'debug'])).toEqual(['--flavour', 'debug']);
  });

  it('divides this tree by the ref for every finite number both report', () => {
    expect(ratios({ boot_ms: 500, rtt_ms: 1, kernel: 'a', only_here: 3, zero: 1 }, { boot_ms: 2000, rtt_ms: 2, kernel: 'a', zero: 0 })).toEqual({ boot_ms: 0.25, rtt_ms: 0.5 });
  });
});

describe('guest time', () => {
  it('fixes the icount shift when asked, and refuses one QEMU would not take', () => {
    expect(accelArgs('tcg', 1, 0)).toEqual(['-accel', 'tcg', '-icount', 'shift=0,sleep=off']);
    expect(() => accelArgs('tcg', 1, 11)).toThrow(/icount shift must be an integer from 0 to 10; got 11/);
  });
});
