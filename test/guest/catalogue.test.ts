// Proof that the oracles catch what they exist for: a driver that forgets to
// unpin a page fails the suite, the failure shrinks to the smallest transfer, and
// its seed and path replay it exactly.
import { afterAll, expect, it } from 'vitest';
import { findProperty } from '../../properties/registry.js';
import { formatFailure, runProperty } from '../../properties/runner.js';
import { GuestSession } from '../../properties/session.js';
import type { RoundTripCase } from '../../properties/roundtrip.js';
import { environment } from './helpers.js';

const session = new GuestSession(async () => {
  const env = await environment();
  return env.boot('direct', await env.driver('leak-one-pin'));
});
afterAll(() => session.close());

it('leak-one-pin: caught by the pin counters, shrunk, replayable', async () => {
  const entry = findProperty('roundtrip')!;
  const report = await runProperty(entry, session, { numRuns: 100, replayArgs: ['--variant leak-one-pin'] });
  console.log(formatFailure(report));

  expect(report.passed).toBe(false);
  expect(report.error).toMatch(/leaked: vmstat\.nr_foll_pin_acquired-released/);
  // The smallest counterexample: one byte, no offsets.
  expect(report.counterexample as RoundTripCase).toMatchObject({ len: 1, srcOffset: 0, dstOffset: 0, devOffset: 0 });
  expect(report.replay).toBe(`npx dmafault run --property roundtrip --seed=${report.seed} --path ${report.path} --variant leak-one-pin`);

  const again = await runProperty(entry, session, { seed: report.seed, path: report.path! });
  expect(again.passed).toBe(false);
  expect(again.counterexample).toEqual(report.counterexample);
});
