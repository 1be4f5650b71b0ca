// roundtrip's page-out must really happen: in a guest without swap, a case that
// asks for one fails as not exercised instead of passing without testing it.
import { afterAll, expect, it } from 'vitest';
import { runProperty } from '../../properties/runner.js';
import { roundTripCase, roundTripProperty } from '../../properties/roundtrip.js';
import { GuestSession } from '../../properties/session.js';
import { environment } from './helpers.js';

const session = new GuestSession(async ({ cpus }) => {
  const env = await environment();
  const machine = await env.boot('direct', await env.driver(), { cpus });
  await machine.exec('swapoff -a');
  return machine;
});
afterAll(() => session.close());

it('fails a page-out case as not exercised when the guest has no swap', async () => {
  const pagedOut = roundTripCase.map((c) => ({ ...c, dstKind: 'anon' as const, pageout: true, writeback: false }));
  const entry = { name: 'roundtrip', describe: 'page-out cases only', numRuns: 5, build: (s: GuestSession) => roundTripProperty(s, {}, pagedOut) };
  const report = await runProperty(entry, session, { numRuns: 5 });
  expect(report.passed).toBe(false);
  expect(report.error).toMatch(/page-out requested, but \d+ of \d+ destination pages are still resident .*is there swap\?/);
});
