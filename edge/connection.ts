/**
 * One client socket's state (`Conn`), and the edge's set of open sockets
 * (`Sockets`): numbering, the `<nodeId>/<n>` refs that name them on the
 * wire, and whether the edge still accepts them.
 *
 * Idle logged-in sockets are the edge's main memory cost, so a `Conn` holds
 * scalars and lazily allocated lists only, and nothing here allocates a
 * closure or a timer per socket.
 */
import type { HeldCallOptions } from '../engine/actor/call.ts';
import type { Config } from '../engine/config.ts';
import type { Caller } from '../engine/envelope.ts';
import type { DeviceType } from '../engine/protocol/methods.ts';
import type { WebSocket } from './uws.ts';

/** `new`: no login yet; `login`: the login is being verified; `ready`: logged in. */
export type ConnState = 'new' | 'login' | 'ready';

/** A request received while the socket's login is being verified. */
export interface QueuedRequest {
  id: number;
  m: string;
  a: unknown;
}

/** What uWS keeps as a socket's user data. */
export interface ConnData {
  conn: Conn;
}

/**
 * One client socket. An idle logged-in socket costs only this object, its
 * uWS socket and a slot in its account's entry, so the fields are scalars or
 * shared: what can be derived (`ref`, `caller`) is computed when asked, the
 * lists a socket needs only around its login or under backpressure are
 * allocated on first use, and there is no closure or timer per socket.
 * Every field exists from construction so the shape never changes.
 */
export class Conn {
  /** Number of the socket on its edge: `ref` is `<nodeId>/<n>`. */
  readonly n: number;
  /** `<nodeId>/`, one string shared by every socket of the edge. */
  private readonly refPrefix: string;
  ws: WebSocket<ConnData> | undefined = undefined;
  closed = false;
  state: ConnState = 'new';
  account = '';
  deviceId = '';
  deviceType: DeviceType = 'web';
  /** Holds a reference on the account's delivery subscription. */
  registered = false;
  /** Malformed frames in a row. */
  malformed = 0;
  inFlight = 0;
  pendingBytes = 0;
  /** Bytes of login-sync pages asked for and not yet written: part of the socket's unsent bytes. */
  reservedBytes = 0;
  /** Backlog sweeps in a row that found bytes buffered and no drain since the previous one. */
  stalledSweeps = 0;
  /** Settles once the account's presence actor has recorded this socket's login (see `DevicePresence`). */
  presence: Promise<void> | undefined = undefined;
  /** Frames written since the current tick's flush, sent in one cork at the end of the tick (see `Frames.sendBytes`). */
  outgoing: Uint8Array[] | undefined = undefined;
  /** Bytes of `outgoing`: part of the socket's unsent bytes. */
  outgoingBytes = 0;
  /** The `caller` last handed out: the same object (and so its kept encoding) serves every request of the login. */
  private callerKept: Caller | undefined = undefined;
  private queuedList: QueuedRequest[] | undefined = undefined;
  private pendingList: Uint8Array[] | undefined = undefined;
  private waiterList: Array<() => void> | undefined = undefined;

  constructor(n: number, refPrefix: string) {
    this.n = n;
    this.refPrefix = refPrefix;
  }

  /** `<nodeId>/<n>`: names this socket in `Caller.conn` and `Delivery.x`. */
  get ref(): string {
    return this.refPrefix + this.n;
  }

  /** Who the socket's requests come from; undefined before the login is verified. */
  get caller(): Caller | undefined {
    if (this.account === '') return undefined;
    const kept = this.callerKept;
    if (kept !== undefined && kept.account === this.account && kept.deviceId === this.deviceId && kept.deviceType === this.deviceType) return kept;
    // Made on the socket's first request: an idle socket keeps none. Never changed after, only replaced.
    const caller: Caller = { account: this.account, deviceId: this.deviceId, deviceType: this.deviceType, conn: this.ref };
    this.callerKept = caller;
    return caller;
  }

  /** Requests received while the login is being verified; run once it succeeds. */
  get queued(): QueuedRequest[] {
    return (this.queuedList ??= []);
  }

  set queued(list: QueuedRequest[]) {
    this.queuedList = list;
  }

  /** Deliveries that arrived between the bus subscription and the login reply. */
  get pending(): Uint8Array[] {
    return (this.pendingList ??= []);
  }

  /** Login-sync writers waiting for the socket's buffer to drain. */
  get drainWaiters(): Array<() => void> {
    return (this.waiterList ??= []);
  }

  set drainWaiters(list: Array<() => void>) {
    this.waiterList = list;
  }

  /** True when login-sync writers wait for room, without allocating their list. */
  get hasDrainWaiters(): boolean {
    return this.waiterList !== undefined && this.waiterList.length > 0;
  }

  /** Takes the queued requests and pending deliveries, leaving none allocated. */
  takeQueued(): readonly QueuedRequest[] {
    const list = this.queuedList ?? NOTHING_QUEUED;
    this.queuedList = undefined;
    return list;
  }

  takePending(): readonly Uint8Array[] {
    const list = this.pendingList ?? NOTHING_PENDING;
    this.pendingList = undefined;
    this.pendingBytes = 0;
    return list;
  }
}

const NOTHING_QUEUED: readonly QueuedRequest[] = Object.freeze([]) as readonly QueuedRequest[];
const NOTHING_PENDING: readonly Uint8Array[] = Object.freeze([]) as readonly Uint8Array[];


/** The edge's open sockets, and whether it still accepts new ones. */
export class Sockets {
  private readonly config: Config;
  /** `<nodeId>/`: with a socket's number, its `ref`. */
  private readonly refPrefix: string;
  private seq = 0;
  private readonly open = new Set<Conn>();
  /** True from the start of the edge's `stop()` until it starts again. */
  stopping = false;

  constructor(config: Config) {
    this.config = config;
    this.refPrefix = `${config.nodeId}/`;
  }

  /** A socket's state before uWS opens it, numbered after the previous one. */
  create(): Conn {
    return new Conn(++this.seq, this.refPrefix);
  }

  add(conn: Conn): void {
    this.open.add(conn);
  }

  delete(conn: Conn): void {
    this.open.delete(conn);
  }

  /** Open sockets. */
  get size(): number {
    return this.open.size;
  }

  /** The open sockets, live: copy before closing any while iterating. */
  values(): IterableIterator<Conn> {
    return this.open.values();
  }

  /** The number of this edge's socket that `ref` names, or -1. */
  numberOf(ref: unknown): number {
    if (typeof ref !== 'string' || !ref.startsWith(this.refPrefix)) return -1;
    const n = Number(ref.slice(this.refPrefix.length));
    return Number.isSafeInteger(n) ? n : -1;
  }

  /** Actor calls for a socket: held through handovers for up to the request timeout, abandoned when it closes. */
  heldOptions(conn: Conn, requestId?: number): HeldCallOptions {
    return new HeldForSocket(this, conn, requestId);
  }
}

/** A socket's held call options: one object per call and no closure (`isOpen` is a method). */
class HeldForSocket implements HeldCallOptions {
  private readonly sockets: Sockets;
  private readonly conn: Conn;
  readonly requestId: number | undefined;

  constructor(sockets: Sockets, conn: Conn, requestId: number | undefined) {
    this.sockets = sockets;
    this.conn = conn;
    this.requestId = requestId;
  }

  isOpen(): boolean {
    return !this.conn.closed && !this.sockets.stopping;
  }
}
