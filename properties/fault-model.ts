// The model of what a call returns when a fault point fires during it: a
// readable table from (operation, point) to the expected result.
import type { PointName } from '../faults/points.js';
import { EINTR, ETIMEDOUT } from '../faults/points.js';

export type Operation = 'xfer_to' | 'xfer_from' | 'copy' | 'pread' | 'pwrite' | 'open';

export const ENOMEM = 12;

// What the call returns when the point fires: 'ok' (the driver recovers),
// an errno, or 'knob' (the errno the point was told to return).
export type Outcome = 'ok' | 'knob' | number;

// Points an operation reaches; a point missing from a row is never evaluated by it.
// signal is evaluated before each interruptible wait: xfer once (the DMA engine),
// copy once per 2 KiB chunk (the engine), pread and pwrite twice (the file's
// buffer, then the engine); whenever it fires, the call fails with EINTR.
// kmalloc_fail: xfer allocates one pinned range, copy two (source, then
// destination), open its file state. dma_timeout and irq_late are evaluated
// before each DMA a call starts.
export const faultModel: Readonly<Record<Operation, Partial<Record<PointName, Outcome>>>> = Object.freeze({
  xfer_to: { gup_partial: 'ok', gup_fail: 'knob', sg_alloc_fail: 'knob', dma_map_fail: 'knob', dma_timeout: ETIMEDOUT, irq_late: ETIMEDOUT, pageout: 'ok', writeback: 'ok', signal: EINTR, kmalloc_fail: ENOMEM },
  xfer_from: { gup_partial: 'ok', gup_fail: 'knob', sg_alloc_fail: 'knob', dma_map_fail: 'knob', dma_timeout: ETIMEDOUT, irq_late: ETIMEDOUT, pageout: 'ok', writeback: 'ok', signal: EINTR, kmalloc_fail: ENOMEM },
  copy: { gup_partial: 'ok', gup_fail: 'knob', sg_alloc_fail: 'knob', dma_map_fail: 'knob', dma_timeout: ETIMEDOUT, irq_late: ETIMEDOUT, pageout: 'ok', writeback: 'ok', signal: EINTR, kmalloc_fail: ENOMEM },
  pread: { dma_timeout: ETIMEDOUT, irq_late: ETIMEDOUT, pageout: 'ok', signal: EINTR },
  pwrite: { dma_timeout: ETIMEDOUT, irq_late: ETIMEDOUT, pageout: 'ok', signal: EINTR },
  open: { coherent_alloc_fail: ENOMEM, kmalloc_fail: ENOMEM },
});

export const defaultErrno: Partial<Record<PointName, number>> = { gup_fail: 14, sg_alloc_fail: ENOMEM, dma_map_fail: ENOMEM };

// The errno expected when `point` fired during `op` (0: the call succeeds).
export function expectedErrno(op: Operation, point: PointName, knob: number | undefined): number {
  const outcome = faultModel[op][point];
  if (outcome === undefined || outcome === 'ok') return 0;
  if (outcome === 'knob') return knob ?? defaultErrno[point] ?? 5;
  return outcome;
}

export function pointsReachedBy(op: Operation): PointName[] {
  return Object.keys(faultModel[op]) as PointName[];
}
