// Bind with the interceptor's kmalloc_fail armed for the first allocation
// the target makes (dmatap's points belong to the module, so they can be armed
// while no device is bound): the probe fails with -ENOMEM and unwinds, as with
// probe_fault's first check; the device stays unbound. Only through an
// interceptor: the driver's own points exist only on a bound device. This is
// how the audit through dmatap reaches the probe's allocation call site.
import type fc from 'fast-check';
import { FaultController } from '../../faults/controller.js';
import { PropertyFailure } from '../roundtrip.js';
import { checkIrq, checkLedger, writeSysfs } from './check.js';
import { type LifecycleModel, PCI, type Real } from './model.js';
import { PATHS } from '../guest.js';

const ENOMEM = 12;

export class BindInterceptedFailCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  check(m: Readonly<LifecycleModel>): boolean {
    return m.loaded && !m.bound && (m.interceptorPoints ?? []).includes('kmalloc_fail');
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const faults = new FaultController(r.guest, r.session.faultsDir);
    const what = "a probe whose first allocation fails (the interceptor's kmalloc_fail)";
    await faults.arm({ faults: [{ point: 'kmalloc_fail', schedule: { nth: 1 } }] }, 0);
    try {
      await writeSysfs(r, 'bind with kmalloc_fail armed', `${PATHS.pciDriver}/bind`, PCI, ENOMEM);
    } finally {
      await faults.clear(['kmalloc_fail']);
    }
    const problems = [
      ...((await r.guest.exists(`${PATHS.pciDriver}/${PCI}`)) ? ['the device is bound'] : []),
      ...((await r.guest.exists(`${PATHS.debugfs}/${PCI}`)) ? ['its debugfs directory is left'] : []),
    ];
    if (problems.length) throw new PropertyFailure(`after ${what}: ${problems.join(', ')} (expected unbound, no debugfs directory)`);
    await checkIrq(r, false, what);
    await checkLedger(m, r, what);
  }

  toString(): string {
    return 'bindInterceptedFail';
  }
}
