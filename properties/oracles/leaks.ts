// The leak oracle: after a case, nothing the driver or the kernel counts as held
// may have grown. Judged on deltas from the case's own baseline, so a leak left by
// an earlier failing case (while shrinking) does not fail the cases after it.
import { type Counters, heldResources } from './counters.js';

export interface Leak {
  readonly counter: string;
  readonly before: number;
  readonly after: number;
}

const outstandingPins = (c: Counters) => c.pinsAcquired - c.pinsReleased;

export function findLeaks(before: Counters, after: Counters): Leak[] {
  const leaks: Leak[] = [];
  for (const name of heldResources) {
    const a = before.ledger[name] ?? 0;
    const b = after.ledger[name] ?? 0;
    if (b !== a) leaks.push({ counter: `ledger.${name}`, before: a, after: b });
  }
  // Module-wide (every binding's ledger summed, device states alive, pci_dev
  // references): held counts only, not running totals.
  for (const name of new Set([...Object.keys(before.objects), ...Object.keys(after.objects)])) {
    if (name.endsWith('_total')) continue;
    const a = before.objects[name] ?? 0;
    const b = after.objects[name] ?? 0;
    if (b !== a) leaks.push({ counter: `objects.${name}`, before: a, after: b });
  }
  if (before.swiotlbUsed !== after.swiotlbUsed) {
    leaks.push({ counter: 'swiotlb.io_tlb_used', before: before.swiotlbUsed ?? NaN, after: after.swiotlbUsed ?? NaN });
  }
  if (outstandingPins(after) !== outstandingPins(before) || Number.isNaN(outstandingPins(after))) {
    leaks.push({ counter: 'vmstat.nr_foll_pin_acquired-released', before: outstandingPins(before), after: outstandingPins(after) });
  }
  return leaks;
}

// True when nothing at all is held: the state a fresh guest starts in.
export function isClean(c: Counters): boolean {
  return outstandingPins(c) === 0 && heldResources.every((name) => (c.ledger[name] ?? 0) === 0);
}
