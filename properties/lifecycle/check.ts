// After every command: the ledger of the current device matches the model, and
// the kernel holds no pins.
import { readCounters } from '../oracles/counters.js';
import { PropertyFailure } from '../roundtrip.js';
import { expectedCoherent, type LifecycleModel, type Real } from './model.js';

export function expectResult(what: string, got: [number, number], want: [number, number] | 'fd'): void {
  const ok = want === 'fd' ? got[0] >= 0 : got[0] === want[0] && got[1] === want[1];
  if (!ok) throw new PropertyFailure(`${what}: returned ${got[0]} errno ${got[1]}, the model says ${want === 'fd' ? 'a file descriptor' : `${want[0]} errno ${want[1]}`}`);
}

// Nothing is held but what a wedged device keeps quarantined.
export async function checkLedger(m: LifecycleModel, r: Real, what: string): Promise<void> {
  if (!m.loaded || !m.bound) return;
  const c = await readCounters(r.guest, r.session.ledgerPath);
  const w = m.wedge;
  const want: Record<string, number> = {
    pinned_pages: w?.pages ?? 0,
    sg_tables: w?.ranges ?? 0,
    dma_mappings: w?.ranges ?? 0,
    dma_in_flight: w ? 1 : 0,
    quarantined: w?.ranges ?? 0,
  };
  const wrong = Object.keys(want).filter((k) => (c.ledger[k] ?? 0) !== want[k]);
  if (wrong.length) {
    throw new PropertyFailure(`after ${what}: the ledger holds ${wrong.map((k) => `${k}=${c.ledger[k]}`).join(', ')}, the model says ${wrong.map((k) => `${k}=${want[k]}`).join(', ')}`);
  }
  if ((c.ledger.coherent_buffers ?? NaN) !== expectedCoherent(m)) {
    throw new PropertyFailure(`after ${what}: ledger coherent_buffers=${c.ledger.coherent_buffers}, the model says ${expectedCoherent(m)}`);
  }
  if (c.pinsAcquired - c.pinsReleased !== want.pinned_pages) {
    throw new PropertyFailure(`after ${what}: ${c.pinsAcquired - c.pinsReleased} pages still pinned, the model says ${want.pinned_pages}`);
  }
}
