// Open the device node: works while the driver is loaded and bound.
import type fc from 'fast-check';
import { DEVICE_NODE } from '../guest.js';
import { checkLedger, expectResult } from './check.js';
import { ENOENT, type LifecycleModel, type Real } from './model.js';

export class OpenCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  check(m: Readonly<LifecycleModel>): boolean {
    return m.files.length < 8;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const reply = await r.guest.call('open', DEVICE_NODE, 'rw');
    const present = m.loaded && m.bound;
    expectResult(r.guest, 'open', reply, present ? 'fd' : [-1, ENOENT]);
    if (present) {
      const id = m.nextId++;
      m.files.push({ id, generation: m.generation, closed: false });
      r.fds.set(id, reply.ret);
    }
    await checkLedger(m, r, 'open');
  }

  toString(): string {
    return 'open';
  }
}
