// Joins the reports of one unit's slices (sliceUnits) into the unit's report:
// cases and shrinks summed, the wall time of the slowest, and the first
// failing slice's failure (its own seed and path replay it).
import type { ProfileReport } from '../suite/summary.js';

export function joinSlices(slices: readonly ProfileReport[]): ProfileReport {
  const [first] = slices;
  if (!first) throw new RangeError('joinSlices: no slice');
  if (slices.length === 1) return first;
  const failed = slices.find((r) => r.harnessError) ?? slices.find((r) => !r.passed);
  const totals = {
    cases: slices.reduce((n, r) => n + r.cases, 0),
    shrinks: slices.reduce((n, r) => n + r.shrinks, 0),
    durationMs: Math.max(...slices.map((r) => r.durationMs)),
  };
  return { ...(failed ?? first), ...totals };
}
