/**
 * A bare protocol client for tests: sends frames as they are and records
 * every frame it receives, so tests can check the wire itself.
 */
import WebSocket from 'ws';
import { decode, encode } from '../../engine/protocol/codec.ts';

export type Frame = { id?: number; r?: any; e?: { code: number; name: string; message: string }; ev?: string; d?: any };

/** A `ws` socket to `url` once it is open; rejects when it cannot open. */
export function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

export interface RawClientOptions {
  /** How long `next`, `request`, `reply`, `event` and `waitClosed` wait by default, ms. Default 10000. */
  timeoutMs?: number;
}

export class RawClient {
  /** Frames received and not yet taken by `next`. */
  readonly frames: Frame[] = [];
  /** Every frame received, in arrival order. */
  readonly received: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The socket itself, for tests that reach below the protocol (pausing its reads, say). */
  readonly ws: WebSocket;
  private readonly timeoutMs: number;
  private isClosed = false;
  private nextId = 1;
  private waiters: (() => void)[] = [];

  private constructor(ws: WebSocket, options: RawClientOptions) {
    this.ws = ws;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.isClosed = true;
        this.wake();
        resolve({ code, reason: reason.toString() });
      }),
    );
    ws.on('message', (data: Buffer, isBinary) => {
      const frame = isBinary ? (decode(new Uint8Array(data)) as Frame) : ({ text: data.toString() } as unknown as Frame);
      this.frames.push(frame);
      this.received.push(frame);
      this.wake();
    });
    ws.on('error', () => {});
  }

  static async open(url: string, options: RawClientOptions = {}): Promise<RawClient> {
    return new RawClient(await openSocket(url), options);
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  sendBytes(bytes: Uint8Array | string): void {
    this.ws.send(bytes, { binary: typeof bytes !== 'string' });
  }

  /** Sends `{id, m, a}` without waiting; returns the id (default the next one). */
  send(m: string, a?: unknown, id = this.nextId++): number {
    this.sendBytes(encode(a === undefined ? { id, m } : { id, m, a }));
    return id;
  }

  /** Sends `{id, m, a}` and resolves with the frame answering it. */
  request(m: string, a?: unknown, timeoutMs = this.timeoutMs): Promise<Frame> {
    return this.reply(this.send(m, a), timeoutMs);
  }

  /** The frame answering request `id`. */
  reply(id: number, timeoutMs = this.timeoutMs): Promise<Frame> {
    return this.next((f) => f.id === id, timeoutMs);
  }

  /**
   * Resolves with the first received frame (past or future) matching `match`
   * that no earlier call took; rejects at the deadline or once the socket has
   * closed without one.
   */
  async next(match: (f: Frame) => boolean, timeoutMs = this.timeoutMs): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.frames.findIndex(match);
      if (at !== -1) return this.frames.splice(at, 1)[0]!;
      const have = () => JSON.stringify(this.frames).slice(0, 500);
      if (this.isClosed) throw new Error(`the socket closed without a matching frame; have ${have()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; have ${have()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  event(ev: string, timeoutMs?: number): Promise<Frame> {
    return this.next((f) => f.ev === ev, timeoutMs);
  }

  /** Resolves with the close code and reason; rejects after `timeoutMs`. */
  async waitClosed(timeoutMs = this.timeoutMs): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the socket did not close within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
