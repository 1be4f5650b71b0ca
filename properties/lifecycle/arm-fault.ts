// Arm gup_fail for the next pin of this process (times=1), or clear it.
import type fc from 'fast-check';
import { FaultController } from '../../faults/controller.js';
import type { LifecycleModel, Real } from './model.js';

export class ArmFaultCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(readonly arm: boolean) {}

  check(m: Readonly<LifecycleModel>): boolean {
    return m.loaded && m.bound;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const faults = new FaultController(r.guest, r.session.faultsDir);
    if (this.arm) {
      const pid = (await r.guest.call('getpid')).ret;
      await faults.arm({ faults: [{ point: 'gup_fail', schedule: { nth: 1 }, errno: 14 }] }, pid);
    } else {
      await faults.clear(['gup_fail']);
    }
    m.gupFailArmed = this.arm;
  }

  toString(): string {
    return this.arm ? 'arm(gup_fail)' : 'clear(gup_fail)';
  }
}
