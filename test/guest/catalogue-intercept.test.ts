// Interception catches what the hooks catch: every stock variant of the
// catalogue, built without hooks (DMAFI=n) and judged through dmatap (run
// --intercept), fails the property its patch names, shrunk, with a replay
// command (not replayed: see catalogue-cases.ts); except the variants below, whose bug only a fault of the device
// itself (which no intercepted call can make) brings out.
import { expect, it } from 'vitest';
import { dmatapHooks } from '../../faults/hooks.js';
import { caught, describeCatalogue } from './catalogue-cases.js';

const unreachable: Record<string, string> = {
  'failed-read-writes-user': 'a read whose DMA failed: needs the device to fail a DMA (dma_timeout or irq_late, points of the driver)',
  'stale-completion': "needs a DMA's interrupt held back past the wait (irq_late, a point of the driver)",
};

it('names only catalogue variants as unreachable, each with its reason', () => {
  for (const [name, why] of Object.entries(unreachable)) {
    expect(caught.some((e) => e.name === name && e.flavour === 'stock'), name).toBe(true);
    expect(why).toMatch(/\w{3,}/);
  }
  expect(dmatapHooks.points).not.toContain('irq_late');
});

describeCatalogue('stock', { unreachable });
