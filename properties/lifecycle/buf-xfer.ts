// EDU_DMA_IOC_BUF_XFER between an open file's DMA buffer and the device, with
// valid or invalid flags and ranges: -ENODEV on a file whose device went away,
// -EINVAL for bad flags or a range outside the buffer or the window, -EIO on a
// wedged device. A valid transfer from the device first sends the same range
// to it, so the buffer (and any mapping of it) keeps its contents.
import type fc from 'fast-check';
import { DEVICE_NODE, PAGE, XFER_FROM_DEVICE, XFER_TO_DEVICE } from '../guest.js';
import { PropertyFailure } from '../failure.js';
import { checkLedger, expectResult } from './check.js';
import { EINVAL, EIO, ENODEV, type LifecycleModel, type ModelFile, openFiles, type Real, usable } from './model.js';

const BUF_SIZE = 4096;
const WINDOW = 4095;

export class BufXferCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(
    readonly pick: number,
    readonly bufOffset: number,
    readonly devOffset: number,
    readonly len: number,
    readonly flags: number,
    // When set, the buffer is first filled with this pattern through a mapping
    // made and removed for it, so that the data check below always applies.
    readonly fill?: number,
  ) {}

  check(m: Readonly<LifecycleModel>): boolean {
    return openFiles(m as LifecycleModel).length > 0;
  }

  // The driver's checks, in its order.
  private expected(m: LifecycleModel, ok: boolean): [number, number] {
    if (!ok) return [-1, ENODEV];
    if (this.flags !== XFER_TO_DEVICE && this.flags !== XFER_FROM_DEVICE) return [-1, EINVAL];
    if (this.bufOffset + this.len > BUF_SIZE || this.devOffset + this.len > WINDOW) return [-1, EINVAL];
    if (this.len === 0) return [0, 0];
    return m.wedge ? [-1, EIO] : [0, 0];
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const files = openFiles(m);
    const fd = r.fds.get(files[this.pick % files.length]!.id)!;
    const want = this.expected(m, usable(m, files[this.pick % files.length]!));
    if (this.fill !== undefined && usable(m, files[this.pick % files.length]!)) await this.fillBuffer(r, fd, files[this.pick % files.length]!);
    const call = (flags: number) => r.guest.call('buf_xfer', fd, this.bufOffset, this.devOffset, this.len, flags);
    if (this.flags === XFER_FROM_DEVICE && want[0] === 0 && this.len > 0) {
      const sent = await call(XFER_TO_DEVICE);
      expectResult(r.guest, 'buffer transfer to the device', sent, [0, 0]);
    }
    const reply = await call(this.flags);
    expectResult(r.guest, `buffer transfer (flags ${this.flags})`, reply, want);
    const file = files[this.pick % files.length]!;
    if (want[0] === 0 && this.len > 0 && file.bufferSeed !== undefined) await this.checkData(m, r, file.id, file.bufferSeed);
    await checkLedger(m, r, 'buffer transfer');
  }

  private async fillBuffer(r: Real, fd: number, file: ModelFile): Promise<void> {
    const map = await r.guest.call('mapfd', fd, PAGE, 0, 'rw');
    expectResult(r.guest, 'mmap to fill the buffer', map, 'fd');
    await r.guest.fill(map.ret, 0, PAGE, this.fill!);
    await r.guest.free(map.ret);
    file.bufferSeed = this.fill!;
  }

  // The buffer holds the pattern a mapping wrote (seed, from offset 0). After a
  // transfer to the device, the window read back through the bounce path holds
  // the buffer's bytes; after one from it (preceded by the same range sent),
  // the mapping still shows them: a transfer that did nothing, moved the wrong
  // bytes, or a mapping of another page than the buffer, fails here.
  private async checkData(m: LifecycleModel, r: Real, fileId: number, seed: number): Promise<void> {
    if (this.flags === XFER_TO_DEVICE) {
      await this.readWindow(r, this.devOffset, this.len);
      const bad = await r.guest.check(r.scratch, 0, this.len, seed, this.bufOffset);
      if (bad !== -1) throw new PropertyFailure(`buffer transfer to the device: window byte ${this.devOffset + bad} is not buffer byte ${this.bufOffset + bad} (mapped with pattern ${seed})`);
      return;
    }
    const mapping = m.mappings.find((x) => x.fileId === fileId);
    if (!mapping) return;
    const bad = await r.guest.check(r.maps.get(mapping)!, this.bufOffset, this.len, seed, this.bufOffset);
    if (bad !== -1) throw new PropertyFailure(`buffer transfer from the device: the mapping shows byte ${this.bufOffset + bad} changed, though the device sent back what the buffer held`);
  }

  // Through a file of its own: read and write stage their bytes through the
  // start of the file's buffer, so a pread on `fd` would change what the
  // file's mappings show.
  private async readWindow(r: Real, off: number, len: number): Promise<void> {
    const other = await r.guest.must('open', DEVICE_NODE, 'r');
    try {
      expectResult(r.guest, 'reading the window back', await r.guest.call('pread', other, r.scratch, 0, len, off), [len, 0]);
    } finally {
      await r.guest.must('close', other);
    }
  }

  toString(): string {
    if (this.fill !== undefined) return `bufXfer(${this.pick}, ${this.bufOffset}, ${this.devOffset}, ${this.len}, ${this.flags}, fill ${this.fill})`;
    return `bufXfer(${this.pick}, ${this.bufOffset}, ${this.devOffset}, ${this.len}, ${this.flags})`;
  }
}
