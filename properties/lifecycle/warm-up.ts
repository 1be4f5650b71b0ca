// Before each sequence, one pass through every entry point of a file (open,
// mmap, each ioctl, read, write, munmap, close). The kernel's lock validator
// learns lock orders for the life of the guest: without this, a sequence could
// fail only because an earlier one (on the same guest) took the other half of
// a lock cycle, and its shrunk form would pass on a fresh guest. With it, every
// sequence starts from the same learned orders, and replays alone. Then the
// device window is scrubbed to a fixed pattern.
import { DEVICE_NODE, PAGE, XFER_TO_DEVICE } from '../guest.js';
import type { Real } from './model.js';

const WINDOW = 4095;
const SCRUB_SEED = 0x5c5c5c;

export async function warmUp(r: Real): Promise<void> {
  const fd = await r.guest.must('open', DEVICE_NODE, 'rw');
  try {
    const map = await r.guest.must('mapfd', fd, PAGE, 0, 'rw');
    await r.guest.fill(map, 0, 64, 1);
    await r.guest.must('xfer', fd, r.scratch, 0, 64, 0, XFER_TO_DEVICE);
    await r.guest.must('copy', fd, r.scratch, 0, r.scratch, 2 * PAGE, 64);
    await r.guest.must('buf_xfer', fd, 0, 0, 64, XFER_TO_DEVICE);
    await r.guest.must('pwrite', fd, r.scratch, 0, 64, 0);
    await r.guest.must('pread', fd, r.scratch, 0, 64, 0);
    await r.guest.free(map);
    // Scrub the window: every sequence starts from the same device memory, and
    // a transfer that moves nothing cannot pass for one that moved the pattern.
    await r.guest.fill(r.scratch, 0, WINDOW, SCRUB_SEED);
    await r.guest.must('pwrite', fd, r.scratch, 0, WINDOW, 0);
  } finally {
    await r.guest.must('close', fd);
  }
}
