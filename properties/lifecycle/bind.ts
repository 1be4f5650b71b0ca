// Bind the device again: a new device state, a new generation of files.
import type fc from 'fast-check';
import { checkPermissions } from '../oracles/permissions.js';
import { checkIrq, checkLedger, writeSysfs } from './check.js';
import { type LifecycleModel, PCI, type Real } from './model.js';
import { PATHS } from '../guest.js';

export class BindCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  check(m: Readonly<LifecycleModel>): boolean {
    return m.loaded && !m.bound;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    await writeSysfs(r, 'bind', `${PATHS.pciDriver}/bind`, PCI, 'ok');
    m.bound = true;
    m.generation++;
    await checkLedger(m, r, 'bind');
    await checkIrq(r, true, 'bind');
    await checkPermissions(r.session.current!, r.guest);
  }

  toString(): string {
    return 'bind';
  }
}
