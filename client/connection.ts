/**
 * The SDK's engine room, wiring its parts: the socket and its reconnection
 * (transport.ts), the requests awaiting replies (requests.ts, which states
 * the queueing, resending and timeout rules), the server events
 * (inbound-events.ts) and the ordering of live messages (ordering.ts).
 * `ParleyClient` (client.ts) is the typed face over it.
 * Browser-safe: no Node APIs.
 */
import { ParleyError } from '../engine/protocol/errors.ts';
import type { Events, Results } from '../engine/protocol/methods.ts';
import { MESSAGE_SEND_METHODS } from '../engine/protocol/methods.ts';
import { Emitter } from './events.ts';
import type { LifecycleEvents } from './events.ts';
import { handleEvent } from './inbound-events.ts';
import type { InboundContext } from './inbound-events.ts';
import type { ParsedOptions } from './options.ts';
import { MessageOrdering } from './ordering.ts';
import { RequestTable } from './requests.ts';
import { deferred, isRecord } from './shared.ts';
import { SyncState } from './sync-state.ts';
import { Transport } from './transport.ts';
import type { TransportState } from './transport.ts';

/** Methods that store a message: they get an `idClient`, are re-sent after a reconnect and resolve with the stored message. */
export { MESSAGE_SEND_METHODS };
export { GAP_FILL_LIMIT } from './ordering.ts';
export { SendError } from './requests.ts';

/** The transport's state (see `TransportState`), or `destroyed`: `destroy()` was called; the client cannot be used again. */
export type ClientState = TransportState | 'destroyed';

export class Connection {
  readonly emitter = new Emitter();
  readonly sync: SyncState;
  private readonly transport: Transport;
  private readonly requests: RequestTable;
  private readonly inbound: InboundContext;

  private destroyed = false;
  private destroying: Promise<void> | undefined;
  private syncDone = deferred<Events['syncdone']>();

  constructor(opts: ParsedOptions) {
    this.sync = new SyncState(opts.dedupWindow, opts.cursors);
    this.transport = new Transport(opts, {
      loginCursors: () => {
        // Sent with a login: what arrives until its `syncdone` may belong to the sync.
        this.inbound.ordering.holdSessionMessages();
        return this.sync.loginCursors();
      },
      onReady: () => this.onReady(),
      onEvent: (ev, d) => handleEvent(ev, d, this.inbound),
      onReply: (id, frame) => this.requests.onReply(id, frame),
      onDropped: (reconnecting, why) => this.requests.onSocketDropped(reconnecting, why),
      failPending: (err) => this.requests.rejectAll(err),
      emit: (event, data) => this.emit(event, data),
    });
    this.requests = new RequestTable(
      this.transport,
      opts.requestTimeoutMs,
      (msg) => this.sync.noteMessage(msg),
      (notice) => this.sync.noteOwnRecall(notice),
    );
    const ordering = new MessageOrdering(this.sync, {
      fetchHistory: (a) => this.request('getHistoryMsgs', a),
      emit: (event, data) => this.emit(event, data),
    });
    this.inbound = {
      sync: this.sync,
      ordering,
      transport: this.transport,
      resolveSynced: (d) => {
        if (!this.syncDone.settled) this.syncDone.resolve(d);
      },
      emit: (event: string, data: unknown) => this.emit(event, data),
    };
    for (const [event, fn] of Object.entries(opts.on)) if (fn !== undefined) this.emitter.on(event, fn);
  }

  get clientState(): ClientState {
    return this.destroyed ? 'destroyed' : this.transport.state;
  }

  /** The login reply of the current (or last) session. */
  get session(): Results['login'] | undefined {
    return this.transport.session;
  }

  get url(): string | undefined {
    return this.transport.url;
  }

  /** Resolves with the `syncdone` payload of the first sync after the latest login. */
  get synced(): Promise<Events['syncdone']> {
    return this.syncDone.promise;
  }

  /** Opens a socket and logs in; resolves after the login reply. Retries `connectAttempts` times in all. */
  connect(): Promise<void> {
    if (this.destroyed) return Promise.reject(new ParleyError('UNAVAILABLE', 'the client was destroyed'));
    const state = this.transport.state;
    if ((state === 'idle' || state === 'closed') && this.syncDone.settled) this.syncDone = deferred();
    return this.transport.connect();
  }

  /** Sends one request; see requests.ts for queueing, resending and timeouts. */
  request(m: string, a: Record<string, unknown> | undefined): Promise<unknown> {
    if (this.destroyed) return Promise.reject(new ParleyError('UNAVAILABLE', 'the client was destroyed'));
    if (m === 'login') return Promise.reject(new ParleyError('BAD_REQUEST', '`login` is sent by the SDK itself; use connect()'));
    if (a !== undefined && !isRecord(a)) return Promise.reject(new ParleyError('BAD_REQUEST', `the arguments of \`${m}\` must be an object`));
    return this.requests.request(m, a, this.transport.state);
  }

  /** Closes the socket, cancels retries and rejects what is pending; resolves once the socket is closed. */
  disconnect(reason = 'disconnect() called'): Promise<void> {
    const err = new ParleyError('UNAVAILABLE', `the client disconnected: ${reason}`);
    const closeSocket = this.transport.stop(err);
    this.requests.rejectAll(err);
    if (!this.syncDone.settled) this.syncDone.reject(err);
    return closeSocket(reason);
  }

  /** `disconnect()`, then no further use: requests and `connect()` reject, listeners are dropped. */
  destroy(): Promise<void> {
    if (this.destroying === undefined) {
      const closing = this.disconnect('destroy() called');
      this.destroyed = true;
      this.destroying = closing.then(() => this.emitter.clear());
    }
    return this.destroying;
  }

  /** Logged in: a new `synced` promise if the last one settled, then the queued requests go out. */
  private onReady(): void {
    if (this.syncDone.settled) this.syncDone = deferred();
    this.requests.flush();
  }

  private emit<K extends keyof LifecycleEvents>(event: K, data: LifecycleEvents[K]): void;
  private emit(event: string, data: unknown): void;
  private emit(event: string, data: unknown): void {
    this.emitter.emit(event, data);
  }
}
