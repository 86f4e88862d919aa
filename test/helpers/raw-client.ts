/**
 * A bare protocol client for tests: sends frames as they are and records
 * every frame it receives, so tests can check the wire itself.
 */
import WebSocket from 'ws';
import { decode, encode } from '../../engine/protocol/codec.ts';

export type Frame = { id?: number; r?: any; e?: { code: number; name: string; message: string }; ev?: string; d?: any };

export class RawClient {
  /** Frames received and not yet taken by `next`. */
  readonly frames: Frame[] = [];
  /** Every frame received, in arrival order. */
  readonly received: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly ws: WebSocket;
  private nextId = 1;
  private waiters: (() => void)[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer, isBinary) => {
      const frame = isBinary ? (decode(new Uint8Array(data)) as Frame) : ({ text: data.toString() } as unknown as Frame);
      this.frames.push(frame);
      this.received.push(frame);
      for (const wake of this.waiters.splice(0)) wake();
    });
    ws.on('error', () => {});
  }

  static open(url: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new RawClient(ws)));
      ws.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  sendBytes(bytes: Uint8Array | string): void {
    this.ws.send(bytes, { binary: typeof bytes !== 'string' });
  }

  /** Sends `{id, m, a}` and resolves with the frame answering it. */
  async request(m: string, a?: unknown, timeoutMs = 10_000): Promise<Frame> {
    const id = this.nextId++;
    this.sendBytes(encode(a === undefined ? { id, m } : { id, m, a }));
    return this.next((f) => f.id === id, timeoutMs);
  }

  /** Resolves with the first received frame (past or future) matching `match` that no earlier call took. */
  async next(match: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.frames.findIndex(match);
      if (at !== -1) return this.frames.splice(at, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; have ${JSON.stringify(this.frames).slice(0, 500)}`);
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

  close(): void {
    this.ws.close();
  }

  terminate(): void {
    this.ws.terminate();
  }
}
