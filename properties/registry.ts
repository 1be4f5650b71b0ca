// Every property the suite runs, by name.
import type fc from 'fast-check';
import { badInputProperty } from './bad-input.js';
import { faultProperty } from './fault-case.js';
import { lifecycleProperty } from './lifecycle/index.js';
import { roundTripProperty } from './roundtrip.js';
import type { GuestSession } from './session.js';

export interface PropertyEntry {
  readonly name: string;
  readonly describe: string;
  readonly numRuns: number;
  // replayPath: fast-check's path inside a command sequence, printed with its failures.
  readonly build: (session: GuestSession, options: { replayPath?: string }) => fc.IAsyncProperty<any>;
}

export const properties: readonly PropertyEntry[] = Object.freeze([
  {
    name: 'roundtrip',
    describe: 'zero-copy transfer to the device and back is byte-exact, guards intact, nothing leaked',
    numRuns: 300,
    build: roundTripProperty,
  },
  {
    name: 'faults',
    describe: 'one armed fault point per call: exact errno from the model, data intact, nothing leaked',
    numRuns: 300,
    build: faultProperty,
  },
  {
    name: 'badinput',
    describe: 'random mixes of valid and invalid arguments: the errno of the model table, nothing leaked',
    numRuns: 300,
    build: badInputProperty,
  },
  {
    name: 'lifecycle',
    describe: 'command sequences (open, close, transfer, mmap, munmap, buffer transfers, unbind, bind, failing binds, rmmod, insmod, faults, a wedged engine) against the model',
    numRuns: 100,
    build: lifecycleProperty,
  },
]);

export function findProperty(name: string): PropertyEntry | undefined {
  return properties.find((p) => p.name === name);
}
