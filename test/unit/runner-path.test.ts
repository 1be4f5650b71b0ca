import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PropertyEntry } from '../../properties/registry.js';
import { runProperty } from '../../properties/runner.js';
import type { GuestSession } from '../../properties/session.js';
import { UsageError } from '../../vm/errors.js';

// A property that needs no guest: fails for any n above 10.
const entry: PropertyEntry = {
  name: 'toy',
  describe: 'fails above 10',
  numRuns: 50,
  build: () => fc.asyncProperty(fc.integer({ min: 0, max: 1000 }), async (n) => {
    if (n > 10) throw new Error(`${n} is above 10`);
  }),
};
const session = { property: '', cpus: 1, throwIfInfraFailed: () => undefined } as unknown as GuestSession;

describe('runProperty replay paths', () => {
  it('replays a printed seed and path', async () => {
    const report = await runProperty(entry, session, { seed: 42 });
    expect(report.passed).toBe(false);
    const again = await runProperty(entry, session, { seed: 42, path: report.path! });
    expect(again.passed).toBe(false);
    expect(again.counterexample).toEqual(report.counterexample);
  });

  it('names a path that leads to no case as the user\'s error, with what to give instead', async () => {
    const err = await runProperty(entry, session, { seed: 42, path: '0:999:999:999' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/^--path 0:999:999:999 names no case of property toy with --seed=42: give them exactly as a failure printed them/);
  });
});
