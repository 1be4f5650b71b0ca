// The default driver passes the round-trip property in a real guest.
import { afterAll, expect, it } from 'vitest';
import { findProperty } from '../../properties/registry.js';
import { formatFailure, runProperty } from '../../properties/runner.js';
import { GuestSession } from '../../properties/session.js';
import { environment } from './helpers.js';

const session = new GuestSession(async () => {
  const env = await environment();
  return env.boot('direct', await env.driver());
});
afterAll(() => session.close());

it('the default driver moves data byte-exact and leaks nothing', async () => {
  const report = await runProperty(findProperty('roundtrip')!, session, { numRuns: 100 });
  expect(report.passed, report.passed ? '' : formatFailure(report)).toBe(true);
  expect(report.cases).toBe(100);
  expect(session.reboots).toBe(0);
});
