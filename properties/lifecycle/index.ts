// The lifecycle property: random command sequences checked against the model
// (fc.asyncModelRun); the guest is put back to a clean state after each run.
import fc from 'fast-check';
import { MODULE, PAGE, PATHS } from '../guest.js';
import type { GuestSession } from '../session.js';
import { ArmFaultCommand } from './arm-fault.js';
import { BindFailCommand } from './bind-fail.js';
import { BindInterceptedFailCommand } from './bind-intercepted.js';
import { BindCommand } from './bind.js';
import { BufXferCommand } from './buf-xfer.js';
import { checkLedger, measureObjects } from './check.js';
import { CloseCommand } from './close.js';
import { InsmodCommand } from './insmod.js';
import { MmapCommand, type MmapShape } from './mmap.js';
import { devicePointsGone, initialModel, type LifecycleModel, PCI, PROBE_CHECKS, PROBE_FAULT, type Real, usable } from './model.js';
import { MunmapCommand } from './munmap.js';
import { OpenCommand } from './open.js';
import { RmmodCommand } from './rmmod.js';
import { TransferCommand } from './transfer.js';
import { UnbindCommand } from './unbind.js';
import { type DuringCall, UnbindDuringCallCommand } from './unbind-during-call.js';
import { checkPermissionsOnce, forgetPermissions } from '../oracles/permissions.js';
import { readDeviceInterrupts } from '../oracles/interrupts.js';
import { warmUp } from './warm-up.js';
import { WedgeCommand, type WedgeVia } from './wedge.js';

const pick = fc.nat({ max: 7 });
// Buffer and device offsets and lengths, valid or not (the buffer is 4096 bytes, the window 4095).
const bufPlace = fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.constant(0xffffffff));
const bufLen = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4096 }), fc.constant(0xffffffff));
const bufXfer = fc
  .tuple(pick, bufPlace, bufPlace, bufLen, fc.constantFrom(1, 2, 0, 3))
  .map(([p, bufOff, devOff, len, flags]) => new BufXferCommand(p, bufOff, devOff, len, flags));
// In range, with a valid direction, on a buffer filled first: these move data,
// which the window read back (or the buffer) judges.
const validBufXfer = fc
  .tuple(pick, fc.integer({ min: 0, max: 2047 }), fc.integer({ min: 0, max: 2047 }), fc.integer({ min: 1, max: 2048 }), fc.constantFrom(1, 2), fc.nat())
  .map(([p, bufOff, devOff, len, flags, fill]) => new BufXferCommand(p, bufOff, devOff, len, flags, fill));
const unbindDuring = fc.tuple(pick, fc.constantFrom<DuringCall>('paused', 'copy')).map(([p, during]) => new UnbindDuringCallCommand(p, during));
const bindFail = fc.integer({ min: 1, max: PROBE_CHECKS }).map((step) => new BindFailCommand(step));
const wedge = fc.tuple(pick, fc.integer({ min: 1, max: 4089 }), fc.constantFrom<WedgeVia>('xfer', 'copy', 'read')).map(([p, len, via]) => new WedgeCommand(p, len, via));

export const lifecycleCommands = (replayPath?: string) => fc.commands(
  [
    fc.constant(new OpenCommand()),
    pick.map((p) => new CloseCommand(p)),
    fc.tuple(pick, fc.integer({ min: 1, max: 4095 }), fc.nat()).map(([p, len, seed]) => new TransferCommand(p, len, seed)),
    fc.tuple(pick, fc.nat(), fc.constantFrom<MmapShape>('page', 'page', 'long', 'offset')).map(([p, seed, shape]) => new MmapCommand(p, seed, shape)),
    pick.map((p) => new MunmapCommand(p)),
    fc.constant(new UnbindCommand()),
    // Twice: it applies only while a file of the bound device is open.
    unbindDuring,
    unbindDuring,
    fc.constant(new BindCommand()),
    // Listed four times: it applies only while the device is unbound, and each
    // of its 8 checks should come up in every default run (100 sequences a profile).
    bindFail,
    bindFail,
    bindFail,
    bindFail,
    // Through an interceptor only (else never applies).
    fc.constant(new BindInterceptedFailCommand()),
    fc.constant(new RmmodCommand()),
    fc.constant(new InsmodCommand()),
    fc.boolean().map((arm) => new ArmFaultCommand(arm)),
    // Twice each, so that every error path they take comes up in every default run.
    validBufXfer,
    bufXfer,
    bufXfer,
    wedge,
    wedge,
  ],
  { maxCommands: 25, size: 'max', ...(replayPath ? { replayPath } : {}) },
);

// Closes, unmaps, reloads and rebinds whatever a run left behind; a wedged
// device is unbound and bound again, which releases its quarantined memory.
// After a passing run the model says what is needed (each shell command costs
// a quarter second on the debug kernel); after a failure, the shell checks all.
async function restore(real: Real, m: LifecycleModel, passed: boolean): Promise<void> {
  for (const handle of real.maps.values()) await real.guest.free(handle);
  for (const fd of real.fds.values()) await real.guest.call('close', fd);
  await real.guest.free(real.scratch);
  // The next sequence starts with no fault armed: dmatap's points outlive the
  // unbind below that ends dmafi's (a no-op with dmafi).
  if (passed) await devicePointsGone(real);
  const machine = real.session.current!;
  const drv = PATHS.pciDriver;
  const write = (path: string, text: string) => real.guest.writeFile(path, text);
  // Nodes a bind or load makes here are checked at the next sequence's start.
  if (!passed || !m.loaded || !m.bound || m.wedge || m.files.some((f) => f.wedgedBuffer && usable(m, f))) forgetPermissions(machine);
  if (!passed) {
    await machine.exec(
      `lsmod | grep -q '^${MODULE} ' || insmod ${PATHS.moduleFile}; echo 0 > ${PROBE_FAULT}; test -e ${drv}/${PCI} || echo ${PCI} > ${drv}/bind; ` +
        `grep -q '^quarantined 0$' ${real.session.ledgerPath} || { echo ${PCI} > ${drv}/unbind; echo ${PCI} > ${drv}/bind; }; ` +
        `for p in ${PATHS.debugfs}/*/faults/*/armed ${real.session.hooks.name === 'dmatap' ? `${real.session.faultsDir}/*/armed` : ''}; do echo 0 > $p; done`,
    );
    return;
  }
  if (!m.loaded) await machine.exec(`insmod ${PATHS.moduleFile}`);
  else if (!m.bound) await write(`${drv}/bind`, PCI);
  else if (m.wedge || m.files.some((f) => f.wedgedBuffer && usable(m, f))) {
    await write(`${drv}/unbind`, PCI);
    await write(`${drv}/bind`, PCI);
  } else if (m.gupFailArmed) await write(`${real.session.faultsDir}/gup_fail/armed`, '0');
}

export function lifecycleProperty(session: GuestSession, options: { replayPath?: string } = {}): fc.IAsyncProperty<[Iterable<fc.AsyncCommand<LifecycleModel, Real>>]> {
  return fc.asyncProperty(lifecycleCommands(options.replayPath), (commands) =>
    session.runCase(async () => {
      const guest = await session.guest();
      const mark = session.consoleMark();
      const real: Real = { session, guest, fds: new Map(), maps: new Map(), scratch: await guest.alloc(4 * PAGE), objectsOffset: {}, pciRefBase: {} };
      const model: LifecycleModel = { ...initialModel(), ...(session.hooks.name === 'dmafi' ? {} : { interceptorPoints: session.hooks.points }) };
      let passed = false;
      try {
        await warmUp(real);
        await measureObjects(real);
        await checkPermissionsOnce(session.current!, guest);
        await fc.asyncModelRun(() => ({ model, real }), commands);
        passed = true;
      } finally {
        // After a failed sequence the failure is what the run reports: an
        // error of the clean-up (the bug may have broken the guest: a late
        // DMA into freed memory, say) only costs the guest.
        await restore(real, model, passed).catch((err: unknown) => {
          if (passed) throw err;
          session.discardGuest(`clean-up after the failure failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
        });
      }
      // With every file closed and mapping gone, the device must hold nothing.
      await checkLedger(initialModel(), real, 'closing everything the run left open');
      const interrupts = await readDeviceInterrupts(guest);
      // A kernel report (an unbind's DMA-API warning, say) belongs to this
      // sequence, even when its lines reach the console after the last command.
      await session.checkConsole(mark);
      await session.expectQuietDevice(interrupts, 'the sequence');
    }),
  );
}
