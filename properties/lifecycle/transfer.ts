// A zero-copy round trip on one open file: byte-exact on the current device,
// -ENODEV on a file whose device went away, -EFAULT when gup_fail is armed,
// -EIO on a wedged device.
import type fc from 'fast-check';
import { PAGE, XFER_FROM_DEVICE, XFER_TO_DEVICE } from '../guest.js';
import { PropertyFailure } from '../roundtrip.js';
import { checkLedger, expectResult } from './check.js';
import { EFAULT, EIO, ENODEV, type LifecycleModel, openFiles, type Real, usable } from './model.js';

export class TransferCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(
    readonly pick: number,
    readonly len: number,
    readonly seed: number,
  ) {}

  check(m: Readonly<LifecycleModel>): boolean {
    return openFiles(m as LifecycleModel).length > 0;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const files = openFiles(m);
    const file = files[this.pick % files.length]!;
    const fd = r.fds.get(file.id)!;
    await r.guest.fill(r.scratch, 100, this.len, this.seed);
    const sent = await r.guest.call('xfer', fd, r.scratch, 100, this.len, 0, XFER_TO_DEVICE);
    const want: [number, number] = !usable(m, file) ? [-1, ENODEV] : m.gupFailArmed ? [-1, EFAULT] : m.wedge ? [-1, EIO] : [0, 0];
    expectResult(r.guest, 'transfer to the device', sent, want);
    if (usable(m, file) && m.gupFailArmed) m.gupFailArmed = false;
    if (want[0] === 0) {
      const back = await r.guest.call('xfer', fd, r.scratch, 2 * PAGE + 7, this.len, 0, XFER_FROM_DEVICE);
      expectResult(r.guest, 'transfer from the device', back, [0, 0]);
      const bad = await r.guest.check(r.scratch, 2 * PAGE + 7, this.len, this.seed);
      if (bad !== -1) throw new PropertyFailure(`round trip of ${this.len} bytes differs at byte ${bad}`);
    }
    await checkLedger(m, r, 'transfer');
  }

  toString(): string {
    return `transfer(${this.pick}, ${this.len})`;
  }
}
