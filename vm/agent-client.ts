// Talks to the guest agent over one SSH channel: one text line per request and
// per reply (protocol: vm/agent/PROTOCOL.md). Requests may be pipelined.
import type { Duplex } from 'node:stream';
import { ConnectionLostError, RequestTimeoutError } from './errors.js';

export interface Reply {
  readonly ret: number;
  readonly errno: number;
  readonly payload: string;
}

interface Pending {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly request: string;
}

type Token = string | number | bigint;

export class AgentClient {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, Pending>();
  private closedWith: Error | undefined;

  constructor(
    private readonly channel: Duplex,
    private readonly requestTimeoutMs: number,
  ) {
    channel.on('data', (chunk: Buffer) => this.onData(chunk.toString()));
    channel.on('close', () => this.failAll(new ConnectionLostError('the guest agent channel closed')));
    channel.on('error', (err: Error) => this.failAll(new ConnectionLostError('the guest agent channel failed', { cause: err })));
  }

  call(op: string, ...args: Token[]): Promise<Reply> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const request = [id, op, ...args].join(' ');
    if (/[\n]/.test(request)) return Promise.reject(new TypeError(`agent request contains a newline: ${request}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeoutError(`guest agent did not answer "${op}" within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer, request });
      this.channel.write(`${request}\n`);
    });
  }

  // Fails every pending and future call with `err` (used when the VM dies).
  failAll(err: Error): void {
    this.closedWith ??= err;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  private onData(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const [id, ret, errno, payload = ''] = line.split(' ');
    const p = this.pending.get(Number(id));
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(Number(id));
    p.resolve({ ret: Number(ret), errno: Number(errno), payload });
  }
}
