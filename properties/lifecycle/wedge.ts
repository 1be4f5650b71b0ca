// Wedge the device: with dma_timeout_ms at 1, a transfer (or a copy) times out
// while the engine still runs. The call fails with -ETIMEDOUT, its memory stays
// quarantined (pinned and mapped) and every later DMA fails with -EIO (checked
// at once with a buffer transfer), until the device is unbound.
import type fc from 'fast-check';
import { PAGE, XFER_TO_DEVICE } from '../guest.js';
import { checkLedger, expectResult } from './check.js';
import { EIO, ETIMEDOUT, type LifecycleModel, openFiles, pagesSpanned, type Real, usable } from './model.js';

const TIMEOUT = '/sys/module/edu_dma/parameters/dma_timeout_ms';

export class WedgeCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(
    readonly pick: number,
    readonly len: number,
    readonly copy: boolean,
  ) {}

  check(m: Readonly<LifecycleModel>): boolean {
    const model = m as LifecycleModel;
    return !m.wedge && !m.gupFailArmed && openFiles(model).some((f) => usable(model, f));
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const files = openFiles(m).filter((f) => usable(m, f));
    const fd = r.fds.get(files[this.pick % files.length]!.id)!;
    // Written first, so the pin gets real pages (not the zero page, which
    // /proc/vmstat does not count as pinned).
    await r.guest.fill(r.scratch, 100, this.len, this.len);
    const before = (await r.guest.readFile(TIMEOUT)).trim();
    await r.guest.writeFile(TIMEOUT, '1');
    let reply;
    try {
      // Both read user memory: the late DMA writes nothing the agent owns.
      reply = this.copy
        ? await r.guest.call('copy', fd, r.scratch, 100, r.scratch, 2 * PAGE + 7, this.len)
        : await r.guest.call('xfer', fd, r.scratch, 100, this.len, 0, XFER_TO_DEVICE);
    } finally {
      await r.guest.writeFile(TIMEOUT, before);
    }
    expectResult(r.guest, this.copy ? 'copy on a device that times out' : 'transfer on a device that times out', reply, [-1, ETIMEDOUT]);
    m.wedge = this.copy
      ? { ranges: 2, pages: pagesSpanned(100, this.len) + pagesSpanned(2 * PAGE + 7, this.len) }
      : { ranges: 1, pages: pagesSpanned(100, this.len) };
    const next = await r.guest.call('buf_xfer', fd, 0, 0, 16, XFER_TO_DEVICE);
    expectResult(r.guest, 'a DMA on the wedged device', next, [-1, EIO]);
    await checkLedger(m, r, 'wedge');
  }

  toString(): string {
    return `wedge(${this.pick}, ${this.len}${this.copy ? ', copy' : ''})`;
  }
}
