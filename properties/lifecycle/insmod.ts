// Load the module again: it binds the device, a new generation.
import type fc from 'fast-check';
import { checkPermissions } from '../oracles/permissions.js';
import { checkIrq, checkLedger, expectExit } from './check.js';
import type { LifecycleModel, Real } from './model.js';
import { PATHS } from '../guest.js';

export class InsmodCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  check(m: Readonly<LifecycleModel>): boolean {
    return !m.loaded;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const result = await r.session.current!.exec(`insmod ${PATHS.moduleFile}`);
    expectExit(r, 'insmod', result, true);
    m.loaded = true;
    m.bound = true;
    m.generation++;
    await checkLedger(m, r, 'insmod');
    await checkIrq(r, true, 'insmod');
    await checkPermissions(r.session.current!, r.guest);
  }

  toString(): string {
    return 'insmod';
  }
}
