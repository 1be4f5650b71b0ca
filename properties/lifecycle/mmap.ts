// Map an open file's DMA buffer; only while its device is there, only the one
// page at offset 0 (-EINVAL for more, or at an offset).
import type fc from 'fast-check';
import { PAGE } from '../guest.js';
import { checkLedger, expectResult } from './check.js';
import { EINVAL, ENODEV, type LifecycleModel, openFiles, type Real, usable } from './model.js';

// The mapping asked for: the buffer's page, two pages, or a page at offset 1 page.
export type MmapShape = 'page' | 'long' | 'offset';
const mmapShapes: Readonly<Record<MmapShape, readonly [number, number]>> = { page: [PAGE, 0], long: [2 * PAGE, 0], offset: [PAGE, PAGE] };

export class MmapCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(
    readonly pick: number,
    readonly seed: number,
    readonly shape: MmapShape = 'page',
  ) {}

  check(m: Readonly<LifecycleModel>): boolean {
    return openFiles(m as LifecycleModel).length > 0 && m.mappings.length < 8;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const files = openFiles(m);
    const file = files[this.pick % files.length]!;
    const [len, offset] = mmapShapes[this.shape];
    const reply = await r.guest.call('mapfd', r.fds.get(file.id)!, len, offset, 'rw');
    const ok = usable(m, file) && this.shape === 'page';
    expectResult(r.guest, 'mmap', reply, ok ? 'fd' : [-1, usable(m, file) ? EINVAL : ENODEV]);
    if (ok) {
      const mapping = { fileId: file.id };
      await r.guest.fill(reply.ret, 0, PAGE, this.seed);
      file.bufferSeed = this.seed;
      m.mappings.push(mapping);
      r.maps.set(mapping, reply.ret);
    }
    await checkLedger(m, r, 'mmap');
  }

  toString(): string {
    return this.shape === 'page' ? `mmap(${this.pick})` : `mmap(${this.pick}, ${this.shape})`;
  }
}
