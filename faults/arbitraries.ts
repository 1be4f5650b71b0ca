// fast-check arbitraries for fault plans: a single armed point, or a few.
import fc from 'fast-check';
import type { FaultPlan, FaultSpec } from './plan.js';
import { type PointName, pointNames, points } from './points.js';

// One point firing at its nth evaluation (1..maxNth), with a valid errno. A
// third of the draws are the first evaluation, which every call that reaches
// the point has (an XFER maps once: a uniform nth would leave most of those
// cases without a fault), and a third the second, where a call with two user
// buffers (a copy) reaches the second one: the catalogue missed copy-src-leak
// in 300 cases when only a twelfth of them were.
export function nthFault(point: PointName, maxNth = 4): fc.Arbitrary<FaultSpec> {
  const info = points[point];
  return fc.record({
    nth: fc.oneof(fc.constant(1), fc.constant(Math.min(2, maxNth)), fc.integer({ min: 1, max: maxNth })),
    errno: info.errnos.length ? fc.constantFrom(...info.errnos) : fc.constant(undefined),
    pages: point === 'gup_partial' ? fc.nat({ max: 8 }) : fc.constant(undefined),
  }).map(({ nth, errno, pages }) => ({
    point,
    schedule: { nth },
    ...(errno !== undefined ? { errno } : {}),
    ...(pages !== undefined ? { pages } : {}),
  }));
}

// A plan arming one point, any of them.
export function singleFaultPlan(candidates: readonly PointName[] = pointNames, maxNth = 4): fc.Arbitrary<FaultPlan> {
  return fc.constantFrom(...candidates).chain((point) => nthFault(point, maxNth)).map((spec) => ({ faults: [spec] }));
}

// Probability schedules with a seed: replayable random failures.
export function randomFault(point: PointName): fc.Arbitrary<FaultSpec> {
  return fc.record({ probability: fc.integer({ min: 1, max: 100 }), seed: fc.nat(), times: fc.integer({ min: -1, max: 3 }) })
    .map((schedule) => ({ point, schedule }));
}
