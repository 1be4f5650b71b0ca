// Close one open file; its state lives on while a mapping holds it.
import type fc from 'fast-check';
import { checkLedger, expectResult } from './check.js';
import { type LifecycleModel, openFiles, type Real } from './model.js';

export class CloseCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(readonly pick: number) {}

  check(m: Readonly<LifecycleModel>): boolean {
    return openFiles(m as LifecycleModel).length > 0;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const files = openFiles(m);
    const file = files[this.pick % files.length]!;
    const reply = await r.guest.call('close', r.fds.get(file.id)!);
    expectResult(r.guest, 'close', reply, [0, 0]);
    file.closed = true;
    r.fds.delete(file.id);
    await checkLedger(m, r, 'close');
  }

  toString(): string {
    return `close(${this.pick})`;
  }
}
