// Bind with probe_fault set: the probe fails at that check and unwinds, the
// device stays unbound, the parameter is back to 0 (one shot); nothing changes
// in the model. A later bind must give a working /dev/edu-dma0, which catches
// an unwind that leaked its device number; its debugfs directory must be gone now.
import type fc from 'fast-check';
import { PropertyFailure } from '../roundtrip.js';
import { checkIrq, checkLedger, writeSysfs } from './check.js';
import { type LifecycleModel, PCI, PROBE_ERRNOS, PROBE_FAULT, type Real } from './model.js';
import { PATHS } from '../guest.js';

export class BindFailCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(readonly step: number) {}

  check(m: Readonly<LifecycleModel>): boolean {
    return m.loaded && !m.bound;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    await writeSysfs(r, `setting probe_fault=${this.step}`, PROBE_FAULT, String(this.step), 'ok');
    await writeSysfs(r, `bind with probe_fault=${this.step}`, `${PATHS.pciDriver}/bind`, PCI, PROBE_ERRNOS[this.step - 1]!);
    const problems = [
      ...((await r.guest.exists(`${PATHS.pciDriver}/${PCI}`)) ? ['the device is bound'] : []),
      ...((await r.guest.exists(`${PATHS.debugfs}/${PCI}`)) ? ['its debugfs directory is left'] : []),
      ...[`probe_fault=${(await r.guest.readFile(PROBE_FAULT)).trim()}`].filter((line) => line !== 'probe_fault=0'),
    ];
    if (problems.length) throw new PropertyFailure(`after a probe failing at check ${this.step}: ${problems.join(', ')} (expected unbound, no debugfs directory, probe_fault=0)`);
    await checkIrq(r, false, `a probe failing at check ${this.step}`);
    await checkLedger(m, r, `a probe failing at check ${this.step}`);
  }

  toString(): string {
    return `bindFail(${this.step})`;
  }
}
