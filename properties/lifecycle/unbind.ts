// Unbind the device from the driver through sysfs, files and mappings open or
// not; a wedged device releases its quarantined memory.
import type fc from 'fast-check';
import { checkIrq, checkLedger, writeSysfs } from './check.js';
import { devicePointsGone, type LifecycleModel, PCI, type Real } from './model.js';
import { PATHS } from '../guest.js';

export class UnbindCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  check(m: Readonly<LifecycleModel>): boolean {
    return m.loaded && m.bound;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    await writeSysfs(r, 'unbind', `${PATHS.pciDriver}/unbind`, PCI, 'ok');
    m.bound = false;
    m.gupFailArmed = false;
    m.wedge = undefined;
    await devicePointsGone(r);
    await checkIrq(r, false, 'unbind');
    await checkLedger(m, r, 'unbind');
  }

  toString(): string {
    return 'unbind';
  }
}
