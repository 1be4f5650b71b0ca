// The lifecycle property: random command sequences checked against the model
// (fc.asyncModelRun); the guest is put back to a clean state after each run.
import fc from 'fast-check';
import { PAGE } from '../guest.js';
import type { GuestSession } from '../session.js';
import { ArmFaultCommand } from './arm-fault.js';
import { BindCommand } from './bind.js';
import { checkLedger } from './check.js';
import { CloseCommand } from './close.js';
import { InsmodCommand } from './insmod.js';
import { MmapCommand } from './mmap.js';
import { initialModel, type LifecycleModel, PCI, type Real } from './model.js';
import { MunmapCommand } from './munmap.js';
import { OpenCommand } from './open.js';
import { RmmodCommand } from './rmmod.js';
import { TransferCommand } from './transfer.js';
import { UnbindCommand } from './unbind.js';

const pick = fc.nat({ max: 7 });

export const lifecycleCommands = (replayPath?: string) => fc.commands(
  [
    fc.constant(new OpenCommand()),
    pick.map((p) => new CloseCommand(p)),
    fc.tuple(pick, fc.integer({ min: 1, max: 4095 }), fc.nat()).map(([p, len, seed]) => new TransferCommand(p, len, seed)),
    fc.tuple(pick, fc.nat()).map(([p, seed]) => new MmapCommand(p, seed)),
    pick.map((p) => new MunmapCommand(p)),
    fc.constant(new UnbindCommand()),
    fc.constant(new BindCommand()),
    fc.constant(new RmmodCommand()),
    fc.constant(new InsmodCommand()),
    fc.boolean().map((arm) => new ArmFaultCommand(arm)),
  ],
  { maxCommands: 25, ...(replayPath ? { replayPath } : {}) },
);

// Closes, unmaps, reloads and rebinds whatever a run left behind.
async function restore(real: Real): Promise<void> {
  for (const handle of real.maps.values()) await real.guest.free(handle);
  for (const fd of real.fds.values()) await real.guest.call('close', fd);
  await real.guest.free(real.scratch);
  const machine = real.session.current!;
  await machine.exec(`lsmod | grep -q '^edu_dma' || insmod /lib/dmafault/edu_dma.ko; test -e /sys/bus/pci/drivers/edu_dma/${PCI} || echo ${PCI} > /sys/bus/pci/drivers/edu_dma/bind`);
  await machine.exec(`for p in /sys/kernel/debug/edu_dma/*/faults/*/armed; do echo 0 > $p; done`);
}

export function lifecycleProperty(session: GuestSession, options: { replayPath?: string } = {}): fc.IAsyncProperty<[Iterable<fc.AsyncCommand<LifecycleModel, Real>>]> {
  return fc.asyncProperty(lifecycleCommands(options.replayPath), (commands) =>
    session.runCase(async () => {
      const guest = await session.guest();
      const real: Real = { session, guest, fds: new Map(), maps: new Map(), scratch: await guest.alloc(3 * PAGE) };
      try {
        await fc.asyncModelRun(() => ({ model: initialModel(), real }), commands);
      } finally {
        await restore(real);
      }
      // With every file closed and mapping gone, the device must hold nothing.
      await checkLedger(initialModel(), real, 'closing everything the run left open');
    }),
  );
}
