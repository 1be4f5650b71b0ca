// The lifecycle model: what the driver's state should be after any sequence of
// opens, closes, transfers, buffer transfers, mappings, unbinds, rebinds (some
// failing on purpose), unloads, reloads, armed faults and a wedged device. Each
// command (one per file) predicts its result from it.
import { type Guest, PATHS } from '../guest.js';
import type { GuestSession } from '../session.js';

export interface ModelFile {
  readonly id: number;
  // Device generation the file was opened on: a file outlives an unbind.
  readonly generation: number;
  closed: boolean;
  // Pattern last written through a mapping: every mapping of a file shares its buffer.
  bufferSeed?: number;
  // A bounce DMA on the file's buffer timed out with the engine running: the
  // device may still write the buffer, so close leaves it to the device's
  // remove (counted as quarantined) instead of freeing it.
  wedgedBuffer?: boolean;
}

export interface ModelMapping {
  readonly fileId: number;
}

// A DMA that timed out while the engine ran: the device refuses DMA (-EIO) and
// keeps the transfer's memory quarantined until it is unbound.
export interface ModelWedge {
  // Pinned ranges kept (1 for a transfer, 2 for a copy) and their pages.
  readonly ranges: number;
  readonly pages: number;
}

export interface LifecycleModel {
  files: ModelFile[];
  mappings: ModelMapping[];
  loaded: boolean;
  bound: boolean;
  generation: number;
  // gup_fail armed for the next pin (times=1), on the current device.
  gupFailArmed: boolean;
  // The current device is wedged.
  wedge?: ModelWedge;
  nextId: number;
  // The points of an interceptor (dmatap), which can be armed while unbound; none with dmafi.
  interceptorPoints?: readonly string[];
}

// dmafi's fault points belong to a device and go with it (unbind, rmmod);
// dmatap's belong to the target module and outlive its devices and even the
// module: disarmed here where a device's would have gone, so the model holds
// for both.
export async function devicePointsGone(r: Real): Promise<void> {
  const { hooks } = r.session;
  if (hooks.name === 'dmafi') return;
  await Promise.all(hooks.points.map((p) => r.guest.writeFile(`${r.session.faultsDir}/${p}/armed`, '0')));
}

export interface Real {
  readonly session: GuestSession;
  readonly guest: Guest;
  // Model file id -> fd, and mapping index -> agent handle.
  readonly fds: Map<number, number>;
  readonly maps: Map<ModelMapping, number>;
  // A scratch buffer for transfers: data at 100, read back at 2 * PAGE + 7 (4 pages hold both for any length).
  readonly scratch: number;
  // Module-wide counts held before the sequence began, and the pci_dev
  // references no device state holds, bound and unbound (see measureObjects).
  readonly objectsOffset: Record<string, number>;
  readonly pciRefBase: { bound?: number; unbound?: number };
}

export { PCI } from '../guest.js';
export const ENOENT = 2;
export const EIO = 5;
export const ENODEV = 19;
export const EFAULT = 14;
export const EINVAL = 22;
export const ETIMEDOUT = 110;

// Failure checks of the driver's probe, numbered for its probe_fault parameter
// (driver/README.md); BindFailCommand fails each.
export const PROBE_CHECKS = 8;
// The errno each check fails with, which the writer of sysfs bind gets back.
export const PROBE_ERRNOS: readonly number[] = [12, 5, 16, 5, 28, 16, 12, 16];
export const PROBE_FAULT = `${PATHS.parameters}/probe_fault`;

// Pages a user range of `len` bytes spans when it starts `offset` bytes into a page.
export const pagesSpanned = (offset: number, len: number) => Math.ceil(((offset % 4096) + len) / 4096);

export function initialModel(): LifecycleModel {
  return { files: [], mappings: [], loaded: true, bound: true, generation: 0, gupFailArmed: false, nextId: 0 };
}

export const openFiles = (m: LifecycleModel) => m.files.filter((f) => !f.closed);

// A file's state lives until it is closed and no mapping holds it.
export function liveFiles(m: LifecycleModel): ModelFile[] {
  return m.files.filter((f) => !f.closed || m.mappings.some((x) => x.fileId === f.id));
}

export function usable(m: LifecycleModel, f: ModelFile): boolean {
  return m.loaded && m.bound && f.generation === m.generation;
}

// Closed files of the current device whose buffer a wedged DMA may still write.
export function keptBuffers(m: LifecycleModel): number {
  return m.files.filter((f) => f.closed && f.wedgedBuffer && usable(m, f) && !liveFiles(m).includes(f)).length;
}

// Coherent buffers the current device's ledger should count: its live files'
// and the ones kept for a wedged DMA. A device's remove frees them all, so a
// file of an earlier device holds none.
export function expectedCoherent(m: LifecycleModel): number {
  return liveFiles(m).filter((f) => usable(m, f)).length + keptBuffers(m);
}
