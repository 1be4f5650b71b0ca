// A QEMU Machine Protocol client: one unix socket, one command at a time.
// QMP speaks JSON lines: a greeting, then a reply ({"return": ...} or
// {"error": ...}) per command, with asynchronous {"event": ...} lines between.
import { connect, type Socket } from 'node:net';
import { SnapshotError } from '../errors.js';

interface Pending {
  readonly command: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

export class Qmp {
  private buffer = '';
  private pending: Pending | undefined;
  private closed: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => this.fail(new SnapshotError('the QMP connection closed')));
    socket.on('error', (err) => this.fail(new SnapshotError(`the QMP connection failed: ${err.message}`)));
  }

  // Connects to `path` (retrying while QEMU creates the socket, until
  // `deadline`) and leaves capability negotiation mode.
  static async connect(path: string, deadline: number): Promise<Qmp> {
    for (;;) {
      const socket = await new Promise<Socket | Error>((resolve) => {
        const s = connect(path);
        s.once('connect', () => resolve(s));
        s.once('error', (err) => resolve(err));
      });
      if (!(socket instanceof Error)) {
        const qmp = new Qmp(socket);
        await qmp.next('greeting');
        await qmp.execute('qmp_capabilities');
        return qmp;
      }
      if (Date.now() > deadline) throw new SnapshotError(`cannot connect to QMP at ${path}: ${socket.message}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // Runs one command and returns its "return" value; a QMP error rejects.
  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = this.next(command);
    this.socket.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) })}\n`);
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }

  private next(command: string): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    if (this.pending) return Promise.reject(new Error(`QMP: ${command} sent while ${this.pending.command} is pending`));
    return new Promise((resolve, reject) => (this.pending = { command, resolve, reject }));
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onMessage(line);
    }
  }

  private onMessage(line: string): void {
    let message: { QMP?: unknown; return?: unknown; error?: { class?: string; desc?: string }; event?: string };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      return this.fail(new SnapshotError(`QMP sent a line that is not JSON: ${line.slice(0, 200)}`));
    }
    if (message.event !== undefined) return;
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    if (message.error) pending.reject(new SnapshotError(`QMP ${pending.command} failed: ${message.error.class ?? ''} ${message.error.desc ?? ''}`.trim()));
    else pending.resolve(message.QMP !== undefined ? message.QMP : message.return);
  }

  private fail(err: Error): void {
    this.closed ??= err;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }
}
