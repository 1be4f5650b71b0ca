// Unload the module: refused while any file or mapping is open.
import type fc from 'fast-check';
import { checkIrq, expectExit } from './check.js';
import { devicePointsGone, type LifecycleModel, liveFiles, type Real } from './model.js';
import { MODULE } from '../guest.js';

export class RmmodCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  check(m: Readonly<LifecycleModel>): boolean {
    return m.loaded;
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    // The module's error-site counters go with it: hand them to the audit first.
    await r.session.sampler?.sample(r.guest, r.session.current!, r.session.faultsDir, r.session.property);
    const result = await r.session.current!.exec(`rmmod ${MODULE}`);
    const inUse = liveFiles(m).length > 0;
    expectExit(r, `rmmod with ${liveFiles(m).length} file(s) alive`, result, !inUse);
    if (!inUse) {
      m.loaded = false;
      m.bound = false;
      m.gupFailArmed = false;
      m.wedge = undefined;
      await devicePointsGone(r);
    }
    await checkIrq(r, m.bound, 'rmmod');
  }

  toString(): string {
    return 'rmmod';
  }
}
