// Every property the suite runs, by name.
import type fc from 'fast-check';
import { badInputProperty } from './bad-input.js';
import { faultProperty } from './fault-case.js';
import { lifecycleProperty } from './lifecycle/index.js';
import { raceProperty } from './race/index.js';
import { roundTripProperty } from './roundtrip.js';
import type { GuestSession } from './session.js';

export interface PropertyEntry {
  readonly name: string;
  readonly describe: string;
  readonly numRuns: number;
  // vCPUs its guest needs (default 1).
  readonly cpus?: number;
  // A replay by seed and path stops at its case instead of shrinking on: a
  // race's case could shrink on to another (its outcome varies run to run).
  // Command sequences must not: their printed replay path is where shrinking
  // ended, and a replay that does not shrink prints an empty one.
  readonly replayStopsAtCase?: boolean;
  // replayPath: fast-check's path inside a command sequence, printed with its failures.
  // replaying: one case is replayed from its seed and path.
  readonly build: (session: GuestSession, options: { replayPath?: string; replaying?: boolean }) => fc.IAsyncProperty<any>;
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
  {
    name: 'race',
    describe: 'threads on two vCPUs call the driver at once (transfers, bounce I/O, copies, mmap and touch, close, munmap, fork, unbind/rebind, rmmod/insmod): results some serial order allows, byte-exact data, nothing leaked',
    numRuns: 25,
    cpus: 2,
    replayStopsAtCase: true,
    build: raceProperty,
  },
]);

export function findProperty(name: string): PropertyEntry | undefined {
  return properties.find((p) => p.name === name);
}
