/**
 * Frames on a client socket: decoding and checking a request frame, and
 * every write — encoded frames, an actor's already encoded result, close
 * frames — with the edge's one byte accounting per socket (`unsentBytes`),
 * held to `maxBackpressureBytes`, and the backlog sweep that closes a socket
 * which drains nothing for `drainTimeoutMs` as a slow consumer.
 *
 * Writes are corked (they may come from outside a uWS callback) and never
 * touch a socket after its close handler ran.
 */
import type { Metrics } from '../engine/metrics.ts';
import type { Config } from '../engine/config.ts';
import { FrameError, decodeRequest, encode, encodeMapOfRaw } from '../engine/protocol/codec.ts';
import { ParleyError } from '../engine/protocol/errors.ts';
import { describeValue, echo } from '../engine/protocol/schema.ts';
import { logger } from '../engine/logger.ts';
import type { Conn } from './connection.ts';
import { badRequest, internalError, isPlainObject, isUint } from './wire.ts';
import { correlationId } from '../engine/correlation.ts';

/** WebSocket close codes the edge sends. */
export const CLOSE_CODES = {
  /** The edge is shutting down. */
  shutdown: 1001,
  /** A second malformed frame in a row. */
  malformed: 1007,
  /** The login sync failed; reconnect. */
  syncFailed: 1011,
  /** Login failed: bad, expired or missing token. */
  unauthorized: 4001,
  /** No login within `loginTimeoutMs`. */
  loginTimeout: 4002,
  /** Kicked by another device of the account or by the admin API (after a `kicked` event). */
  kicked: 4003,
} as const;

/** A request frame that passed the envelope checks: `a` is a map, null or absent. */
export interface RequestFrame {
  id: number;
  m: string;
  a: unknown;
}

/** Reads and writes the frames of the edge's sockets. */
export class Frames {
  private readonly config: Config;
  /** Most unsent bytes seen on one socket since start (see `unsentBytes`). */
  private peak = 0;
  /** Sockets left with bytes in uWS's buffer by the edge's writes: watched for drain progress. */
  private readonly backlogged = new Set<Conn>();
  private backlogSweeper: ReturnType<typeof setInterval> | undefined = undefined;

  /** Counts slow consumers closed, when metrics are on. */
  private readonly metrics: Metrics | undefined;

  constructor(config: Config, metrics?: Metrics) {
    this.config = config;
    this.metrics = metrics;
  }

  /** Most unsent bytes one socket reached since start. */
  get peakUnsent(): number {
    return this.peak;
  }

  // ---- reading ---------------------------------------------------------------------------

  /**
   * Decodes one frame into a request; answers a malformed one (a second in a
   * row closes the socket with 1007) or a request of the wrong shape, and
   * returns undefined for those.
   */
  read(conn: Conn, message: ArrayBuffer, isBinary: boolean): RequestFrame | undefined {
    if (conn.closed) return undefined;
    if (!isBinary) {
      this.onMalformed(conn, 0, 'frames must be binary MessagePack, got a text frame');
      return undefined;
    }
    // uWS neuters `message` when the handler returns; decoded binaries may be views of it.
    const bytes = new Uint8Array(message.slice(0));
    let value: unknown;
    try {
      // Strict: no extension types, so nothing but plain values reaches the schemas.
      value = decodeRequest(bytes);
    } catch (err) {
      // A frame the strict decoder refuses carries the `id` it could read; anything else thrown is still the client's bytes.
      if (err instanceof FrameError) this.onMalformed(conn, err.requestId, err.message);
      else this.onMalformed(conn, 0, 'the frame is not exactly one standard MessagePack value');
      return undefined;
    }
    conn.malformed = 0;
    if (!isPlainObject(value)) {
      this.sendFailure(conn, 0, badRequest(`a request must be a map {id, m, a?}, got ${describeValue(value)}`));
      return undefined;
    }
    const { id, m, a } = value;
    if (!isUint(id)) {
      this.sendFailure(conn, 0, badRequest(`\`id\` must be an unsigned integer, got ${describeValue(id)}`));
      return undefined;
    }
    if (typeof m !== 'string' || m === '') {
      this.sendFailure(conn, id, badRequest(`\`m\` must be a method name, got ${describeValue(m)}`));
      return undefined;
    }
    if (a !== undefined && a !== null && !isPlainObject(a)) {
      this.sendFailure(conn, id, badRequest(`\`a\` must be a map of arguments for ${echo(m)}, got ${describeValue(a)}`));
      return undefined;
    }
    // The decoded map itself: its three fields are checked above.
    return value as unknown as RequestFrame;
  }

  private onMalformed(conn: Conn, id: number, message: string): void {
    conn.malformed++;
    const frame = { id, e: badRequest(message).toWire() };
    if (conn.malformed >= 2) this.closeWith(conn, CLOSE_CODES.malformed, 'malformed frames', frame);
    else this.send(conn, frame);
  }

  // ---- writing ---------------------------------------------------------------------------

  /** Encodes and sends one frame, corked; a no-op once the socket closed. */
  send(conn: Conn, frame: unknown): void {
    if (conn.closed || conn.ws === undefined) return;
    let bytes: Uint8Array;
    try {
      bytes = encode(frame);
    } catch (err) {
      const id = isPlainObject(frame) && isUint(frame.id) ? frame.id : 0;
      const e = internalError(err, { step: 'encode reply', conn: conn.ref }, correlationId(conn.ref, id));
      bytes = encode({ id, e });
    }
    this.sendBytes(conn, bytes);
  }

  /** Sends already encoded bytes, corked; a no-op once the socket closed. */
  sendBytes(conn: Conn, bytes: Uint8Array): void {
    const ws = conn.ws;
    if (conn.closed || ws === undefined) return;
    try {
      ws.cork(() => {
        ws.send(bytes, true);
      });
    } catch (err) {
      logger.debug('send on a closing socket', { conn: conn.ref, err });
    }
    this.checkBound(conn);
  }

  /**
   * Sends `first`, then each of `then` while the socket stays open, in one
   * cork (the login reply and the deliveries held during the login). The
   * socket must be open; a failing write throws to the caller.
   */
  sendInOrder(conn: Conn, first: Uint8Array, then: readonly Uint8Array[]): void {
    const ws = conn.ws!;
    ws.cork(() => {
      ws.send(first, true);
      for (const f of then) {
        if (conn.closed) break;
        ws.send(f, true);
      }
    });
    this.checkBound(conn);
  }

  /** Sends `{id, r}` around the actor's already encoded `r`, without decoding it. */
  sendResult(conn: Conn, id: number, r: Uint8Array | undefined): void {
    if (conn.closed || conn.ws === undefined) return;
    if (r === undefined) this.send(conn, { id });
    else this.sendBytes(conn, encodeMapOfRaw([['id', encode(id)], ['r', r]]));
  }

  /** Answers request `id` with `err`: a ParleyError as it is, anything else as a logged INTERNAL. */
  sendFailure(conn: Conn, id: number, err: unknown, context?: Record<string, unknown>): void {
    const e = err instanceof ParleyError ? err.toWire() : internalError(err, { conn: conn.ref, ...context }, correlationId(conn.ref, id));
    this.send(conn, { id, e });
  }

  /** Sends `frame` (if any), then a close frame with `code`; the frame goes out first. */
  closeWith(conn: Conn, code: number, reason: string, frame?: unknown): void {
    const ws = conn.ws;
    if (conn.closed || ws === undefined) return;
    try {
      const bytes = frame === undefined ? undefined : encode(frame);
      ws.cork(() => {
        if (bytes !== undefined) ws.send(bytes, true);
        if (!conn.closed) ws.end(code, reason);
      });
    } catch (err) {
      logger.debug('close on a closing socket', { conn: conn.ref, err });
    }
  }

  // ---- backpressure ----------------------------------------------------------------------

  /**
   * The socket's unsent bytes: what uWS holds for it, deliveries held while
   * it logs in, and login-sync pages asked for but not yet written. One
   * number for everything the edge writes, held to `maxBackpressureBytes`.
   */
  unsentBytes(conn: Conn): number {
    let buffered = 0;
    const ws = conn.ws;
    if (!conn.closed && ws !== undefined) {
      try {
        buffered = ws.getBufferedAmount();
      } catch {
        // closing
      }
    }
    const unsent = buffered + conn.pendingBytes + conn.reservedBytes;
    if (unsent > this.peak) this.peak = unsent;
    return unsent;
  }

  /** Closes a socket over the backpressure bound at once, as uWS does for its own writes (clients see 1006). */
  closeSlowConsumer(conn: Conn, why: string): void {
    if (conn.closed) return;
    if (this.metrics !== undefined) this.metrics.slowConsumers++;
    logger.info('slow consumer closed', { conn: conn.ref, account: conn.account, why, bound: this.config.maxBackpressureBytes });
    try {
      conn.ws?.close();
    } catch {
      // already closed
    }
  }

  /** After a write: a socket past the bound is closed, whatever wrote to it; one left with a backlog is watched. */
  private checkBound(conn: Conn): void {
    if (conn.closed) return;
    const unsent = this.unsentBytes(conn);
    if (unsent > this.config.maxBackpressureBytes) this.closeSlowConsumer(conn, 'write over the bound');
    else if (unsent > conn.reservedBytes + conn.pendingBytes && !this.backlogged.has(conn)) {
      conn.stalledSweeps = 0;
      this.backlogged.add(conn);
    }
  }

  /** uWS drained some of the socket's buffer. */
  onDrain(conn: Conn): void {
    // Every drain is progress: the socket is not stalled, and waiting writers re-check their room.
    conn.stalledSweeps = 0;
    this.wakeWriters(conn);
  }

  /** The socket closed: it is no longer watched, and writers waiting for its room wake up to see it closed. */
  onClose(conn: Conn): void {
    this.backlogged.delete(conn);
    this.wakeWriters(conn);
  }

  /** Wakes the login-sync writers waiting for room on the socket. */
  wakeWriters(conn: Conn): void {
    if (conn.drainWaiters.length === 0) return;
    const waiters = conn.drainWaiters;
    conn.drainWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Starts the backlog sweep: every half `drainTimeoutMs`, never more often than every 5 ms. */
  startSweeping(): void {
    const sweepMs = Math.max(5, Math.floor(this.config.drainTimeoutMs / 2));
    this.backlogSweeper = setInterval(() => this.sweepBacklog(), sweepMs);
    this.backlogSweeper.unref();
  }

  /** Stops the backlog sweep and forgets the watched sockets. */
  stopSweeping(): void {
    if (this.backlogSweeper !== undefined) clearInterval(this.backlogSweeper);
    this.backlogSweeper = undefined;
    this.backlogged.clear();
  }

  /**
   * A socket the edge left bytes for that drains nothing for
   * `drainTimeoutMs` (two sweeps in a row) is closed as a slow consumer: a
   * client that does not read is not held open on its buffer, whether or
   * not the bound was reached.
   */
  private sweepBacklog(): void {
    for (const conn of this.backlogged) {
      const ws = conn.ws;
      let buffered = 0;
      if (!conn.closed && ws !== undefined) {
        try {
          buffered = ws.getBufferedAmount();
        } catch {
          // closing
        }
      }
      if (buffered === 0) {
        conn.stalledSweeps = 0;
        this.backlogged.delete(conn);
      } else if (++conn.stalledSweeps >= 2) {
        this.backlogged.delete(conn);
        this.closeSlowConsumer(conn, `drained nothing for ${this.config.drainTimeoutMs} ms`);
      }
    }
  }
}
