// A booted guest: QEMU, its console, an SSH connection and the agent channel.
// Boot waits for the guest to answer while buffering the console; every way the
// guest can fail (crash on the console, QEMU hardware error or exit, lost
// connection, unanswered request) rejects pending and future calls with a
// distinct error carrying its log excerpt. close() is safe on a half-built machine.
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Client, ClientChannel } from 'ssh2';
import { AgentClient, type Reply } from './agent-client.js';
import { type DriverBuild, guestModule } from './build/driver.js';
import { BootError, ConnectionLostError, type DmafaultError, KernelCrashError, QemuError, RequestTimeoutError, SnapshotError } from './errors.js';
import { buildInitrd } from './image/overlay.js';
import { matchCrash } from './console/crash-table.js';
import { DRIVER_MARKER, READY_MARKER } from './image/init-script.js';
import type { GuestKernel } from './kernel/guest-kernel.js';
import { type Accel, qemuArgs, type QemuArgsInput } from './qemu/args.js';
import { freePort } from './qemu/free-port.js';
import type { Profile } from './qemu/profiles.js';
import { QemuProcess } from './qemu/qemu-process.js';
import { Qmp } from './qemu/qmp.js';
import { restorePciConfig, savePciConfig } from './snapshot/guest-pci.js';
import { zeroFreeMemory } from './snapshot/zero-free.js';
import { incomingArg, resumeRestored, saveGuest } from './snapshot/migrate.js';
import { dropSnapshot, findSnapshot, newSnapshot, type Snapshot, snapshotKey } from './snapshot/store.js';
import { connectSsh } from './ssh/connect.js';
import { makeKeys, type VmKeys } from './ssh/keys.js';
import { timeout } from './timeouts.js';
import type { Trace } from './trace.js';
import { driverUnderTest, guestPaths } from '../target/index.js';

export interface MachineOptions {
  readonly kernel: GuestKernel;
  readonly baseImage: string;
  readonly driver: DriverBuild;
  readonly profile: Profile;
  readonly accel: Accel;
  readonly cache: string;
  readonly driverParams?: string;
  // A module loaded before the driver, with its parameters: an interceptor of
  // the driver's calls (dmatap, target=<module>), which must see the driver
  // arrive. The driver is then always loaded by the host, never by init.
  readonly companion?: { readonly ko: string; readonly params: string };
  // Keep the VM directory (console and QEMU logs) after a clean close.
  readonly keepLogs?: boolean;
  readonly extraKernelArgs?: readonly string[];
  readonly extraQemuArgs?: readonly string[];
  // vCPUs (default 1; see qemu/args.ts for what more than one costs).
  readonly cpus?: number;
  // Overrides of the scaled defaults in timeouts.ts.
  readonly bootTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly shellTimeoutMs?: number;
  // A fixed icount shift: the guest clock counts instructions only (qemu/args.ts).
  readonly icountShift?: number;
  // Start from a snapshot of the same guest when there is one, and save one
  // after a cold boot (default: true; DMAFAULT_SNAPSHOTS=off turns it off).
  readonly snapshots?: boolean;
}

const AGENT_PATH = '/sbin/dmafault-agent';
const MODULE_PATH = guestPaths(driverUnderTest).moduleFile;
// The exit code of the driver's load when the script before it failed (insmod never exits with it).
const PRELUDE_FAILED = 97;
const QEMU_HARDWARE = /qemu: hardware error|qemu-system-x86_64: .*(abort|Assertion)/;
// How long the console may take to deliver the rest of a crash report.
const SETTLE_MS = 500;

// VM directories kept for their logs (failures, --keep-logs): only the newest stay,
// and only their logs.
const KEPT_VMS = 30;
const KEPT_FILES = new Set(['console.log', 'qemu.log']);
// A unix socket path must fit in sockaddr_un (108 bytes with its NUL).
const MAX_SOCKET_PATH = 107;

// The key of the snapshot this guest can start from, or undefined when it
// cannot: snapshots are turned off, or the guest runs on KVM (restores are
// tested under TCG only: one vCPU under icount, two under multi-threaded TCG).
// A snapshot holds no driver (the host loads it after the save or restore),
// so every driver build and parameter set on one guest kind shares it.
function snapshotKeyOf(options: MachineOptions): string | undefined {
  if (options.snapshots === false || process.env.DMAFAULT_SNAPSHOTS === 'off') return undefined;
  if (options.accel !== 'tcg') return undefined;
  return snapshotKey({
    cpus: options.cpus ?? 1,
    kernel: options.kernel.identity,
    image: options.kernel.image,
    base: options.baseImage,
    profile: options.profile,
    kernelArgs: options.extraKernelArgs ?? [],
    qemuArgs: options.extraQemuArgs ?? [],
    icountShift: options.icountShift ?? 'auto',
  });
}

// Module parameters as shell words: split like the init script's
// $(cat driver-params), each word quoted.
function shellWords(params: string): string {
  return params.split(/\s+/).filter(Boolean).map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(' ');
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

async function pruneKeptLogs(root: string): Promise<void> {
  const dirs = await Promise.all((await readdir(root)).map(async (name) => ({ name, mtime: (await stat(join(root, name))).mtimeMs })));
  dirs.sort((a, b) => b.mtime - a.mtime);
  await Promise.all(dirs.slice(KEPT_VMS).map((d) => rm(join(root, d.name), { recursive: true, force: true })));
}

export class Machine {
  private qemu: QemuProcess | undefined;
  private ssh: Client | undefined;
  private agent: AgentClient | undefined;
  private failureError: DmafaultError | undefined;
  private readonly failureWaiters = new Set<(err: DmafaultError) => void>();
  private closing = false;
  private judging: Promise<void> | undefined;
  private syncs = 0;
  private stopWatch: (() => void) | undefined;
  // When set, every agent request and shell command is recorded in it.
  trace: Trace | undefined;
  bootMs = 0;
  // True when the guest came from a snapshot rather than a cold boot.
  restored = false;
  // The driver or its companion module refused to load: a fault of the
  // module or its parameters, which a cold boot would meet too.
  private moduleRefused = false;
  // A restore's steps: milliseconds from QEMU's start to the end of each.
  readonly restoreSteps: Record<string, number> = {};
  // What happened to snapshots on the way up, when worth saying (a failed
  // restore and the cold boot that replaced it, a snapshot that could not be saved).
  snapshotNote: string | undefined;

  private constructor(
    readonly dir: string,
    readonly options: MachineOptions,
  ) {}

  // The key of this guest's snapshot in the cache (undefined: snapshots off).
  get snapshotKey(): string | undefined {
    return snapshotKeyOf(this.options);
  }

  static async boot(options: MachineOptions): Promise<Machine> {
    const root = join(options.cache, 'vms');
    await mkdir(root, { recursive: true });
    await pruneKeptLogs(root);
    const key = snapshotKeyOf(options);
    const snapshot = key === undefined ? undefined : await findSnapshot(options.cache, key);
    let note: string | undefined;
    if (snapshot) {
      const restored = new Machine(await mkdtemp(join(root, `${options.profile.name}-`)), options);
      try {
        await restored.restore(snapshot);
        return restored;
      } catch (err) {
        await restored.close(true);
        // The snapshot is sound: booting cold would only meet the same refusal, a minute later.
        if (restored.moduleRefused) throw err;
        await dropSnapshot(snapshot);
        note = `the restore failed (${firstLine(err)}; logs in ${restored.dir}); booted cold`;
      }
    }
    const machine = new Machine(await mkdtemp(join(root, `${options.profile.name}-`)), options);
    try {
      await machine.start(key);
      if (note) machine.snapshotNote = note;
      return machine;
    } catch (err) {
      await machine.close(true);
      throw err;
    }
  }

  get consolePath(): string {
    return join(this.dir, 'console.log');
  }

  get qemuLogPath(): string {
    return join(this.dir, 'qemu.log');
  }

  // The first failure seen, if any: the machine must not be trusted after it.
  get failure(): DmafaultError | undefined {
    return this.failureError;
  }

  consoleTail(lines = 80): string {
    return this.qemu?.console.tail(lines) ?? '';
  }

  get consoleLines(): number {
    return this.qemu?.console.lineCount ?? 0;
  }

  // Crash reports on the console after line `from` (for per-case oracles).
  crashesSince(from: number) {
    return this.qemu?.console.crashesSince(from) ?? [];
  }

  async call(op: string, ...args: (string | number | bigint)[]): Promise<Reply> {
    if (this.failureError) throw this.failureError;
    if (!this.agent) throw new ConnectionLostError('the machine has no agent channel');
    const event = this.trace?.call(op, args);
    try {
      const reply = await this.raceFailure(this.agent.call(op, ...args));
      if (event) this.trace?.answered(event, reply);
      return reply;
    } catch (err) {
      // An agent that did not answer may be stuck in the kernel: trust it no more.
      if (err instanceof RequestTimeoutError) this.fail(err);
      // A closed channel is a symptom; report what caused it.
      if (err instanceof ConnectionLostError && !this.closing) {
        await this.judge(err);
        throw this.failureError ?? err;
      }
      throw err;
    }
  }

  get qemuPid(): number | undefined {
    return this.qemu?.pid;
  }

  // Returns once every kernel message logged before the call is on the console:
  // a marker written to /dev/kmsg is printed after them.
  async syncConsole(): Promise<void> {
    const qemu = this.qemu;
    if (!qemu) return;
    const marker = `dmafault: sync ${++this.syncs}`;
    const seen = qemu.console.waitFor(new RegExp(`${marker}$`));
    await this.call('writefile', '/dev/kmsg', Buffer.from(`<4>${marker}\n`).toString('hex'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([seen, new Promise((resolve) => (timer = setTimeout(resolve, timeout('consoleSyncMs'))))]);
    clearTimeout(timer);
  }

  // Runs a shell command over a separate SSH channel (slow: for rare operations).
  async exec(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const ssh = this.ssh;
    if (!ssh) throw new ConnectionLostError('the machine has no SSH connection');
    const event = this.trace?.exec(command);
    const run = new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      ssh.exec(command, (err, channel) => {
        if (err) return reject(new ConnectionLostError(`ssh exec failed: ${command}`, { cause: err }));
        let stdout = '';
        let stderr = '';
        channel.on('data', (d: Buffer) => (stdout += d.toString()));
        channel.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        channel.on('exit', (code: number | null) => channel.on('close', () => resolve({ code: code ?? -1, stdout, stderr })));
      });
    });
    const result = await this.raceFailure(this.bounded(run, (ms) => `the guest shell command did not finish within ${ms} ms: ${command}`));
    if (event) this.trace?.executed(event, result);
    return result;
  }

  // `work`, which fails the machine when it has not settled in time: a shell
  // that never returns may be stuck in the kernel, like an agent that never answers.
  private bounded<T>(work: Promise<T>, message: (ms: number) => string): Promise<T> {
    const ms = this.options.shellTimeoutMs ?? timeout('shellMs');
    const timer = setTimeout(() => this.fail(new RequestTimeoutError(message(ms))), ms);
    return work.finally(() => clearTimeout(timer));
  }

  // Writes `data` to `path` in the guest (mode 0755), through SSH.
  async upload(path: string, data: Buffer): Promise<void> {
    const ssh = this.ssh;
    if (!ssh) throw new ConnectionLostError('the machine has no SSH connection');
    const result = await this.raceFailure(this.bounded(this.run(ssh, `cat > '${path}' && chmod 755 '${path}'`, data), (ms) => `the upload to ${path} did not finish within ${ms} ms`));
    if (result.code !== 0) throw new Error(`upload to ${path} failed (${result.code}): ${result.stderr}`);
  }

  async close(keepLogs = this.options.keepLogs ?? false): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.stopWatch?.();
    this.agent?.failAll(new ConnectionLostError('the machine was closed'));
    this.ssh?.end();
    await this.qemu?.kill();
    if (!keepLogs && !this.failureError) await rm(this.dir, { recursive: true, force: true });
    else await this.keepOnlyLogs();
  }

  // A kept guest directory holds its logs, not the initramfs (megabytes) and keys.
  private async keepOnlyLogs(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => !KEPT_FILES.has(n)).map((n) => rm(join(this.dir, n), { recursive: true, force: true })));
  }

  private raceFailure<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onFail = (err: DmafaultError) => reject(err);
      this.failureWaiters.add(onFail);
      work.then(resolve, reject).finally(() => this.failureWaiters.delete(onFail));
    });
  }

  private fail(err: DmafaultError): void {
    if (this.closing || this.failureError) return;
    this.failureError = err;
    this.agent?.failAll(err);
    for (const waiter of this.failureWaiters) waiter(err);
  }

  // The command line of this machine's QEMU, booted or restored.
  private qemuArgs(vm: Pick<QemuArgsInput, 'initrd' | 'sshPort' | 'qmpSocket' | 'incoming'>): string[] {
    const { options } = this;
    return qemuArgs({ profile: options.profile, accel: options.accel, kernelImage: options.kernel.image, extraKernelArgs: options.extraKernelArgs, extraQemuArgs: options.extraQemuArgs, cpus: options.cpus, icountShift: options.icountShift, ...vm });
  }

  get qmpSocket(): string | undefined {
    const path = join(this.dir, 'qmp.sock');
    return path.length <= MAX_SOCKET_PATH ? path : undefined;
  }

  // Cold boot: QEMU loads the kernel and initramfs; once the guest answers
  // SSH, it is saved under `snapshotKey` (when given) before the agent starts.
  private async start(snapshotKey?: string): Promise<void> {
    const { options } = this;
    const keys = await makeKeys(this.dir);
    const deferred = snapshotKey !== undefined || options.companion !== undefined;
    const initrd = await buildInitrd(this.dir, options.baseImage, {
      hostKey: keys.hostKeyFile,
      authorizedKey: keys.clientPublic,
      // A guest to be saved boots without the driver: see snapshotKeyOf.
      driver: deferred ? null : { ko: options.driver.ko, params: options.driverParams ?? '' },
    });
    const port = await freePort();
    const qmpSocket = snapshotKey === undefined ? undefined : this.qmpSocket;
    const args = this.qemuArgs({ initrd, sshPort: port, qmpSocket });
    const started = performance.now();
    this.qemu = new QemuProcess(args, this.consolePath, this.qemuLogPath);
    this.watch(this.qemu);

    let deadline = Date.now() + (options.bootTimeoutMs ?? timeout('bootMs'));
    await this.bootStage(this.qemu.console.waitFor(new RegExp(READY_MARKER)), deadline, 'the guest did not reach its ready marker');
    const driverLine = await this.qemu.console.waitFor(DRIVER_MARKER);
    if (!/loaded|deferred/.test(driverLine)) {
      throw new BootError('E_BOOT_FAILED', `the driver did not load: ${driverLine}`, this.consoleTail());
    }
    this.ssh = await this.bootStage(connectSsh(port, keys, deadline, () => this.failureError), deadline, 'ssh did not connect');
    if (deferred) {
      if (snapshotKey !== undefined && qmpSocket !== undefined) {
        try {
          await this.saveSnapshot(snapshotKey, qmpSocket, keys);
        } catch (err) {
          if (this.failureError) throw this.failureError;
          this.snapshotNote = `no snapshot saved: ${firstLine(err)}`;
        }
        // The save has its own deadline; what follows gets as long as a restore.
        deadline = Math.max(deadline, Date.now() + timeout('restoreMs'));
        this.ssh ??= await this.bootStage(connectSsh(port, keys, deadline, () => this.failureError), deadline, 'ssh did not connect after the snapshot');
      }
      await this.loadDriver(this.ssh, deadline);
    }
    await this.startAgent(this.ssh, deadline);
    this.bootMs = performance.now() - started;
  }

  // Restore: QEMU loads the saved guest; the agent then starts over a new
  // SSH connection through a new port forward.
  private async restore(snapshot: Snapshot): Promise<void> {
    const { options } = this;
    const qmpSocket = this.qmpSocket;
    if (qmpSocket === undefined) throw new SnapshotError(`the VM directory's path is too long for a unix socket: ${this.dir}`);
    const port = await freePort();
    const args = this.qemuArgs({ initrd: '', sshPort: port, qmpSocket, incoming: incomingArg(snapshot.state) });
    const started = performance.now();
    this.qemu = new QemuProcess(args, this.consolePath, this.qemuLogPath);
    this.watch(this.qemu);
    const deadline = Date.now() + Math.min(timeout('restoreMs'), options.bootTimeoutMs ?? Infinity);
    const step = (name: string) => (this.restoreSteps[name] = Math.round(performance.now() - started));
    const qmp = await this.bootStage(Qmp.connect(qmpSocket, deadline), deadline, 'QMP did not answer');
    step('qmp');
    try {
      await this.bootStage(resumeRestored(qmp, deadline), deadline, 'the snapshot did not load');
    } finally {
      qmp.close();
    }
    step('loaded');
    const keys = { clientPrivate: snapshot.keys.clientPrivate, clientPublic: snapshot.keys.clientPublic, hostPublic: snapshot.keys.hostPublic, hostKeyFile: '' };
    this.ssh = await this.bootStage(connectSsh(port, keys, deadline, () => this.failureError), deadline, 'ssh did not connect to the restored guest');
    step('ssh');
    // One SSH channel for both: each costs a round trip through the emulated guest.
    await this.loadDriver(this.ssh, deadline, restorePciConfig);
    step('driver');
    await this.startAgent(this.ssh, deadline);
    step('agent');
    this.restored = true;
    this.bootMs = performance.now() - started;
  }

  // Saves the freshly booted guest: its edu configuration is copied inside the
  // guest (see guest-pci.ts), the SSH connection is closed so that no session
  // is saved half-open, and QEMU writes the stopped guest to the cache, then
  // lets it run on. Leaves this.ssh unset: the caller connects again.
  private async saveSnapshot(key: string, qmpSocket: string, keys: VmKeys): Promise<void> {
    // Bounded in the guest, and not counted in the save's own deadline.
    const zeroed = await this.exec(zeroFreeMemory);
    if (zeroed.code !== 0) throw new SnapshotError(`the guest could not zero its free memory (${zeroed.code}): ${zeroed.stderr}${zeroed.stdout}`);
    const deadline = Date.now() + timeout('snapshotSaveMs');
    const saved = await this.exec(savePciConfig);
    if (saved.code !== 0 || !saved.stdout.trim()) throw new SnapshotError(`the guest could not copy the device's PCI configuration (${saved.code}): ${saved.stderr}${saved.stdout}`);
    const ssh = this.ssh;
    this.ssh = undefined;
    await new Promise<void>((resolve) => {
      ssh?.once('close', () => resolve());
      ssh?.end();
    });
    const target = await newSnapshot(this.options.cache, key);
    const qmp = await Qmp.connect(qmpSocket, deadline);
    try {
      await this.raceFailure(saveGuest(qmp, target.state, deadline));
      await target.commit({ clientPrivate: keys.clientPrivate, clientPublic: keys.clientPublic, hostPublic: keys.hostPublic });
    } catch (err) {
      await target.abandon();
      throw err;
    } finally {
      qmp.close();
    }
  }

  // Loads the driver under test into a guest that booted without it: the
  // module goes where the init script would have found it (the lifecycle
  // property loads it again from there), is inserted with the guest's
  // parameters, and the outcome is logged on the console as the init script
  // logs it. A module that does not load fails the boot, not the restore: the
  // same module would fail a cold boot too. `prelude`, a shell script, runs
  // first in the same command; its failure fails the restore (SnapshotError).
  private async loadDriver(ssh: Client, deadline: number, prelude?: string): Promise<void> {
    const { companion } = this.options;
    if (companion) {
      await this.loadCompanion(ssh, deadline, companion, prelude);
      prelude = undefined;
    }
    const module = await readFile(await guestModule(this.options.driver.ko));
    const params = shellWords(this.options.driverParams ?? '');
    const command =
      (prelude === undefined ? '' : `(\n${prelude}\n) || exit ${PRELUDE_FAILED}; `) +
      `cat > ${MODULE_PATH} && { insmod ${MODULE_PATH} ${params}; rc=$?; ` +
      `if [ $rc = 0 ]; then echo 'dmafault: driver loaded' > /dev/kmsg; else echo "dmafault: driver failed $rc" > /dev/kmsg; fi; exit $rc; }`;
    const result = await this.bootStage(this.run(ssh, command, module), deadline, 'the driver was not loaded');
    if (prelude !== undefined && result.code === PRELUDE_FAILED) throw new SnapshotError(`restoring the PCI configuration failed: ${result.stderr.trim()}`);
    if (result.code !== 0) {
      this.moduleRefused = true;
      const line = `dmafault: driver failed ${result.code}`;
      throw new BootError('E_BOOT_FAILED', `the driver did not load: ${line}: ${result.stderr.trim()}`, `${this.consoleTail()}\n${line}\n${result.stderr}`);
    }
  }

  // The companion module, before the driver (see MachineOptions.companion).
  private async loadCompanion(ssh: Client, deadline: number, companion: NonNullable<MachineOptions['companion']>, prelude?: string): Promise<void> {
    const path = `/lib/dmafault/${basename(companion.ko)}`;
    const command = (prelude === undefined ? '' : `(\n${prelude}\n) || exit ${PRELUDE_FAILED}; `) + `cat > ${path} && insmod ${path} ${shellWords(companion.params)}`;
    const result = await this.bootStage(this.run(ssh, command, await readFile(await guestModule(companion.ko))), deadline, 'the companion module was not loaded');
    if (prelude !== undefined && result.code === PRELUDE_FAILED) throw new SnapshotError(`restoring the PCI configuration failed: ${result.stderr.trim()}`);
    if (result.code !== 0) {
      this.moduleRefused = true;
      throw new BootError('E_BOOT_FAILED', `the companion module ${basename(companion.ko)} did not load (${result.code}): ${result.stderr.trim()}`, this.consoleTail());
    }
  }

  // One command over its own SSH channel, with `input` on its standard input.
  private run(ssh: Client, command: string, input: Buffer): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve, reject) => {
      ssh.exec(command, (err, channel) => {
        if (err) return reject(new ConnectionLostError(`ssh exec failed: ${command}`, { cause: err }));
        let stderr = '';
        channel.on('data', () => undefined);
        channel.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        channel.on('exit', (code: number | null) => channel.on('close', () => resolve({ code: code ?? -1, stderr })));
        channel.end(input);
      });
    });
  }

  private async startAgent(ssh: Client, deadline: number): Promise<void> {
    ssh.on('close', () => void this.judge(new ConnectionLostError('the SSH connection to the guest was lost')));
    ssh.on('error', (err) => void this.judge(new ConnectionLostError('the SSH connection to the guest failed', { cause: err })));
    const channel = await this.bootStage(this.openAgent(ssh), deadline, 'the guest agent did not start');
    this.agent = new AgentClient(channel, this.options.requestTimeoutMs ?? timeout('requestMs'));
    await this.bootStage(this.call('ping'), deadline, 'the guest agent did not answer');
  }

  private openAgent(ssh: Client): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      ssh.exec(AGENT_PATH, (err, channel) => (err ? reject(new ConnectionLostError('cannot start the guest agent', { cause: err })) : resolve(channel)));
    });
  }

  // Awaits one boot step; a crash, QEMU exit or the deadline turns into a BootError.
  private async bootStage<T>(work: Promise<T>, deadline: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BootError('E_BOOT_TIMEOUT', `boot timed out: ${what}`, this.consoleTail())), Math.max(0, deadline - Date.now()));
    });
    try {
      return await Promise.race([this.raceFailure(work), expired]);
    } catch (err) {
      if (err instanceof BootError) throw err;
      throw new BootError('E_BOOT_FAILED', `boot failed: ${what}`, this.consoleTail(), { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  // A lost connection or a dead QEMU is often the echo of a crash: give the
  // console a moment, then report the root cause rather than the symptom.
  private judge(symptom: DmafaultError): Promise<void> {
    if (this.closing || this.failureError) return Promise.resolve();
    this.judging ??= new Promise((resolve) =>
      setTimeout(() => {
        this.fail(this.rootCause() ?? symptom);
        resolve();
      }, SETTLE_MS),
    );
    return this.judging;
  }

  private rootCause(): DmafaultError | undefined {
    const qemu = this.qemu;
    if (!qemu) return undefined;
    if (QEMU_HARDWARE.test(qemu.stderr)) return new QemuError('E_QEMU_HARDWARE', 'QEMU reported a hardware error', qemu.stderr.slice(-4000));
    const [crash] = qemu.console.crashesSince(0);
    if (crash) return new KernelCrashError(crash.title, crash.excerpt);
    return qemu.exit ? this.exitError(qemu) : undefined;
  }

  private exitError(qemu: QemuProcess): QemuError {
    const how = `code ${qemu.exit?.code}, signal ${qemu.exit?.signal}`;
    return new QemuError('E_QEMU_EXITED', `QEMU exited (${how})`, `${qemu.stderr.slice(-4000)}\n--- console ---\n${qemu.console.tail()}`);
  }

  private watch(qemu: QemuProcess): void {
    const offLine = qemu.console.onLine((line) => {
      if (matchCrash(line)) void this.judge(new KernelCrashError(line, qemu.console.tail()));
    });
    const checkStderr = setInterval(() => {
      if (QEMU_HARDWARE.test(qemu.stderr)) void this.judge(new QemuError('E_QEMU_HARDWARE', 'QEMU reported a hardware error', qemu.stderr.slice(-4000)));
    }, 100);
    this.stopWatch = () => {
      offLine();
      clearInterval(checkStderr);
    };
    void qemu.exited.then(() => {
      clearInterval(checkStderr);
      void this.judge(this.exitError(qemu));
    });
  }
}
