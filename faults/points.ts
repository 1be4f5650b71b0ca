// The driver's fault points (driver/dmafi.h) and what each one takes.

export interface PointInfo {
  readonly describe: string;
  // errno values the point may be told to return (positive); empty: it takes none.
  readonly errnos: readonly number[];
  readonly defaultErrno?: number;
  // Extra knob of the point, beyond the schedule.
  readonly extra?: 'pages' | 'timeout_ms';
  // It pauses the caller rather than failing the call: no error path runs.
  readonly pause?: true;
}

export const EFAULT = 14;
export const ENOMEM = 12;
export const EIO = 5;
export const ENOSPC = 28;
export const EAGAIN = 11;
export const ETIMEDOUT = 110;
export const EINTR = 4;

export const points = Object.freeze({
  gup_partial: { describe: 'the pin returns fewer pages than asked', errnos: [], extra: 'pages' },
  gup_fail: { describe: 'the pin fails', errnos: [EFAULT, ENOMEM, EAGAIN, EIO], defaultErrno: EFAULT },
  sg_alloc_fail: { describe: 'building the sg table fails', errnos: [ENOMEM], defaultErrno: ENOMEM },
  dma_map_fail: { describe: 'dma_map_sgtable fails', errnos: [ENOMEM, EIO, ENOSPC], defaultErrno: ENOMEM },
  coherent_alloc_fail: { describe: 'dma_alloc_coherent returns NULL (the driver reports -ENOMEM)', errnos: [] },
  dma_timeout: { describe: 'the device never completes a DMA', errnos: [] },
  pageout: { describe: 'the user buffer is paged out when the driver reaches it', errnos: [], extra: 'timeout_ms', pause: true },
  writeback: { describe: 'the pinned pages are written back (cleaned) before the device writes them', errnos: [], extra: 'timeout_ms', pause: true },
  signal: { describe: 'the caller gets a real SIGUSR1 right before an interruptible wait, which then fails (-EINTR without SA_RESTART)', errnos: [] },
  kmalloc_fail: { describe: "one of the driver's own kzalloc/kvzalloc returns NULL (the driver reports -ENOMEM)", errnos: [] },
  irq_late: { describe: "the DMA completes but its interrupt is held back past the wait's timeout (the call fails with -ETIMEDOUT, the engine idle) and delivered once the next DMA has started", errnos: [] },
} satisfies Record<string, PointInfo>);

export type PointName = keyof typeof points;

export const pointNames = Object.keys(points) as PointName[];

// Whether the point makes a call fail or half-succeed (not a pause).
export function failsCall(name: string): boolean {
  return isPointName(name) && !(points[name] as PointInfo).pause;
}

export function isPointName(name: string): name is PointName {
  return Object.hasOwn(points, name);
}
