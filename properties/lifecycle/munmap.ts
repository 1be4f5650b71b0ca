// Check a mapping still holds what was last written to its file's buffer (after
// close too), then unmap it; the last reference releases the file's state. Once
// the file's device is gone, its buffer went with it: remove zapped the mapping,
// and touching it must fault (SIGBUS), never reach freed memory.
import type fc from 'fast-check';
import { PAGE } from '../guest.js';
import { PropertyFailure } from '../roundtrip.js';
import { checkLedger, expectResult } from './check.js';
import { EFAULT, type LifecycleModel, type Real, usable } from './model.js';

export class MunmapCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(readonly pick: number) {}

  check(m: Readonly<LifecycleModel>): boolean {
    return m.mappings.length > 0;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const mapping = m.mappings[this.pick % m.mappings.length]!;
    const handle = r.maps.get(mapping)!;
    const file = m.files.find((f) => f.id === mapping.fileId)!;
    // A read the driver gave up on (wedge via read) may still land in the
    // file's buffer, which is what the mapping shows: its contents are then
    // the old ones or the device's, depending on when the late DMA ran.
    if (usable(m, file) && file.wedgedBuffer) {
      // Nothing to compare; unmapping it must still work and release it.
    } else if (usable(m, file)) {
      const bad = await r.guest.check(handle, 0, PAGE, file.bufferSeed!);
      if (bad !== -1) throw new PropertyFailure(`mapping lost its contents at byte ${bad}`);
    } else {
      const reply = await r.guest.call('check', handle, 0, PAGE, file.bufferSeed!, 0);
      expectResult(r.guest, 'reading a mapping whose device was unbound', reply, [-1, EFAULT]);
    }
    await r.guest.free(handle);
    m.mappings.splice(m.mappings.indexOf(mapping), 1);
    r.maps.delete(mapping);
    await checkLedger(m, r, 'munmap');
  }

  toString(): string {
    return `munmap(${this.pick})`;
  }
}
