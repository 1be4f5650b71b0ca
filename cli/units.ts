// A suite run's units of work: one property on one profile, in a fixed order
// (profile by profile, properties in registry order), so that a shard names the
// same units on every machine.
import type { Shard } from '../suite/summary.js';
import { UsageError } from '../vm/errors.js';

export interface Unit<P> {
  // Position in the whole suite, before sharding.
  readonly index: number;
  readonly profile: string;
  readonly property: P;
}

export function suiteUnits<P>(profiles: readonly string[], properties: readonly P[]): Unit<P>[] {
  return profiles.flatMap((profile, p) => properties.map((property, q) => ({ index: p * properties.length + q, profile, property })));
}

// "2/3": the second of three shards.
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || count > 1024 || index < 1 || index > count) {
    throw new UsageError(`--shard must be I/N with 1 <= I <= N <= 1024 (the I-th of N slices of the suite); got "${text}"`);
  }
  return { index, count };
}

// Shard i of n takes every n-th unit from the (i-1)-th: profiles and
// properties spread over the shards, and the union of all shards is the suite.
export function shardUnits<P>(units: readonly Unit<P>[], shard: Shard): Unit<P>[] {
  return units.filter((u) => u.index % shard.count === shard.index - 1);
}

// A unit's cases split over several guests: `runs` of them, seeded on its own.
export interface Slice {
  readonly index: number;
  readonly count: number;
  readonly runs: number;
}

export type SlicedUnit<P> = Unit<P> & { readonly slice?: Slice };

// With fewer units than jobs, lanes would idle: each unit's cases are split into
// up to ceil(jobs / units) slices (at least `min` cases each). Every slice is a
// fast-check run with its own seed, so a failure replays exactly from the seed
// and path it prints. Runs given by a seed (a replay, a rerun) are not split.
export function sliceUnits<P>(units: readonly Unit<P>[], jobs: number, runsOf: (p: P) => number, min = 20): SlicedUnit<P>[] {
  if (units.length === 0 || units.length >= jobs) return [...units];
  const want = Math.ceil(jobs / units.length);
  return units.flatMap((u) => {
    const total = runsOf(u.property);
    const count = Math.max(1, Math.min(want, Math.floor(total / min)));
    if (count === 1) return [u];
    return Array.from({ length: count }, (_, i) => ({ ...u, slice: { index: i + 1, count, runs: Math.floor(total / count) + (i < total % count ? 1 : 0) } }));
  });
}
