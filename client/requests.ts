/**
 * The table of requests awaiting replies: queueing until login, frame ids,
 * timeouts, and what happens to a request when its socket drops.
 * Browser-safe: no Node APIs.
 *
 * Request rules:
 * - A request made while connecting or waiting to reconnect is queued and
 *   written after the next login.
 * - A message send (see `MESSAGE_SEND_METHODS`) stays unacknowledged until its
 *   reply or its timeout: when the socket drops it is re-sent after the next
 *   login with the same `idClient` (and `resend: true`); the server returns
 *   the stored message instead of storing a duplicate.
 * - Any other request written to a socket that drops rejects with
 *   UNAVAILABLE: the SDK cannot know whether it took effect; callers may retry.
 * - Every request rejects with TIMEOUT `requestTimeoutMs` after the call,
 *   across reconnects. A timed-out send leaves the unacknowledged list too;
 *   its `SendError` carries the arguments with the `idClient`, so the app can
 *   send again with `resend: true`, as with the reference SDK.
 */
import { ParleyError } from '../engine/protocol/errors.ts';
import { MESSAGE_SEND_METHODS, randomIdClient } from '../engine/protocol/methods.ts';
import type { TransportState } from './transport.ts';

/** A failed message send: `args` are the arguments as sent, `idClient` filled in, ready for `resend: true`. */
export class SendError extends ParleyError {
  readonly args: Record<string, unknown>;
  readonly idClient: string;

  constructor(err: ParleyError, args: Record<string, unknown>) {
    super(err.name, err.message, { cause: err.cause });
    this.args = args;
    this.idClient = String(args.idClient);
  }
}

/** What the table needs from the socket it writes on. */
export interface RequestWire {
  /** A fresh frame id, or undefined while no socket is open (the request then waits in the queue). */
  nextId(): number | undefined;
  /** Writes one frame on the open socket. */
  send(frame: Record<string, unknown>): void;
}

interface Pending {
  readonly m: string;
  readonly a: Record<string, unknown> | undefined;
  readonly isSend: boolean;
  readonly resolve: (r: unknown) => void;
  readonly reject: (err: ParleyError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Frame id on the current socket; undefined while queued. */
  wireId: number | undefined;
  /** How many times the request was written. */
  writes: number;
}

export class RequestTable {
  private readonly inflight = new Map<number, Pending>();
  private queue: Pending[] = [];
  private readonly wire: RequestWire;
  private readonly timeoutMs: number;
  private readonly onStored: (msg: unknown) => void;
  private readonly onRecalled: ((notice: unknown) => void) | undefined;

  /**
   * `timeoutMs`: how long a request may wait for its reply, from the call;
   * `onStored`: called with the message a send's reply returns;
   * `onRecalled`: with the notice a recall's reply returns (the recalling
   * socket hears no `sysmsg` of its own recall).
   */
  constructor(wire: RequestWire, timeoutMs: number, onStored: (msg: unknown) => void, onRecalled?: (notice: unknown) => void) {
    this.wire = wire;
    this.timeoutMs = timeoutMs;
    this.onStored = onStored;
    this.onRecalled = onRecalled;
  }

  /** Writes the request now (`ready`), queues it (connecting, reconnecting) or rejects it (`idle`, `closed`). */
  request(m: string, a: Record<string, unknown> | undefined, state: TransportState): Promise<unknown> {
    const isSend = MESSAGE_SEND_METHODS.has(m);
    const args = isSend ? { ...a, idClient: typeof a?.idClient === 'string' && a.idClient !== '' ? a.idClient : randomIdClient() } : a;
    if (state === 'idle' || state === 'closed') {
      return Promise.reject(failure(isSend, args, new ParleyError('UNAVAILABLE', `not connected: call connect() before \`${m}\``)));
    }
    return new Promise<unknown>((resolve, reject) => {
      const p: Pending = { m, a: args, isSend, resolve, reject, timer: undefined, wireId: undefined, writes: 0 };
      p.timer = setTimeout(() => {
        this.forget(p);
        reject(failure(isSend, args, new ParleyError('TIMEOUT', `no reply to \`${m}\` within ${this.timeoutMs} ms`)));
      }, this.timeoutMs);
      if (state === 'ready') this.write(p);
      else this.queue.push(p);
    });
  }

  /** After a login: writes every queued request, re-sends first. */
  flush(): void {
    const queued = this.queue;
    this.queue = [];
    for (const p of queued) this.write(p);
  }

  /** Settles the request a reply frame answers; a reply to a request that already timed out is ignored. */
  onReply(id: number, frame: Record<string, unknown>): void {
    const p = this.inflight.get(id);
    if (p === undefined) return;
    this.inflight.delete(id);
    if (frame.e !== undefined && frame.e !== null) {
      this.settle(p, ParleyError.fromWire(frame.e));
      return;
    }
    if (p.isSend) this.onStored(frame.r);
    else if (p.m === 'recallMsg' || p.m === 'deleteMsg') this.onRecalled?.(frame.r);
    this.settle(p, undefined, frame.r);
  }

  /**
   * The socket dropped: with `resendSends`, unacknowledged message sends go
   * back to the head of the queue; every other request in flight rejects
   * with UNAVAILABLE, `why` saying what happened.
   */
  onSocketDropped(resendSends: boolean, why: string): void {
    const resend: Pending[] = [];
    for (const p of this.inflight.values()) {
      p.wireId = undefined;
      if (p.isSend && resendSends) resend.push(p);
      else this.settle(p, new ParleyError('UNAVAILABLE', `\`${p.m}\` was in flight when ${why}; it may or may not have taken effect`));
    }
    this.inflight.clear();
    this.queue = [...resend, ...this.queue];
  }

  /** Rejects every request, in flight or queued, with `err`. */
  rejectAll(err: ParleyError): void {
    const all = [...this.inflight.values(), ...this.queue];
    this.inflight.clear();
    this.queue = [];
    for (const p of all) this.settle(p, err);
  }

  private write(p: Pending): void {
    const id = this.wire.nextId();
    if (id === undefined) {
      this.queue.push(p);
      return;
    }
    p.wireId = id;
    p.writes += 1;
    this.inflight.set(id, p);
    const a = p.isSend && p.writes > 1 ? { ...p.a, resend: true } : p.a;
    this.wire.send(a === undefined ? { id, m: p.m } : { id, m: p.m, a });
  }

  /** Resolves or rejects a request and clears its timer. */
  private settle(p: Pending, err: ParleyError | undefined, r?: unknown): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    if (err === undefined) p.resolve(r);
    else p.reject(failure(p.isSend, p.a, err));
  }

  /** Drops a timed-out request from wherever it waits. */
  private forget(p: Pending): void {
    if (p.wireId !== undefined) this.inflight.delete(p.wireId);
    const i = this.queue.indexOf(p);
    if (i >= 0) this.queue.splice(i, 1);
  }
}

/** A send's failure carries its arguments (`SendError`); other requests fail with the error itself. */
function failure(isSend: boolean, args: Record<string, unknown> | undefined, err: ParleyError): ParleyError {
  return isSend && args !== undefined ? new SendError(err, args) : err;
}
