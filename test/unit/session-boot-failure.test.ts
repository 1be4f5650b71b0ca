// A guest that cannot boot ends the property run with that one error: two boot
// attempts, not a counterexample shrunk through a reboot per step.
import { expect, it } from 'vitest';
import { findProperty } from '../../properties/registry.js';
import { runProperty } from '../../properties/runner.js';
import { GuestSession } from '../../properties/session.js';
import { BootError } from '../../vm/errors.js';

it('stops after the second failed boot and reports the boot error', async () => {
  let boots = 0;
  const session = new GuestSession(async () => {
    boots++;
    throw new BootError('E_BOOT_FAILED', 'boot failed: out of memory', 'Kernel panic - not syncing: Out of memory');
  });
  const run = runProperty(findProperty('roundtrip')!, session, { numRuns: 50 });
  await expect(run).rejects.toBeInstanceOf(BootError);
  await expect(run).rejects.toThrow(/out of memory/);
  expect(boots).toBe(2);
});
