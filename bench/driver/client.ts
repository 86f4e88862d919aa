/**
 * One virtual user's connection: PROTOCOL.md spoken raw over a LeanSocket,
 * binary msgpack frames. Requests are pipelined (ids chosen here, answers
 * matched by id); events go to `onEvent`. `login` resolves at `syncdone` with
 * the sync events that came before it.
 */
import { Packr, Unpackr } from 'msgpackr';
import { LeanSocket } from './lean-socket.ts';

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true } as ConstructorParameters<typeof Packr>[0]);
const unpackr = new Unpackr({ useRecords: false, moreTypes: false, mapsAsObjects: true, int64AsType: 'number' });

/** How long a request waits for its answer, ms. */
export const REQUEST_TIMEOUT_MS = 30_000;
/** How often a client looks for requests past their deadline, ms. */
const SWEEP_EVERY_MS = 1000;

export type Frame = { id?: number; r?: any; e?: { code: number; name: string; message: string }; ev?: string; d?: any };

export class RequestError extends Error {
  readonly method: string;
  readonly error: { code: number; name: string; message: string };

  constructor(method: string, error: { code: number; name: string; message: string }) {
    super(`${method}: ${error.name} ${error.message}`);
    this.method = method;
    this.error = error;
    this.name = 'RequestError';
  }
}

/** The edge closed the socket before `syncdone`; `code` says why (1011: the login sync failed, reconnect). */
export class ClosedDuringLogin extends Error {
  readonly code: number;

  constructor(code: number) {
    super(`closed with ${code} during login`);
    this.code = code;
    this.name = 'ClosedDuringLogin';
  }
}

export interface LoginOptions {
  token: string;
  deviceId?: string;
  cursors?: { sessions?: number; seqs?: Record<string, number> };
  localAddress?: string;
  timeoutMs?: number;
}

export class ParleyClient {
  onEvent: (frame: Frame) => void = () => {};
  onClose: (code: number) => void = () => {};
  private nextId = 1;
  private readonly pending = new Map<number, { method: string; resolve: (r: any) => void; reject: (e: Error) => void; deadline: number }>();
  private sweeper: ReturnType<typeof setInterval> | undefined;

  private readonly socket: LeanSocket;

  private constructor(socket: LeanSocket) {
    this.socket = socket;
    socket.onMessage = (bytes) => this.receive(unpackr.unpack(bytes) as Frame);
    socket.onClose = (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`${p.method}: socket closed (${code})`));
      this.pending.clear();
      this.stopSweeping();
      this.onClose(code);
    };
  }

  /** Connects to `url` (ws://127.0.0.x:port/path), logs in and waits for `syncdone`; returns the client and the sync events. */
  static async login(url: string, options: LoginOptions): Promise<{ client: ParleyClient; sync: Frame[] }> {
    const { hostname, port, pathname } = new URL(url);
    const socket = await LeanSocket.open({ host: hostname, port: Number(port), path: pathname, localAddress: options.localAddress, timeoutMs: options.timeoutMs ?? 30_000 });
    const client = new ParleyClient(socket);
    const sync: Frame[] = [];
    const timeoutMs = options.timeoutMs ?? 30_000;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`login sync took over ${timeoutMs} ms`)), timeoutMs);
        client.onClose = (code) => (clearTimeout(timer), reject(new ClosedDuringLogin(code)));
        client.onEvent = (frame) => {
          if (frame.ev !== 'syncdone') return void sync.push(frame);
          clearTimeout(timer);
          resolve();
        };
        const a: Record<string, unknown> = { token: options.token };
        if (options.deviceId !== undefined) a.deviceId = options.deviceId;
        if (options.cursors !== undefined) a.cursors = options.cursors;
        client.request('login', a).catch((err) => (clearTimeout(timer), reject(err)));
      });
    } catch (err) {
      socket.terminate();
      throw err;
    }
    client.onEvent = () => {};
    client.onClose = () => {};
    return { client, sync };
  }

  get isOpen(): boolean {
    return this.socket.isOpen;
  }

  /**
   * Sends `{id, m, a}`; resolves with `r`, rejects with a RequestError on
   * `e`, and with an Error when no answer came within REQUEST_TIMEOUT_MS (so
   * a lost answer fails its VU instead of holding up the run).
   */
  request(method: string, a?: Record<string, unknown>): Promise<any> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject, deadline: performance.now() + REQUEST_TIMEOUT_MS });
      this.sweeper ??= setInterval(this.sweep, SWEEP_EVERY_MS).unref();
      this.socket.send(packr.pack(a === undefined ? { id, m: method } : { id, m: method, a }));
    });
  }

  /** Fails the requests past their deadline: one timer per client rather than one per request, which a driver sending 100k requests/s feels. */
  private readonly sweep = (): void => {
    const now = performance.now();
    // Oldest first: ids are given in order, and a Map keeps the order of insertion.
    for (const [id, waiting] of this.pending) {
      if (waiting.deadline > now) break;
      this.pending.delete(id);
      waiting.reject(new Error(`${waiting.method}: no answer within ${REQUEST_TIMEOUT_MS} ms`));
    }
    if (this.pending.size === 0) this.stopSweeping();
  };

  private stopSweeping(): void {
    if (this.sweeper === undefined) return;
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  close(): void {
    this.stopSweeping();
    this.socket.terminate();
  }

  private receive(frame: Frame): void {
    if (frame.id === undefined) return this.onEvent(frame);
    const waiting = this.pending.get(frame.id);
    if (waiting === undefined) return;
    this.pending.delete(frame.id);
    if (frame.e !== undefined) waiting.reject(new RequestError(waiting.method, frame.e));
    else waiting.resolve(frame.r);
  }
}
