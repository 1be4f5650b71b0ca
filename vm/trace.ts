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
  // Whether the test required the command to succeed (exit 0) or to fail.
  expectSuccess?: boolean;
}

export type TraceEvent = CallEvent | ExecEvent;

export class Trace {
  readonly events: TraceEvent[] = [];
  private readonly byReply = new WeakMap<Reply, CallEvent>();
  private readonly byResult = new WeakMap<object, ExecEvent>();

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

  executed(event: ExecEvent, result: { readonly code: number }): void {
    event.code = result.code;
    this.byResult.set(result, event);
  }

  // Notes whether the test required the command that gave `result` to succeed.
  expectExit(result: object, success: boolean): void {
    const event = this.byResult.get(result);
    if (event) event.expectSuccess = success;
  }

  // Notes what the test required of the request that produced `reply`.
  expect(reply: Reply, expectation: Expectation): void {
    const event = this.byReply.get(reply);
    if (event) event.expect = expectation;
  }
}
