// Linearizability: is there one serial order of the observed calls that keeps
// each actor's program order and real-time order (a call that ended before
// another began comes first) in which every result is the serial model's?
import { type Call, type RaceState, type Result, step } from './model.js';

export interface Observed {
  readonly call: Call;
  readonly got: Result;
  // Start and end on the guest's monotonic clock (ns).
  readonly t0: number;
  readonly t1: number;
}

export type Verdict = { readonly ok: true; readonly order: readonly Observed[]; readonly final: RaceState } | { readonly ok: false; readonly prefix: readonly Observed[]; readonly unexplained: readonly { readonly call: Observed; readonly want: Result }[] };

// `lanes`: each actor's calls in program order.
export function linearize(initial: RaceState, lanes: readonly (readonly Observed[])[]): Verdict {
  const seen = new Set<string>();
  let best: { prefix: Observed[]; unexplained: { call: Observed; want: Result }[] } = { prefix: [], unexplained: [] };
  const order: Observed[] = [];

  const search = (pos: number[], state: RaceState): RaceState | undefined => {
    if (pos.every((p, i) => p === lanes[i]!.length)) return state;
    const key = `${pos.join(',')}|${JSON.stringify(state)}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const heads = pos.map((p, i) => lanes[i]![p]);
    const misses: { call: Observed; want: Result }[] = [];
    for (const [i, head] of heads.entries()) {
      if (!head) continue;
      // Another actor's pending call that ended before this one began must go first.
      if (heads.some((other, j) => other && j !== i && other.t1 < head.t0)) continue;
      const { wants, next } = step(state, head.call, head.t0, head.t1);
      if (!wants.some((w) => w[0] === head.got[0] && w[1] === head.got[1])) {
        misses.push({ call: head, want: wants[0]! });
        continue;
      }
      order.push(head);
      // A call that failed changed nothing (model.ts: `next` is the state after success).
      const done = search(pos.map((p, j) => (j === i ? p + 1 : p)), head.got[0] < 0 ? state : next);
      if (done) return done;
      order.pop();
    }
    if (order.length >= best.prefix.length && misses.length) best = { prefix: [...order], unexplained: misses };
    return undefined;
  };

  const final = search(lanes.map(() => 0), initial);
  return final ? { ok: true, order: [...order], final } : { ok: false, ...best };
}
