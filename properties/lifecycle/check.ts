// After every command: the ledger of the current device matches the model, and
// the kernel holds no pins.
import type { Reply } from '../../vm/agent-client.js';
import { type Guest, MODULE } from '../guest.js';
import { OBJECTS, readCounters, readObjects, TARGET_PCI_REFS } from '../oracles/counters.js';
import { PropertyFailure } from '../roundtrip.js';
import { expectedCoherent, initialModel, keptBuffers, type LifecycleModel, liveFiles, PCI, type Real, usable } from './model.js';

const PCI_REFS = `pci_dev_refs@${PCI}`;

// Judges a reply against the model (and notes the expectation for reproducers).
export function expectResult(guest: Guest, what: string, reply: Reply, want: [number, number] | 'fd'): void {
  guest.expect(reply, want === 'fd' ? 'ok' : { ret: want[0], errno: want[1] });
  const got: [number, number] = [reply.ret, reply.ret < 0 ? reply.errno : 0];
  const ok = want === 'fd' ? got[0] >= 0 : got[0] === want[0] && got[1] === want[1];
  if (!ok) throw new PropertyFailure(`${what}: returned ${got[0]} errno ${got[1]}, the model says ${want === 'fd' ? 'a file descriptor' : `${want[0]} errno ${want[1]}`}`);
}

// Nothing is held but what a wedged device keeps quarantined.
// A module or sysfs command must succeed, or fail: noted for reproducers, then judged.
export function expectExit(r: Real, what: string, result: { readonly code: number; readonly stderr: string }, success: boolean): void {
  r.session.current?.trace?.expectExit(result, success);
  if ((result.code === 0) !== success) throw new PropertyFailure(`${what} ${result.code === 0 ? 'succeeded' : `failed (${result.stderr.trim()})`}, the model says it ${success ? 'succeeds' : 'fails'}`);
}

// Writes a sysfs or module-parameter file through the agent (no shell: a fork
// costs a quarter second on the debug kernel); the write must succeed, or fail
// with `errno`, as the model says.
export async function writeSysfs(r: Real, what: string, path: string, text: string, want: 'ok' | number): Promise<void> {
  const reply = await r.guest.call('writefile', path, Buffer.from(text).toString('hex'));
  expectResult(r.guest, what, reply, want === 'ok' ? [text.length, 0] : [-1, want]);
}


export async function checkLedger(m: LifecycleModel, r: Real, what: string): Promise<void> {
  if (!m.loaded) return;
  // Bound, the counters carry the objects file too: one read of each.
  if (!m.bound) return checkObjects(m, r, what, await readObjects(r.guest, r.session.hooks.ledger));
  const c = await readCounters(r.guest, r.session.ledgerPath, r.session.hooks.ledger);
  await checkObjects(m, r, what, c.objects);
  const w = m.wedge;
  const want: Record<string, number> = {
    pinned_pages: w?.pages ?? 0,
    sg_tables: w?.ranges ?? 0,
    dma_mappings: w?.ranges ?? 0,
    dma_in_flight: w ? 1 : 0,
    quarantined: (w?.ranges ?? 0) + keptBuffers(m),
    // The state of each file the device serves (open, mapped, or kept for a
    // wedged DMA) and each quarantined pinned range.
    allocations: expectedCoherent(m) + (w?.ranges ?? 0),
  };
  // dmatap counts for the whole module whatever the driver allocated.
  if (r.session.hooks.ledger !== undefined) want.allocations = moduleWide(m, r).allocations!;
  const wrong = Object.keys(want).filter((k) => (c.ledger[k] ?? 0) !== want[k]);
  if (wrong.length) {
    throw new PropertyFailure(`after ${what}: the ledger holds ${wrong.map((k) => `${k}=${c.ledger[k]}`).join(', ')}, the model says ${wrong.map((k) => `${k}=${want[k]}`).join(', ')}`);
  }
  if ((c.ledger.coherent_buffers ?? NaN) !== expectedCoherent(m)) {
    throw new PropertyFailure(`after ${what}: ledger coherent_buffers=${c.ledger.coherent_buffers}, the model says ${expectedCoherent(m)}`);
  }
  if (c.pinsAcquired - c.pinsReleased !== want.pinned_pages) {
    throw new PropertyFailure(`after ${what}: ${c.pinsAcquired - c.pinsReleased} pages still pinned, the model says ${want.pinned_pages}`);
  }
}

// The module-wide counts as they are read (readObjects): through an
// interceptor, its allocations are everything the module allocated, the
// device states (one per device alive, bound or kept by open files) too,
// and the module holds one pci_dev reference per device state.
function moduleWide(m: LifecycleModel, r: Real): Record<string, number> {
  const want = expectedObjects(m);
  if (r.session.hooks.ledger !== undefined) {
    want.allocations! += want.devices!;
    want[TARGET_PCI_REFS] = want.devices!;
    // The interceptor finds nothing wrong with the module's calls.
    want.findings = 0;
  }
  return want;
}

// The module-wide counts, as the model has them for a device bound with
// nothing open (initialModel) or for `m`.
function expectedObjects(m: LifecycleModel): Record<string, number> {
  const stale = liveFiles(m).filter((f) => !usable(m, f));
  const w = m.bound ? m.wedge : undefined;
  return {
    devices: new Set(stale.map((f) => f.generation)).size + (m.bound ? 1 : 0),
    pinned_pages: w?.pages ?? 0,
    sg_tables: w?.ranges ?? 0,
    dma_mappings: w?.ranges ?? 0,
    coherent_buffers: expectedCoherent(m),
    allocations: (m.bound ? expectedCoherent(m) + (w?.ranges ?? 0) : 0) + stale.length,
  };
}

// At the start of a sequence (after the warm-up): what the module holds beyond
// the model's start (left by an earlier failing sequence in this guest: judged
// there, not again), and, from the kernel's count, the pci_dev references no
// device state holds while a driver is bound (the driver core's, the misc
// device's: 3 for edu_dma). The same for the unbound state is learned the
// first time the sequence sees it. Through an interceptor the module's own
// references are counted instead, which need no base.
export async function measureObjects(r: Real): Promise<void> {
  const o = await readObjects(r.guest, r.session.hooks.ledger);
  const refs = r.session.hooks.ledger === undefined ? PCI_REFS : TARGET_PCI_REFS;
  if (o === undefined || o[refs] === undefined || o.devices === undefined) throw new PropertyFailure(`${OBJECTS} has no devices or ${refs} line`);
  const start = moduleWide(initialModel(), r);
  for (const [k, v] of Object.entries(start)) r.objectsOffset[k] = (o[k] ?? NaN) - v;
  if (r.session.hooks.ledger === undefined) r.pciRefBase.bound = o[PCI_REFS]! - o.devices;
}

// Module-wide, across bindings: the device states alive are the bound one's
// and each earlier binding's that a live file still holds; each holds one
// pci_dev reference (see measureObjects and moduleWide); every binding's ledger summed holds
// what the current device holds plus one file state per live file of an
// earlier binding. An unbound device leaves nothing else behind, whichever
// binding's file took it.
async function checkObjects(m: LifecycleModel, r: Real, what: string, objects: Readonly<Record<string, number>> | undefined): Promise<void> {
  const o = objects && Object.keys(objects).length ? objects : undefined;
  if (o === undefined) throw new PropertyFailure(`after ${what}: the module is loaded but ${OBJECTS} cannot be read`);
  const want = moduleWide(m, r);
  for (const k of Object.keys(want)) want[k]! += r.objectsOffset[k] ?? 0;
  // The kernel's count of the device's references, once its base is known
  // (through an interceptor, the module's own references are in `want`).
  if (r.session.hooks.ledger === undefined) {
    const state = m.bound ? 'bound' : 'unbound';
    const base = r.pciRefBase[state];
    if (base !== undefined) want[PCI_REFS] = base + want.devices!;
    else if (o[PCI_REFS] !== undefined && o.devices === want.devices) r.pciRefBase[state] = o[PCI_REFS] - want.devices!;
  }
  const wrong = Object.keys(want).filter((k) => (o[k] ?? NaN) !== want[k]);
  if (wrong.length) {
    const findings = wrong.includes('findings') ? await r.session.interceptorFindings(r.objectsOffset.findings ?? 0) : '';
    throw new PropertyFailure(`after ${what}: the module holds ${wrong.map((k) => `${k}=${o[k]}`).join(', ')} across bindings, the model says ${wrong.map((k) => `${k}=${want[k]}`).join(', ')}${findings}`);
  }
}

// The device's interrupt is registered exactly while a driver instance is bound:
// /proc/interrupts names the driver on one line then, on none otherwise.
export async function checkIrq(r: Real, bound: boolean, what: string): Promise<void> {
  const lines = (await r.guest.readFile('/proc/interrupts')).split('\n').filter((l) => new RegExp(`\\b${MODULE}\\b`).test(l));
  if (lines.length !== (bound ? 1 : 0)) {
    throw new PropertyFailure(`after ${what}: ${lines.length} interrupt line(s) registered by ${MODULE}, expected ${bound ? 1 : 0}${lines.length ? `:\n${lines.join('\n')}` : ''}`);
  }
}
