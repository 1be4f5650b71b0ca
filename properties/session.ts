// A guest that properties can rely on: booted on first use, and replaced by a
// fresh one (and said so) when the previous one crashed or lost its connection.
import { BootError, DmafaultError } from '../vm/errors.js';
import type { Machine } from '../vm/machine.js';
import { Guest, MODULE, PATHS } from './guest.js';
import { Trace } from '../vm/trace.js';
import type { CaseSampler } from './site-sampler.js';
import { type Counters, readCounters } from './oracles/counters.js';
import { findLeaks, isClean } from './oracles/leaks.js';
import { type DeviceInterrupts, idleInterrupts, readDeviceInterrupts } from './oracles/interrupts.js';
import { scanKmemleak } from './oracles/kmemleak.js';
import { PropertyFailure } from './failure.js';
import { dmafiHooks, type FaultHooks } from '../faults/hooks.js';

// Boots a guest with `cpus` vCPUs.
export type BootFn = (options: { readonly cpus: number }) => Promise<Machine>;

// The kernel logged something that must never appear during a case.
export class KernelReport extends Error {
  constructor(
    readonly kind: string,
    readonly title: string,
    readonly excerpt: string,
  ) {
    super(`kernel log: ${title}\n${excerpt}`);
  }
}

export class GuestSession {
  private machine: Machine | undefined;
  private guestCache: Guest | undefined;
  private ledgerPathCache = '';
  private lastCounters: Counters | undefined;
  private countersOf: Machine | undefined;
  reboots = 0;
  // Why the guest must be replaced before the next case, if it must.
  private dirty: string | undefined;
  // The harness broke (a guest that could not boot twice, a lost connection, a
  // failed provisioning step): no later case can run, and none is to blame.
  private infraFailure: DmafaultError | undefined;
  // Faults injected per point over the session, for run summaries.
  readonly faultsInjected: Record<string, number> = {};

  // With `recording`, each case's guest operations are traced, and the trace of
  // the last failing case is kept (for standalone reproducers).
  recording = false;
  failedCase: { readonly trace: Trace; readonly deviceDebugfs: string } | undefined;
  // When set, the error sites each case reached are sampled for the audit.
  sampler: CaseSampler | undefined;
  // The property whose cases run now (set by runProperty), for the audit.
  property = '';
  // vCPUs the property needs (set by runProperty); a guest with another count is replaced.
  cpus = 1;
  private machineCpus = 0;

  constructor(
    private readonly boot: BootFn,
    private readonly log: (message: string) => void = () => {},
    // Where faults are armed and held resources counted (faults/hooks.ts).
    readonly hooks: FaultHooks = dmafiHooks,
  ) {}

  async guest(): Promise<Guest> {
    if (this.machine && this.machineCpus !== this.cpus && !this.machine.failure && !this.dirty) {
      this.log(`the property needs ${this.cpus} vCPU(s): replacing the guest with ${this.machineCpus}`);
      await this.machine.close();
      this.machine = undefined;
    }
    if (this.machine && !this.machine.failure && !this.dirty && this.guestCache) return this.guestCache;
    if (this.machine) {
      const why = this.machine.failure?.code ?? this.dirty ?? 'unknown';
      this.log(`guest ${this.machine.failure ? 'failed' : 'left dirty'} (${why}); booting a fresh one; logs kept in ${this.machine.dir}`);
      const old = this.machine;
      this.machine = undefined;
      this.guestCache = undefined;
      await old.close(true);
      this.reboots++;
      this.dirty = undefined;
    }
    if (this.infraFailure) throw this.infraFailure;
    this.machine = await this.bootWithRetry();
    this.machineCpus = this.cpus;
    this.guestCache = new Guest(this.machine);
    this.ledgerPathCache = await this.findLedger(this.machine);
    return this.guestCache;
  }

  // Counters read at the end of the last case, valid as the next case's baseline
  // because nothing runs in the guest between two cases. Taking them clears them.
  takeCounters(): Counters | undefined {
    const counters = this.lastCounters;
    this.lastCounters = undefined;
    return this.machine === this.countersOf ? counters : undefined;
  }

  keepCounters(counters: Counters): void {
    this.lastCounters = counters;
    this.countersOf = this.machine;
  }

  // Runs one case. After a failure the guest is replaced before the next case
  // when it crashed, logged a kernel report, or still holds anything: a failing
  // case must not poison the cases after it (shrinking replays many).
  async runCase<T>(fn: () => Promise<T>): Promise<T> {
    // After an infrastructure error every case (fast-check's shrink steps too)
    // fails at once with it, touching no guest; throwIfInfraFailed() reports it.
    if (this.infraFailure) throw this.infraFailure;
    await this.guest().catch((err: unknown) => {
      throw this.noteInfra(err);
    });
    const mark = this.consoleMark();
    const trace = this.recording ? new Trace() : undefined;
    if (this.machine) this.machine.trace = trace;
    try {
      return await fn();
    } catch (err) {
      this.noteInfra(err);
      if (this.infraFailure) throw err;
      if (trace) this.failedCase = { trace, deviceDebugfs: this.ledgerPathCache.replace(/\/ledger$/, '') };
      this.lastCounters = undefined;
      await this.inspectAfterFailure(mark);
      throw err;
    } finally {
      await this.sampleSites();
    }
  }

  // Remembers an error that is not the guest's doing; returns the error.
  private noteInfra(err: unknown): unknown {
    if (err instanceof DmafaultError && err.kind !== 'guest') this.infraFailure ??= err;
    return err;
  }

  // Hands the case's error-site hits to the audit, when one is collecting.
  private async sampleSites(): Promise<void> {
    const machine = this.machine;
    if (!this.sampler || !machine || machine.failure || !this.guestCache) return;
    await this.sampler.sample(this.guestCache, machine, this.faultsDir, this.property).catch((err: Error) => this.log(`audit sample failed: ${err.message}`));
  }

  private async inspectAfterFailure(mark: number): Promise<void> {
    const machine = this.machine;
    if (!machine || machine.failure) return;
    await machine.syncConsole().catch(() => undefined);
    if (machine.crashesSince(mark).length) {
      this.dirty = 'kernel report';
      return;
    }
    try {
      const counters = await readCounters(this.guestCache!, this.ledgerPathCache, this.hooks.ledger);
      if (!isClean(counters)) this.dirty = 'resources still held';
    } catch {
      this.dirty = 'counters unreadable';
    }
  }

  // The guest is not to be trusted after this case (`why` says why): the next case gets a fresh one.
  discardGuest(why: string): void {
    this.dirty ??= why;
  }

  // Console position, to check a case's kernel messages with checkConsole().
  consoleMark(): number {
    return this.machine?.consoleLines ?? 0;
  }

  // Throws when the kernel reported a WARNING, BUG, Oops, panic, DMAR fault,
  // full swiotlb or DMA address overflow since `mark`.
  async checkConsole(mark: number): Promise<void> {
    await this.machine?.syncConsole();
    const [report] = this.machine?.crashesSince(mark) ?? [];
    if (report) throw new KernelReport(report.kind, report.title, report.excerpt);
  }

  // A boot that fails for infrastructure reasons is tried once more; a second
  // failure ends the session's cases (see throwIfBootFailed()).
  private async bootWithRetry(): Promise<Machine> {
    try {
      return await this.boot({ cpus: this.cpus });
    } catch (err) {
      if (!(err instanceof BootError)) throw err;
      this.log(`boot failed (${err.code}), trying once more: ${err.message.split('\n')[0]}`);
      try {
        return await this.boot({ cpus: this.cpus });
      } catch (again) {
        if (again instanceof BootError) this.infraFailure = again;
        throw again;
      }
    }
  }

  // An infrastructure error is the harness's, not a counterexample: the
  // property run that met it ends with this one error (the CLI exits 3) instead
  // of shrinking through reboots and writing a failure file that blames the driver.
  throwIfInfraFailed(): void {
    if (this.infraFailure) throw this.infraFailure;
  }

  // The baseline of a case: the previous case's closing counters, or a fresh read.
  async caseBaseline(): Promise<Counters> {
    return this.takeCounters() ?? readCounters(this.guestCache!, this.ledgerPathCache, this.hooks.ledger);
  }

  // Closes a case: reads the counters (kept as the next baseline), checks the
  // kernel log since `mark`, and fails on anything held that `before` did not hold.
  // Then the device, idle since the case's calls returned, must not have
  // raised interrupts over the console check in between.
  async endCase(mark: number, before: Counters, context?: string): Promise<void> {
    const [after, interrupts] = await Promise.all([readCounters(this.guestCache!, this.ledgerPathCache, this.hooks.ledger), readDeviceInterrupts(this.guestCache!)]);
    await this.checkConsole(mark);
    this.keepCounters(after);
    const leaks = findLeaks(before, after);
    if (leaks.length) {
      const findings = leaks.some((l) => l.counter === 'ledger.findings') ? await this.interceptorFindings(before.ledger.findings ?? 0) : '';
      throw new PropertyFailure(`leaked${context ? ` after ${context}` : ''}: ${leaks.map((l) => `${l.counter} ${l.before} -> ${l.after}`).join(', ')}${findings}`);
    }
    await this.expectQuietDevice(interrupts, context);
  }

  // Fails when the device's interrupt fired since `earlier` (read once it
  // was idle) more than a late completion explains (oracles/interrupts.ts).
  async expectQuietDevice(earlier: DeviceInterrupts | undefined, context?: string): Promise<void> {
    const storm = idleInterrupts(earlier, await readDeviceInterrupts(this.guestCache!));
    if (storm) throw new PropertyFailure(`interrupt storm${context ? ` after ${context}` : ''}: ${storm}`);
  }

  // After a property's cases, kmemleak (debug flavour; a scan costs seconds, so
  // once per property, not per case): a message naming what the driver
  // allocated and never freed, or undefined.
  async finishProperty(): Promise<string | undefined> {
    const machine = this.machine;
    if (!machine || machine.failure) return undefined;
    const leaked = await scanKmemleak(machine);
    if (!leaked.length) return undefined;
    this.dirty = 'kmemleak report';
    const shown = leaked.slice(0, 3).map((o) => o.lines.join('\n'));
    return `kmemleak: ${leaked.length} object(s) allocated by ${MODULE} were never freed (found by the scan after the property's cases, so no single case is named)\n${shown.join('\n')}`;
  }

  // The interceptor's findings after the first `seen`, as lines to append to a failure.
  async interceptorFindings(seen: number): Promise<string> {
    if (this.hooks.findings === undefined) return '';
    const lines = (await this.guestCache!.readFile(this.hooks.findings)).split('\n').filter(Boolean).slice(seen);
    return lines.length ? `\n${this.hooks.name} findings:\n${lines.slice(0, 10).join('\n')}` : '';
  }

  // Where the current guest's fault points are: <debugfs>/<pci>/faults of its
  // device for dmafi, dmatap's own directory for dmatap.
  get faultsDir(): string {
    return this.hooks.faultsDir(this.ledgerPathCache.replace(/\/ledger$/, ''));
  }

  get ledgerPath(): string {
    return this.ledgerPathCache;
  }

  get current(): Machine | undefined {
    return this.machine;
  }

  async close(): Promise<void> {
    await this.machine?.close();
    this.machine = undefined;
  }

  private async findLedger(machine: Machine): Promise<string> {
    const { stdout } = await machine.exec(`ls ${PATHS.debugfs}`);
    const [device] = stdout.split(/\s+/).filter((name) => /^[0-9a-f]{4}:/.test(name)).sort();
    if (!device) throw new Error(`the driver registered no device in debugfs; console:\n${machine.consoleTail()}`);
    return `${PATHS.debugfs}/${device}/ledger`;
  }
}
