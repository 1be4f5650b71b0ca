// Map an open file's DMA buffer; only while its device is there.
import type fc from 'fast-check';
import { PAGE } from '../guest.js';
import { checkLedger, expectResult } from './check.js';
import { ENODEV, type LifecycleModel, openFiles, type Real, usable } from './model.js';

export class MmapCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(
    readonly pick: number,
    readonly seed: number,
  ) {}

  check(m: Readonly<LifecycleModel>): boolean {
    return openFiles(m as LifecycleModel).length > 0 && m.mappings.length < 8;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const files = openFiles(m);
    const file = files[this.pick % files.length]!;
    const reply = await r.guest.call('mapfd', r.fds.get(file.id)!, PAGE, 0, 'rw');
    const ok = usable(m, file);
    expectResult('mmap', [reply.ret, reply.ret < 0 ? reply.errno : 0], ok ? 'fd' : [-1, ENODEV]);
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
    return `mmap(${this.pick})`;
  }
}
