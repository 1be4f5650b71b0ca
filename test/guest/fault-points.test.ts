// Every fault point, fired at every position it is evaluated during a
// multi-page call: the errno the model predicts, data intact on success, and
// nothing leaked. runFaultCase throws with the injected faults on any mismatch.
import { afterAll, describe, expect, it } from 'vitest';
import type { PointName } from '../../faults/points.js';
import { type FaultCase, runFaultCase } from '../../properties/fault-case.js';
import type { Operation } from '../../properties/fault-model.js';
import { PAGE } from '../../properties/guest.js';
import { GuestSession } from '../../properties/session.js';
import { environment } from './helpers.js';

const session = new GuestSession(async () => {
  const env = await environment();
  return env.boot('direct', await env.driver());
});
afterAll(() => session.close());

const NEVER = 0xffffffff;

function fault(op: Operation, point: PointName, nth: number, extra: { errno?: number; pages?: number } = {}): FaultCase {
  return { op, plan: { faults: [{ point, schedule: { nth }, ...extra }] }, offset: op === 'copy' ? 1000 : 3000, len: op === 'copy' ? 3 * PAGE : 3000, seed: nth };
}

// How often `point` is evaluated during the call (armed at an nth never reached).
async function evaluations(op: Operation, point: PointName): Promise<number> {
  const outcome = await runFaultCase(session, fault(op, point, NEVER));
  return outcome.injected[point]!.evaluated;
}

describe.each([
  ['copy', 'gup_fail', { errno: 12 }],
  ['copy', 'gup_partial', { pages: 1 }],
  ['copy', 'sg_alloc_fail', {}],
  ['copy', 'dma_map_fail', { errno: 5 }],
  ['copy', 'dma_timeout', {}],
  ['copy', 'pageout', {}],
  ['copy', 'writeback', {}],
  ['xfer_from', 'gup_partial', { pages: 0 }],
  ['xfer_to', 'dma_timeout', {}],
  ['pread', 'dma_timeout', {}],
  ['copy', 'irq_late', {}],
  ['xfer_from', 'irq_late', {}],
  ['pwrite', 'irq_late', {}],
  ['pwrite', 'pageout', {}],
  ['pread', 'pageout', {}],
  ['open', 'coherent_alloc_fail', {}],
  ['xfer_to', 'signal', {}],
  ['xfer_from', 'signal', {}],
  ['copy', 'signal', {}],
  ['pread', 'signal', {}],
  ['pwrite', 'signal', {}],
  ['xfer_to', 'kmalloc_fail', {}],
  ['copy', 'kmalloc_fail', {}],
  ['open', 'kmalloc_fail', {}],
] as const)('%s with %s', (op, point, extra) => {
  // A call's number of evaluations can differ between cases: a DMA-time point
  // is evaluated per DMA, and a copy makes one DMA per physically contiguous
  // piece, which depends on where its fresh buffers land. So nth goes up until
  // a call evaluates the point fewer times; every position before that fires.
  it('fires at every evaluation position with the predicted result and no leak', async () => {
    let positions = 0;
    for (let nth = 1; ; nth++) {
      const outcome = await runFaultCase(session, fault(op, point, nth, extra));
      const counters = outcome.injected[point]!;
      expect(counters.injected, `nth=${nth}, evaluated ${counters.evaluated} times`).toBe(counters.evaluated >= nth ? 1 : 0);
      if (counters.evaluated < nth) break;
      positions++;
      expect(nth, 'more evaluations than any call here makes').toBeLessThan(64);
    }
    expect(positions).toBeGreaterThan(0);
  });
});

it('signal is evaluated before each interruptible wait: the engine per transfer or copy chunk, the buffer then the engine per pread/pwrite', async () => {
  expect(await evaluations('xfer_to', 'signal')).toBe(1);
  expect(await evaluations('copy', 'signal')).toBe(6);
  expect(await evaluations('pread', 'signal')).toBe(2);
  expect(await evaluations('pwrite', 'signal')).toBe(2);
});

it('gup_partial: every short count of a multi-page pin is completed and released exactly', async () => {
  for (let pages = 1; pages < 3; pages++) {
    const outcome = await runFaultCase(session, fault('xfer_to', 'gup_partial', 1, { pages }));
    expect(outcome.injected.gup_partial?.injected).toBe(1);
    expect(outcome.ret).toBe(0);
  }
});
