// Unbind while a call is in progress: a transfer paused at the pageout fault
// point (before its pin), or a long streaming copy between two chunks. Unbind
// must not wait for either (a device section never spans user memory or a
// fault-point pause, and a copy looks between chunks), and the call then fails
// with -ENODEV, having released everything it took.
import type fc from 'fast-check';
import { FaultController } from '../../faults/controller.js';
import { PAGE, PATHS, XFER_TO_DEVICE } from '../guest.js';
import { expectExit, expectResult } from './check.js';
import { devicePointsGone, ENODEV, type LifecycleModel, openFiles, PCI, type Real, usable } from './model.js';

export type DuringCall = 'paused' | 'copy';

// Long enough that unbind lands between two of its chunks: 512 chunks, 1024 DMAs.
const COPY_LEN = 1 << 20;
// The shell waits at most 5 s (10 ms steps) for the call to get going, then unbinds anyway.
const poll = (condition: string) => `i=0; until ${condition} || [ $i -ge 500 ]; do usleep 10000; i=$((i + 1)); done`;

export class UnbindDuringCallCommand implements fc.AsyncCommand<LifecycleModel, Real> {
  constructor(
    readonly pick: number,
    readonly during: DuringCall,
  ) {}

  check(m: Readonly<LifecycleModel>): boolean {
    const model = m as LifecycleModel;
    return m.loaded && m.bound && !m.wedge && !m.gupFailArmed && openFiles(model).some((f) => usable(model, f));
  }

  async run(m: LifecycleModel, r: Real): Promise<void> {
    const files = openFiles(m).filter((f) => usable(m, f));
    const fd = r.fds.get(files[this.pick % files.length]!.id)!;
    const machine = r.session.current!;
    const buffers: number[] = [];
    let call;
    let started: string;
    try {
      if (this.during === 'paused') {
        await r.guest.fill(r.scratch, 100, 64, 64);
        const faults = new FaultController(r.guest, r.session.faultsDir);
        await faults.arm({ faults: [{ point: 'pageout', schedule: { nth: 1 } }] }, (await r.guest.call('getpid')).ret);
        started = poll(`grep -q 1 ${faults.pointDir('pageout')}/waiting`);
        call = r.guest.call('xfer', fd, r.scratch, 100, 64, 0, XFER_TO_DEVICE);
      } else {
        const src = await r.guest.alloc(COPY_LEN + PAGE);
        buffers.push(src, await r.guest.alloc(COPY_LEN + PAGE));
        await r.guest.fill(src, 0, COPY_LEN, 7);
        const dmas = Number(/^dmas_total (\d+)$/m.exec(await r.guest.readFile(r.session.ledgerPath))?.[1] ?? NaN);
        started = poll(`[ "$(sed -n 's/^dmas_total //p' ${r.session.ledgerPath})" -ge ${dmas + 4} ]`);
        call = r.guest.call('copy', fd, src, 0, buffers[1]!, 0, COPY_LEN);
      }
      // If the machine fails during unbind, the call fails too: that must not go unhandled.
      call.catch(() => undefined);
      const unbind = await machine.exec(`${started}; echo ${PCI} > ${PATHS.pciDriver}/unbind`);
      const reply = await call;
      expectExit(r, `unbind during a ${this.during === 'paused' ? 'paused transfer' : 'long copy'}`, unbind, true);
      m.bound = false;
      m.gupFailArmed = false;
      m.wedge = undefined;
      await devicePointsGone(r);
      expectResult(r.guest, `${this.during === 'paused' ? 'a transfer paused at pageout' : 'a long copy'} when its device was unbound`, reply, [-1, ENODEV]);
    } finally {
      for (const handle of buffers) await r.guest.free(handle);
    }
  }

  toString(): string {
    return `unbindDuring(${this.pick}, ${this.during})`;
  }
}
