// A booted guest: QEMU, its console, an SSH connection and the agent channel.
// Boot waits for the guest to answer while buffering the console; every way the
// guest can fail (crash on the console, QEMU hardware error or exit, lost
// connection, unanswered request) rejects pending and future calls with a
// distinct error carrying its log excerpt. close() is safe on a half-built machine.
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client, ClientChannel } from 'ssh2';
import { AgentClient, type Reply } from './agent-client.js';
import type { DriverBuild } from './build/driver.js';
import { BootError, ConnectionLostError, type DmafaultError, KernelCrashError, QemuError, RequestTimeoutError } from './errors.js';
import { buildInitrd } from './image/overlay.js';
import { matchCrash } from './console/crash-table.js';
import { DRIVER_MARKER, READY_MARKER } from './image/init-script.js';
import type { GuestKernel } from './kernel/guest-kernel.js';
import { type Accel, qemuArgs } from './qemu/args.js';
import { freePort } from './qemu/free-port.js';
import type { Profile } from './qemu/profiles.js';
import { QemuProcess } from './qemu/qemu-process.js';
import { connectSsh } from './ssh/connect.js';
import { makeKeys } from './ssh/keys.js';
import { timeout } from './timeouts.js';
import type { Trace } from './trace.js';

export interface MachineOptions {
  readonly kernel: GuestKernel;
  readonly baseImage: string;
  readonly driver: DriverBuild;
  readonly profile: Profile;
  readonly accel: Accel;
  readonly cache: string;
  readonly driverParams?: string;
  // Keep the VM directory (console and QEMU logs) after a clean close.
  readonly keepLogs?: boolean;
  readonly extraKernelArgs?: readonly string[];
  readonly extraQemuArgs?: readonly string[];
  // vCPUs (default 1; see qemu/args.ts for what more than one costs).
  readonly cpus?: number;
  // Overrides of the scaled defaults in timeouts.ts.
  readonly bootTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

const AGENT_PATH = '/sbin/dmafault-agent';
const QEMU_HARDWARE = /qemu: hardware error|qemu-system-x86_64: .*(abort|Assertion)/;
// How long the console may take to deliver the rest of a crash report.
const SETTLE_MS = 500;

// VM directories kept for their logs (failures, --keep-logs): only the newest stay,
// and only their logs.
const KEPT_VMS = 30;
const KEPT_FILES = new Set(['console.log', 'qemu.log']);

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

  private constructor(
    readonly dir: string,
    readonly options: MachineOptions,
  ) {}

  static async boot(options: MachineOptions): Promise<Machine> {
    const root = join(options.cache, 'vms');
    await mkdir(root, { recursive: true });
    await pruneKeptLogs(root);
    const machine = new Machine(await mkdtemp(join(root, `${options.profile.name}-`)), options);
    try {
      await machine.start();
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
    const result = await this.raceFailure(run);
    if (event) this.trace?.executed(event, result);
    return result;
  }

  // Writes `data` to `path` in the guest (mode 0755), through SSH.
  async upload(path: string, data: Buffer): Promise<void> {
    const ssh = this.ssh;
    if (!ssh) throw new ConnectionLostError('the machine has no SSH connection');
    const done = new Promise<void>((resolve, reject) => {
      ssh.exec(`cat > '${path}' && chmod 755 '${path}'`, (err, channel) => {
        if (err) return reject(new ConnectionLostError(`ssh exec failed: upload to ${path}`, { cause: err }));
        let stderr = '';
        channel.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        channel.on('exit', (code: number | null) => (code === 0 ? resolve() : reject(new Error(`upload to ${path} failed (${code}): ${stderr}`))));
        channel.end(data);
      });
    });
    return this.raceFailure(done);
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

  private async start(): Promise<void> {
    const { options } = this;
    const keys = await makeKeys(this.dir);
    const initrd = await buildInitrd(this.dir, options.baseImage, {
      hostKey: keys.hostKeyFile,
      authorizedKey: keys.clientPublic,
      driverKo: options.driver.ko,
      driverParams: options.driverParams ?? '',
    });
    const port = await freePort();
    const args = qemuArgs({ profile: options.profile, accel: options.accel, kernelImage: options.kernel.image, initrd, sshPort: port, extraKernelArgs: options.extraKernelArgs, extraQemuArgs: options.extraQemuArgs, cpus: options.cpus });
    const started = performance.now();
    this.qemu = new QemuProcess(args, this.consolePath, this.qemuLogPath);
    this.watch(this.qemu);

    const deadline = Date.now() + (options.bootTimeoutMs ?? timeout('bootMs'));
    await this.bootStage(this.qemu.console.waitFor(new RegExp(READY_MARKER)), deadline, 'the guest did not reach its ready marker');
    const driverLine = await this.qemu.console.waitFor(DRIVER_MARKER);
    if (!/loaded/.test(driverLine)) {
      throw new BootError('E_BOOT_FAILED', `the driver did not load: ${driverLine}`, this.consoleTail());
    }
    this.ssh = await this.bootStage(connectSsh(port, keys, deadline, () => this.failureError), deadline, 'ssh did not connect');
    this.ssh.on('close', () => void this.judge(new ConnectionLostError('the SSH connection to the guest was lost')));
    this.ssh.on('error', (err) => void this.judge(new ConnectionLostError('the SSH connection to the guest failed', { cause: err })));
    const channel = await this.bootStage(this.openAgent(this.ssh), deadline, 'the guest agent did not start');
    this.agent = new AgentClient(channel, options.requestTimeoutMs ?? timeout('requestMs'));
    await this.bootStage(this.call('ping'), deadline, 'the guest agent did not answer');
    this.bootMs = performance.now() - started;
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
