// Proof that the oracles catch what they exist for: every bug variant in
// driver/bugs for the stock kernel fails the property its patch names, on the
// profile it names; the failure is shrunk and replays exactly from its seed
// and path (catalogue-cases.ts). Variants no property reaches yet still apply
// and build. The debug kernel's variants: catalogue-debug.test.ts.
import { describe, expect, it } from 'vitest';
import { findProperty } from '../../properties/registry.js';
import { runProperty } from '../../properties/runner.js';
import type { RoundTripCase } from '../../properties/roundtrip.js';
import { profiles } from '../../vm/qemu/profiles.js';
import { all, caught as entries, describeCatalogue, sessionFor } from './catalogue-cases.js';
import { environment } from './helpers.js';

const unreached = all.filter((e) => e.caughtBy === null);

it('the catalogue is not empty and names only known properties', () => {
  expect(entries.length).toBeGreaterThanOrEqual(10);
  for (const e of entries) {
    expect(findProperty(e.caughtBy!), `${e.name}: ${e.caughtBy}`).toBeDefined();
    expect(profiles[e.profile], `${e.name}: profile ${e.profile}`).toBeDefined();
  }
  // Those are run by catalogue-debug.test.ts, after the debug kernel is built.
  expect(entries.filter((e) => e.flavour === 'debug').length).toBeGreaterThanOrEqual(3);
});

describe.each(unreached)('$name, which no property reaches yet', (entry) => {
  it('applies and builds, and says why it is not caught', async () => {
    console.log(`${entry.name}: not caught yet: ${entry.unreached}`);
    expect(entry.unreached).toMatch(/\w{3,}/);
    const build = await (await environment()).driver(entry.name);
    expect(build.variant).toBe(entry.name);
  });
});

describeCatalogue('stock');

it('leak-one-pin: caught by the kernel pin counters, shrunk to one byte', async () => {
  const session = sessionFor('leak-one-pin');
  const report = await runProperty(findProperty('roundtrip')!, session, { numRuns: 100 });
  // The variant lies to its device's ledger, not to the module-wide sum
  // (objects.pinned_pages), and never to the kernel's own counters.
  expect(report.error).toMatch(/^leaked: .*vmstat\.nr_foll_pin_acquired-released 0 -> [1-9]/);
  expect(report.counterexample as RoundTripCase).toMatchObject({ len: 1, srcOffset: 0, dstOffset: 0, devOffset: 0 });
});
