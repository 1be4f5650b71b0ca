// A record of what a test did in the guest, in the order the guest did it:
// every agent request with its reply, every shell command with its status,
// and what the test expected of each result. Standalone reproducers are
// generated from it (reproduce/script/).
import type { Reply } from './agent-client.js';

// What a step had to return: exactly ret (and errno when ret is -1), or success.
export type Expectation = { readonly ret: number; readonly errno: number } | 'ok';

export interface CallEvent {
  readonly kind: 'call';
  readonly op: string;
  readonly args: readonly string[];
  reply?: Reply;
  expect?: Expectation;
}

export interface ExecEvent {
  readonly kind: 'exec';
  readonly command: string;
  code?: number;
}

export type TraceEvent = CallEvent | ExecEvent;

export class Trace {
  readonly events: TraceEvent[] = [];
  private readonly byReply = new WeakMap<Reply, CallEvent>();

  // Called synchronously when the request is sent, so events keep the guest's order.
  call(op: string, args: readonly (string | number | bigint)[]): CallEvent {
    const event: CallEvent = { kind: 'call', op, args: args.map(String) };
    this.events.push(event);
    return event;
  }

  answered(event: CallEvent, reply: Reply): void {
    event.reply = reply;
    this.byReply.set(reply, event);
  }

  exec(command: string): ExecEvent {
    const event: ExecEvent = { kind: 'exec', command };
    this.events.push(event);
    return event;
  }

  // Notes what the test required of the request that produced `reply`.
  expect(reply: Reply, expectation: Expectation): void {
    const event = this.byReply.get(reply);
    if (event) event.expect = expectation;
  }
}
