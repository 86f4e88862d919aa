/**
 * Frames on a client socket: decoding and checking a request frame, and
 * every write — encoded frames, an actor's already encoded result, close
 * frames — with the edge's one byte accounting per socket (`unsentBytes`),
 * held to `maxBackpressureBytes`, and the backlog sweep that closes a socket
 * which drains nothing for `drainTimeoutMs` as a slow consumer.
 *
 * Writes are corked (they may come from outside a uWS callback) and never
 * touch a socket after its close handler ran. The frames a socket is sent in
 * one tick (an LMDB commit answers many requests at once) are held in order
 * and written in one cork when the tick ends, so they leave in one syscall
 * rather than one each; held frames count as unsent bytes, and a close or an
 * ordered write sends them first.
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

/** Frames held for one socket past this many bytes (or a quarter of the backpressure bound, if less) are written at once rather than at the end of the tick. */
export const FLUSH_AT_BYTES = 64 * 1024;

const NO_FRAMES: readonly Uint8Array[] = Object.freeze([]) as readonly Uint8Array[];

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

const ID_KEY = 0xa2; // fixstr of 2: `id`
const R_KEY = 0xa1; // fixstr of 1: `r`

/**
 * `{id, r}` with `r` already encoded: the bytes `encode({id, r: decode(r)})`
 * makes, with one allocation. `id` is an unsigned integer below 2^32 (larger
 * ones take `encodeMapOfRaw`).
 */
export function resultFrame(id: number, r: Uint8Array): Uint8Array {
  const idBytes = id < 0x80 ? 1 : id < 0x100 ? 2 : id < 0x10000 ? 3 : 5;
  const out = Buffer.allocUnsafe(6 + idBytes + r.byteLength);
  out[0] = 0x82;
  out[1] = ID_KEY;
  out[2] = 0x69; // i
  out[3] = 0x64; // d
  let at = 4;
  if (idBytes === 1) out[at++] = id;
  else if (idBytes === 2) {
    out[at++] = 0xcc;
    out[at++] = id;
  } else if (idBytes === 3) {
    out[at++] = 0xcd;
    out.writeUInt16BE(id, at);
    at += 2;
  } else {
    out[at++] = 0xce;
    out.writeUInt32BE(id, at);
    at += 4;
  }
  out[at++] = R_KEY;
  out[at++] = 0x72; // r
  out.set(r, at);
  return out;
}

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
  /** Sockets holding frames for the end of this tick, in the order of their first frame. */
  private corked: Conn[] = [];
  /** The previous tick's list, emptied, reused for the next. */
  private spareCorked: Conn[] = [];
  private flushScheduled = false;
  /** `FLUSH_AT_BYTES`, or a quarter of `maxBackpressureBytes` when that is less. */
  private readonly flushAtBytes: number;
  private readonly flushNow = (): void => this.flushCorked();
  /** The socket and frames the cork callback writes: one callback for every socket, no closure per write. */
  private corkingConn: Conn | undefined = undefined;
  private corkingFrames: readonly Uint8Array[] = [];
  private readonly writeCorking = (): void => this.writeFrames(this.corkingConn!, this.corkingFrames);

  /** Counts slow consumers closed, when metrics are on. */
  private readonly metrics: Metrics | undefined;

  constructor(config: Config, metrics?: Metrics) {
    this.config = config;
    this.metrics = metrics;
    this.flushAtBytes = Math.min(FLUSH_AT_BYTES, Math.floor(config.maxBackpressureBytes / 4));
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
    // uWS neuters `message` when the handler returns; decoded binaries may be views of it. A small
    // frame is copied into Node's buffer pool, which costs no backing store of its own.
    const bytes = Buffer.allocUnsafe(message.byteLength);
    bytes.set(new Uint8Array(message));
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

  /**
   * Sends already encoded bytes: held with the socket's other frames of this
   * tick and written in one cork when it ends; a no-op once the socket
   * closed. `bytes` must not change afterwards.
   */
  sendBytes(conn: Conn, bytes: Uint8Array): void {
    if (conn.closed || conn.ws === undefined) return;
    const held = conn.outgoing;
    if (held === undefined) {
      conn.outgoing = [bytes];
      this.corked.push(conn);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flushNow);
      }
    } else held.push(bytes);
    conn.outgoingBytes += bytes.byteLength;
    // A large burst goes to uWS at once: what the kernel takes then is not counted against the bound.
    if (conn.outgoingBytes >= this.flushAtBytes) this.flush(conn);
    else this.checkBound(conn);
  }

  /**
   * Sends already encoded bytes at once, after the socket's held frames: for
   * a frame that a uWS topic publish later in the tick must not overtake
   * (a topic's messages go out before the socket's next direct write).
   */
  sendBytesNow(conn: Conn, bytes: Uint8Array): void {
    this.sendBytes(conn, bytes);
    this.flush(conn);
  }

  /** Writes every socket's held frames, one cork each (the end of the tick). */
  private flushCorked(): void {
    this.flushScheduled = false;
    const conns = this.corked;
    // Frames written meanwhile (a close handler's) go to the next flush.
    this.corked = this.spareCorked;
    for (let i = 0; i < conns.length; i++) this.flush(conns[i]!);
    conns.length = 0;
    this.spareCorked = conns;
  }

  /** Writes the socket's held frames now, in one cork. */
  private flush(conn: Conn): void {
    const held = this.takeHeld(conn);
    const ws = conn.ws;
    if (held === undefined || conn.closed || ws === undefined) return;
    this.corkingConn = conn;
    this.corkingFrames = held;
    try {
      ws.cork(this.writeCorking);
    } catch (err) {
      logger.debug('send on a closing socket', { conn: conn.ref, err });
    } finally {
      this.corkingConn = undefined;
      this.corkingFrames = NO_FRAMES;
    }
    this.checkBound(conn);
    // Writers waiting for room counted the held bytes, which uWS may have sent at once, with no drain to tell.
    if (conn.hasDrainWaiters) this.wakeWriters(conn);
  }

  /** The socket's held frames, which it no longer holds; undefined when none. */
  private takeHeld(conn: Conn): Uint8Array[] | undefined {
    const held = conn.outgoing;
    if (held === undefined) return undefined;
    conn.outgoing = undefined;
    conn.outgoingBytes = 0;
    return held;
  }

  /** Inside a cork: writes `frames` in order while the socket stays open. */
  private writeFrames(conn: Conn, frames: readonly Uint8Array[]): void {
    const ws = conn.ws!;
    for (let i = 0; i < frames.length; i++) {
      if (conn.closed) return;
      ws.send(frames[i]!, true);
    }
  }

  /**
   * Sends `first`, then each of `then` while the socket stays open, in one
   * cork (the login reply and the deliveries held during the login). The
   * socket must be open; a failing write throws to the caller.
   */
  sendInOrder(conn: Conn, first: Uint8Array, then: readonly Uint8Array[]): void {
    const ws = conn.ws!;
    const held = this.takeHeld(conn);
    ws.cork(() => {
      if (held !== undefined) this.writeFrames(conn, held);
      if (conn.closed) return;
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
    else this.sendBytes(conn, id < 0x100000000 ? resultFrame(id, r) : encodeMapOfRaw([['id', encode(id)], ['r', r]]));
  }

  /** Answers request `id` with `err`: a ParleyError as it is, anything else as a logged INTERNAL. */
  sendFailure(conn: Conn, id: number, err: unknown, context?: Record<string, unknown>): void {
    const e = err instanceof ParleyError ? err.toWire() : internalError(err, { conn: conn.ref, ...context }, correlationId(conn.ref, id));
    this.send(conn, { id, e });
  }

  /** Sends the held frames and `frame` (if any), then a close frame with `code`; the frames go out first. */
  closeWith(conn: Conn, code: number, reason: string, frame?: unknown): void {
    const ws = conn.ws;
    if (conn.closed || ws === undefined) return;
    try {
      const bytes = frame === undefined ? undefined : encode(frame);
      const held = this.takeHeld(conn);
      ws.cork(() => {
        if (held !== undefined) this.writeFrames(conn, held);
        if (bytes !== undefined && !conn.closed) ws.send(bytes, true);
        if (!conn.closed) ws.end(code, reason);
      });
    } catch (err) {
      logger.debug('close on a closing socket', { conn: conn.ref, err });
    }
  }

  // ---- backpressure ----------------------------------------------------------------------

  /**
   * The socket's unsent bytes: what uWS holds for it, frames held for the
   * end of the tick, deliveries held while it logs in, and login-sync pages
   * asked for but not yet written. One
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
    const unsent = buffered + conn.outgoingBytes + conn.pendingBytes + conn.reservedBytes;
    if (unsent > this.peak) this.peak = unsent;
    return unsent;
  }

  /** Closes a socket over the backpressure bound at once, as uWS does for its own writes (clients see 1006). */
  closeSlowConsumer(conn: Conn, why: string): void {
    if (conn.closed) return;
    if (this.metrics !== undefined) this.metrics.slowConsumers++;
    logger.info('slow consumer closed', { conn: conn.ref, account: conn.account, why, bound: this.config.maxBackpressureBytes });
    this.takeHeld(conn);
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
    else if (unsent > conn.reservedBytes + conn.pendingBytes + conn.outgoingBytes && !this.backlogged.has(conn)) {
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

  /** The socket closed: its held frames are dropped, it is no longer watched, and writers waiting for its room wake up to see it closed. */
  onClose(conn: Conn): void {
    this.takeHeld(conn);
    this.backlogged.delete(conn);
    this.wakeWriters(conn);
  }

  /** Wakes the login-sync writers waiting for room on the socket. */
  wakeWriters(conn: Conn): void {
    if (!conn.hasDrainWaiters) return;
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
