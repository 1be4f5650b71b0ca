// Wedge the device: with dma_timeout_ms at 1, a transfer, a copy or a read
// times out while the engine still runs. The call fails with -ETIMEDOUT, its
// memory stays quarantined (a transfer's or copy's pages pinned and mapped; a
// read's coherent buffer, which the file is then closed on, kept past the
// close) and every later DMA fails with -EIO (checked at once with a buffer
// transfer on the same file before it is closed), until the device is unbound.
import type fc from 'fast-check';
import { PAGE, PATHS, XFER_TO_DEVICE } from '../guest.js';
import { checkLedger, expectResult } from './check.js';
import { EIO, ETIMEDOUT, type LifecycleModel, openFiles, pagesSpanned, type Real, usable } from './model.js';

const TIMEOUT = `${PATHS.parameters}/dma_timeout_ms`;
const WINDOW = 4095;

// The call that times out: zero-copy transfer, streaming copy, or read through the file's buffer.
export type WedgeVia = 'xfer' | 'copy' | 'read';

export class WedgeCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(
    readonly pick: number,
    readonly len: number,
    readonly via: WedgeVia,
  ) {}

  check(m: Readonly<LifecycleModel>): boolean {
    const model = m as LifecycleModel;
    return !m.wedge && !m.gupFailArmed && openFiles(model).some((f) => usable(model, f));
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const files = openFiles(m).filter((f) => usable(m, f));
    const file = files[this.pick % files.length]!;
    const fd = r.fds.get(file.id)!;
    // Written first, so the pin gets real pages (not the zero page, which
    // /proc/vmstat does not count as pinned).
    await r.guest.fill(r.scratch, 100, this.len, this.len);
    const before = (await r.guest.readFile(TIMEOUT)).trim();
    await r.guest.writeFile(TIMEOUT, '1');
    let reply;
    try {
      // A transfer reads user memory, a copy's late DMA ends in quarantined
      // pages, a read's in the file's buffer: nothing the agent owns changes late.
      reply =
        this.via === 'copy'
          ? await r.guest.call('copy', fd, r.scratch, 100, r.scratch, 2 * PAGE + 7, this.len)
          : this.via === 'xfer'
            ? await r.guest.call('xfer', fd, r.scratch, 100, this.len, 0, XFER_TO_DEVICE)
            : await r.guest.call('pread', fd, r.scratch, 100, Math.min(this.len, WINDOW), 0);
    } finally {
      await r.guest.writeFile(TIMEOUT, before);
    }
    expectResult(r.guest, `${this.via} on a device that times out`, reply, [-1, ETIMEDOUT]);
    if (this.via === 'copy') m.wedge = { ranges: 2, pages: pagesSpanned(100, this.len) + pagesSpanned(2 * PAGE + 7, this.len) };
    else if (this.via === 'xfer') m.wedge = { ranges: 1, pages: pagesSpanned(100, this.len) };
    else {
      m.wedge = { ranges: 0, pages: 0 };
      file.wedgedBuffer = true;
    }
    const next = await r.guest.call('buf_xfer', fd, 0, 0, 16, XFER_TO_DEVICE);
    expectResult(r.guest, 'a DMA on the wedged device', next, [-1, EIO]);
    if (this.via === 'read') {
      expectResult(r.guest, 'close of a file whose buffer a DMA may still write', await r.guest.call('close', fd), [0, 0]);
      file.closed = true;
      r.fds.delete(file.id);
    }
    await checkLedger(m, r, this.via === 'read' ? 'wedge(read) and close' : 'wedge');
  }

  toString(): string {
    return `wedge(${this.pick}, ${this.len}${this.via === 'xfer' ? '' : `, ${this.via}`})`;
  }
}
