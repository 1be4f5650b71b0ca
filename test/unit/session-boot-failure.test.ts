// An infrastructure error ends the property run. A guest that cannot boot ends it with that one error: two boot
// attempts, not a counterexample shrunk through a reboot per step.
import { expect, it } from 'vitest';
import { findProperty } from '../../properties/registry.js';
import { runProperty } from '../../properties/runner.js';
import { GuestSession } from '../../properties/session.js';
import { BootError, ConnectionLostError } from '../../vm/errors.js';
import type { Machine } from '../../vm/machine.js';

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

// A connection lost in the middle of a case is the harness's failure: no
// shrinking through reboots, no failure blamed on the driver, one error out.
it('ends the run at the first lost connection, without rebooting to shrink it', async () => {
  let boots = 0;
  let calls = 0;
  const fakeMachine = {
    dir: '/nonexistent',
    failure: undefined,
    consoleLines: 0,
    exec: async () => ({ code: 0, stdout: '0000:00:01.0\n', stderr: '' }),
    call: async () => {
      calls++;
      throw new ConnectionLostError('the SSH connection closed: ECONNRESET');
    },
    syncConsole: async () => undefined,
    crashesSince: () => [],
    close: async () => undefined,
  };
  const session = new GuestSession(async () => {
    boots++;
    return fakeMachine as unknown as Machine;
  });
  const run = runProperty(findProperty('roundtrip')!, session, { numRuns: 50 });
  await expect(run).rejects.toBeInstanceOf(ConnectionLostError);
  await expect(run).rejects.toThrow(/ECONNRESET/);
  expect(boots).toBe(1);
  // The first case's opening requests (the counters' reads go out together), none after.
  expect(calls).toBeLessThanOrEqual(5);
});
