// One running QEMU: its console stream, its stderr log, and how it ended.
import { createWriteStream } from 'node:fs';
import { execa, type ResultPromise } from 'execa';
import { ConsoleLog } from '../console/console-log.js';
import { track } from './live-processes.js';

export interface QemuExit {
  readonly code: number | null;
  readonly signal: string | null;
}

export class QemuProcess {
  readonly console: ConsoleLog;
  readonly exited: Promise<QemuExit>;
  private stderrText = '';
  // Set once QEMU has exited.
  exit: QemuExit | undefined;
  private readonly child: ResultPromise;

  constructor(args: string[], consolePath: string, stderrPath: string) {
    this.console = new ConsoleLog(consolePath);
    // setpriv --pdeathsig: the kernel kills QEMU if this process dies without cleaning up.
    this.child = execa('setpriv', ['--pdeathsig', 'SIGKILL', '--', 'qemu-system-x86_64', ...args], {
      reject: false,
      stdin: 'ignore',
      buffer: false,
      cleanup: true,
    });
    track(this.child);
    const errLog = createWriteStream(stderrPath);
    this.child.stdout?.on('data', (chunk: Buffer) => this.console.push(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrText += chunk.toString();
      errLog.write(chunk);
    });
    this.exited = this.child.then((result) => {
      errLog.end();
      this.exit = { code: result.exitCode ?? null, signal: result.signal ?? null };
      return this.exit;
    });
  }

  get stderr(): string {
    return this.stderrText;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  // Kills QEMU and waits for it to be gone.
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
    await this.console.close();
  }
}
