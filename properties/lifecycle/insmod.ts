// Load the module again: it binds the device, a new generation.
import type fc from 'fast-check';
import { PropertyFailure } from '../roundtrip.js';
import { checkLedger } from './check.js';
import type { LifecycleModel, Real } from './model.js';

export class InsmodCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  check(m: Readonly<LifecycleModel>): boolean {
    return !m.loaded;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const result = await r.session.current!.exec('insmod /lib/dmafault/edu_dma.ko');
    if (result.code !== 0) throw new PropertyFailure(`insmod failed: ${result.stderr}`);
    m.loaded = true;
    m.bound = true;
    m.generation++;
    await checkLedger(m, r, 'insmod');
  }

  toString(): string {
    return 'insmod';
  }
}
