/**
 * The login sync: right after a socket logs in, each registered source
 * writes its part of what changed since the device's cursors, in the order
 * the sources were registered, and then `syncdone` tells the client it is
 * up to date. A feature adds to the sync by registering a `LoginSyncSource`
 * (the sessions pages and their offline messages are one today).
 *
 * Every page is pulled only as the client reads: a page's room is reserved
 * in the sync's share of the socket's bound before it is fetched, and
 * written in the turn it arrives. Pages are bounded by what the Bus carries
 * and by the socket's bound. A failure closes the socket (1011) so the
 * client reconnects.
 */
import type { Bus } from '../engine/bus/bus.ts';
import type { Config } from '../engine/config.ts';
import type { Caller } from '../engine/envelope.ts';
import type { ActorClient, HeldCallOptions } from '../engine/actor/call.ts';
import type { RetryClass } from '../engine/protocol/registry.ts';
import { ParleyError } from '../engine/protocol/errors.ts';
import { logger } from '../engine/logger.ts';
import type { Conn, Sockets } from './connection.ts';
import { CLOSE_CODES } from './frames.ts';
import type { Frames } from './frames.ts';
import { internalError } from './wire.ts';

/** Room a login-sync page keeps under the Bus's limit for the reply envelope and the page's own fields, bytes. */
const SYNC_PAGE_MARGIN_BYTES = 1024;

/** Size of the login sync's pages: `bytes` reserved per page, `ask` passed as `maxBytes` when the socket needs less than the Bus carries. */
export interface SyncPaging {
  readonly bytes: number;
  readonly ask: number | undefined;
}

/** One socket's login sync in progress: what a source uses to pull its pages onto the socket. */
export interface LoginSyncRun {
  readonly conn: Conn;
  /** Who the sync's reads are made for: the logged-in socket. */
  readonly caller: Caller;
  /** The device's cursors as its `login` sent them (unchecked: the actors read them). */
  readonly cursors: unknown;
  /** How large each page is; pass `paging.ask` (when set) as the read's `maxBytes`. */
  readonly paging: SyncPaging;
  /**
   * Calls a read on an actor, held through handovers and retried as `retry`
   * (the read's declared retry class) allows; resolves with its decoded `r`.
   */
  read(address: string, m: string, a: unknown, retry: RetryClass): Promise<unknown>;
  /**
   * Pulls one page: reserves `paging.bytes` of the socket, fetches the page
   * and hands it to `write` at once. Undefined once the socket closed.
   */
  pull<T>(fetch: () => Promise<T>, write: (page: T) => void): Promise<{ page: T } | undefined>;
  /** Writes one frame to the socket (a no-op once it closed). */
  send(frame: unknown): void;
}

/** One feature's part of the login sync. */
export interface LoginSyncSource {
  /** Names the source in logs. */
  readonly name: string;
  /** Writes the source's pages; resolves when done or when the socket closed; a rejection fails the sync. */
  sync(run: LoginSyncRun): Promise<void>;
}

/** Runs the login sync of each socket that logs in, over the registered sources. */
export class LoginSync {
  private readonly config: Config;
  private readonly bus: Bus;
  private readonly actors: ActorClient;
  private readonly sockets: Sockets;
  private readonly frames: Frames;
  private readonly sources: LoginSyncSource[] = [];

  constructor(config: Config, bus: Bus, actors: ActorClient, sockets: Sockets, frames: Frames) {
    this.config = config;
    this.bus = bus;
    this.actors = actors;
    this.sockets = sockets;
    this.frames = frames;
  }

  /** Adds a source; sources run one after the other, in the order registered. */
  register(source: LoginSyncSource): void {
    this.sources.push(source);
  }

  /** The logged-in socket's sync: every source, then `syncdone`; a failure closes the socket with 1011. */
  async run(conn: Conn, cursors: unknown): Promise<void> {
    const account = conn.account;
    try {
      const run = new SyncRun(this, conn, cursors);
      for (const source of this.sources) {
        await source.sync(run);
        if (conn.closed) return;
      }
      this.frames.send(conn, { ev: 'syncdone', d: { serverTime: Date.now() } });
    } catch (err) {
      if (conn.closed) return;
      if (err instanceof ParleyError) logger.warn('login sync failed; closing the socket so the client reconnects', { account, conn: conn.ref, err });
      else internalError(err, { step: 'login sync', account, conn: conn.ref });
      this.frames.closeWith(conn, CLOSE_CODES.syncFailed, 'login sync failed');
    }
  }

  /** How large the login sync's pages are: a quarter of the slow-consumer bound, or what the Bus carries when that is less. */
  paging(): SyncPaging {
    const transport = this.bus.maxPayloadBytes - SYNC_PAGE_MARGIN_BYTES;
    const socket = Math.floor(this.config.maxBackpressureBytes / 4);
    return socket < transport ? { bytes: socket, ask: socket } : { bytes: Math.max(1, transport), ask: undefined };
  }

  /** Options of the sync's actor calls: held through handovers while the socket is open. */
  heldOptions(conn: Conn): HeldCallOptions {
    return this.sockets.heldOptions(conn);
  }

  read(address: string, m: string, a: unknown, caller: Caller, retry: RetryClass, held: HeldCallOptions): Promise<unknown> {
    return this.actors.hold(address, m, a, caller, retry, held);
  }

  /**
   * Pulls one login-sync page: reserves room for it, fetches it, and hands
   * it to `write` at once (the reservation becomes uWS's buffer in the same
   * turn, so nothing is counted twice or held). Undefined once closed.
   */
  async pullPage<T>(conn: Conn, bytes: number, fetch: () => Promise<T>, write: (page: T) => void): Promise<{ page: T } | undefined> {
    if (!(await this.reserve(conn, bytes))) return undefined;
    let page: T;
    try {
      page = await fetch();
    } finally {
      conn.reservedBytes -= bytes;
      this.frames.wakeWriters(conn);
    }
    if (conn.closed) return undefined;
    write(page);
    return { page };
  }

  send(conn: Conn, frame: unknown): void {
    this.frames.send(conn, frame);
  }

  /**
   * Waits until a page of `bytes` fits in the login sync's share of the
   * socket (three quarters of the bound: the rest stays free for deliveries
   * and replies), then reserves it. The sync thus pulls pages only as the
   * client reads; a client that stops reading is closed by the backlog
   * sweep. False once the socket closed.
   */
  private async reserve(conn: Conn, bytes: number): Promise<boolean> {
    const share = Math.floor((this.config.maxBackpressureBytes * 3) / 4);
    while (!conn.closed && conn.ws !== undefined) {
      const unsent = this.frames.unsentBytes(conn);
      // Nothing buffered and nothing asked for: go, whatever the page's size, so the sync always progresses.
      if (unsent + bytes <= share || unsent === 0) {
        conn.reservedBytes += bytes;
        this.frames.unsentBytes(conn);
        return true;
      }
      // Woken by a drain, by a page of this socket arriving, or by the close.
      await new Promise<void>((resolve) => conn.drainWaiters.push(resolve));
    }
    return false;
  }
}

/** One socket's sync: made at its start, dropped when it ends, so an idle socket holds none of it. */
class SyncRun implements LoginSyncRun {
  readonly conn: Conn;
  readonly caller: Caller;
  readonly cursors: unknown;
  readonly paging: SyncPaging;
  private readonly sync: LoginSync;
  private readonly held: HeldCallOptions;

  constructor(sync: LoginSync, conn: Conn, cursors: unknown) {
    this.sync = sync;
    this.conn = conn;
    this.caller = conn.caller!;
    this.cursors = cursors;
    this.paging = sync.paging();
    this.held = sync.heldOptions(conn);
  }

  read(address: string, m: string, a: unknown, retry: RetryClass): Promise<unknown> {
    return this.sync.read(address, m, a, this.caller, retry, this.held);
  }

  pull<T>(fetch: () => Promise<T>, write: (page: T) => void): Promise<{ page: T } | undefined> {
    return this.sync.pullPage(this.conn, this.paging.bytes, fetch, write);
  }

  send(frame: unknown): void {
    this.sync.send(this.conn, frame);
  }
}

/** Runs `fn` over `items` with at most `limit` running at once; stops starting new ones after the first failure. */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, () => worker());
  const results = await Promise.allSettled(workers);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}
