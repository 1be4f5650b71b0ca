// Bind with probe_fault set: the probe fails at that check and unwinds, the
// device stays unbound, the parameter is back to 0 (one shot); nothing changes
// in the model. A later bind must give a working /dev/edu-dma0, which catches
// an unwind that leaked its device number; its debugfs directory must be gone now.
import type fc from 'fast-check';
import { PropertyFailure } from '../roundtrip.js';
import { expectExit } from './check.js';
import { type LifecycleModel, PCI, PROBE_FAULT, type Real } from './model.js';

export class BindFailCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(readonly step: number) {}

  check(m: Readonly<LifecycleModel>): boolean {
    return m.loaded && !m.bound;
  }

  async run(_m: LifecycleModel, r: Real): Promise<void> {
    const machine = r.session.current!;
    const set = await machine.exec(`echo ${this.step} > ${PROBE_FAULT}`);
    expectExit(r, `setting probe_fault=${this.step}`, set, true);
    const bind = await machine.exec(`echo ${PCI} > /sys/bus/pci/drivers/edu_dma/bind`);
    expectExit(r, `bind with probe_fault=${this.step}`, bind, false);
    const after = await machine.exec(
      `test -e /sys/bus/pci/drivers/edu_dma/${PCI} && echo 'the device is bound'; ` +
        `test -e /sys/kernel/debug/edu_dma/${PCI} && echo 'its debugfs directory is left'; echo "probe_fault=$(cat ${PROBE_FAULT})"`,
    );
    const problems = after.stdout.trim().split('\n').filter((line) => line !== 'probe_fault=0');
    if (problems.length) throw new PropertyFailure(`after a probe failing at check ${this.step}: ${problems.join(', ')} (expected unbound, no debugfs directory, probe_fault=0)`);
  }

  toString(): string {
    return `bindFail(${this.step})`;
  }
}
