// Check a mapping still holds what was last written to its file's buffer
// (after close, unbind or unload too), then unmap it; the last reference
// releases the file's state.
import type fc from 'fast-check';
import { PAGE } from '../guest.js';
import { PropertyFailure } from '../roundtrip.js';
import { checkLedger } from './check.js';
import type { LifecycleModel, Real } from './model.js';

export class MunmapCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(readonly pick: number) {}

  check(m: Readonly<LifecycleModel>): boolean {
    return m.mappings.length > 0;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const mapping = m.mappings[this.pick % m.mappings.length]!;
    const handle = r.maps.get(mapping)!;
    const seed = m.files.find((f) => f.id === mapping.fileId)!.bufferSeed!;
    const bad = await r.guest.check(handle, 0, PAGE, seed);
    if (bad !== -1) throw new PropertyFailure(`mapping lost its contents at byte ${bad}`);
    await r.guest.free(handle);
    m.mappings.splice(m.mappings.indexOf(mapping), 1);
    r.maps.delete(mapping);
    await checkLedger(m, r, 'munmap');
  }

  toString(): string {
    return `munmap(${this.pick})`;
  }
}
