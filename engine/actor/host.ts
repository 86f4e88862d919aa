/**
 * The actor host: subscribes to the request subjects of the partitions it
 * owns, activates actors on their first command, runs each actor's commands
 * one at a time, and passivates actors that sit idle.
 *
 * Writes are batched per actor: the commands waiting in a mailbox are decided
 * in order against the in-memory state, their events go to the Log as one
 * entry (naming the position the actor expects, which fences a stale owner)
 * and are materialised in LMDB, and only then answered and their effects run.
 * When the Log shares the state store's environment (the embedded engine),
 * the entry, its rows and its outbox calls commit in one transaction under
 * one fsync; otherwise the rows are written once the entry is durable.
 *
 * A call a behaviour declares deferring (`defers`: the session updates a
 * conversation sends its members) is the exception: its events are applied
 * and its deliveries sent at once, and they wait, for at most
 * `deferWriteMs`, to go first into the actor's next entry, together with the
 * others that came meanwhile. Its answer waits for that entry, so until then
 * the call stays in its sender's outbox and is made again after a crash; any
 * command that does not defer takes the waiting events into its own entry
 * before it is answered.
 */
import { randomUUID } from 'node:crypto';
import type { Bus, BusMessage, BusSubscription } from '../bus/bus.ts';
import type { Log } from '../log/log.ts';
import { LogConflictError } from '../log/log.ts';
import { LmdbLog } from '../log/lmdb-log.ts';
import { decode, encode, encodeArrayOfRaw, encodeMapOfOne, encodeMapOfRaw, encodeMapOfRawAndBin, encodeString, encodingOf, rememberEncoding } from '../protocol/codec.ts';
import { ParleyError, isParleyError } from '../protocol/errors.ts';
import type { WireError } from '../protocol/errors.ts';
import type { ActorReply, ActorRequest } from '../envelope.ts';
import { encodedValue } from '../store.ts';
import type { Database, StateStore } from '../store.ts';
import type { Binary } from 'lmdb';
import { keyOf, rangeOf, type StoreKey } from '../keys.ts';
import { IdServerGenerator } from '../ids.ts';
import { addressOfLogSubject, deliverySubject, fenceSubject, logSubject, partitionOf, requestSubject } from '../subjects.ts';
import { logger } from '../logger.ts';
import { ActorClient, mayRetry } from './call.ts';
import type { ActorBehavior, ActorContext, Command, Effect } from './behavior.ts';
import type { PartitionOwnership } from './ownership.ts';
import type { Metrics } from '../metrics.ts';
import { correlationId } from '../correlation.ts';

export interface ActorHostOptions {
  bus: Bus;
  log: Log;
  store: StateStore;
  ownership: PartitionOwnership;
  behaviors: ActorBehavior<any, any>[];
  nodeId: string;
  /** Partitions in the cluster. */
  partitions: number;
  /** Commands queued per actor before new ones are refused with UNAVAILABLE. */
  mailboxLimit: number;
  /** Idle time after which an actor is dropped from memory, ms. */
  actorIdleMs: number;
  /** Deadline of actor-to-actor calls, ms. */
  callTimeoutMs: number;
  /** This node's metrics: Log appends are observed and the host's state read at scrape time. */
  metrics?: Metrics;
  /**
   * How long calls of a `BATCHED` method (session updates) wait before they
   * go out, ms, so that the updates of the messages sent meanwhile join them
   * or replace them (`supersede`): at low load a member's user actor then
   * takes one command per wait instead of one per message. 0 sends them at
   * the end of the turn. Default `TOUCH_LINGER_MS` (0): a session read right
   * after a message was delivered then sees it.
   */
  touchLingerMs?: number;
  /**
   * How long the events of a deferring call (`ActorBehavior.defers`: the
   * session updates) may wait to be written with the actor's next Log entry,
   * ms. Their state and deliveries are current at once; one entry per wait
   * then carries all of them, and their calls are answered once it is
   * durable. 0 writes them as any other command's. Default `DEFER_WRITE_MS`.
   */
  deferWriteMs?: number;
}

/** Default `touchLingerMs`, ms: no lingering, so sessions read after a delivery are up to date. */
export const TOUCH_LINGER_MS = 0;
/** Default `deferWriteMs`, ms. */
export const DEFER_WRITE_MS = 20;

/** Most commands decided into one Log entry. */
const MAX_BATCH = 256;
/** Entries read per Log page while catching up. */
const CATCH_UP_PAGE = 500;
/** Empty reads tolerated while catching up to a known last position (a lagging replica). */
const CATCH_UP_EMPTY_READS = 50;
/** Longest wait of an activation for its partition's fence, ms. */
const FENCE_WAIT_MS = 5000;
/** How far before a partition's newest Log entry the repair scan looks, ms: longer than calls keep retrying. */
const REPAIR_WINDOW_MS = 2 * 60 * 1000;
/** Most actors a repair activates. */
const REPAIR_MAX_ACTORS = 10_000;
/** Longest wait at a graceful stop for actor-to-actor calls still trying, ms. */
const STOP_CALLS_MS = 5000;
/** Longest wait at a graceful stop for calls waiting in their lines to go out while the partitions are still served, ms. */
const STOP_FLUSH_MS = 1000;
/** Longest wait for a released partition's running batches, ms. */
const RELEASE_DRAIN_MS = 2000;
/** Room a Log entry leaves in a Bus message for the Log's headers (JetStream's expectations), bytes. */
const LOG_ENTRY_HEADROOM_BYTES = 4096;

/**
 * Longest run of batches in one turn of the event loop, ms. When a Log write
 * completes for thousands of actors at once, each actor's next batch would
 * otherwise run in the same turn, one after another, for seconds under a
 * burst; past the budget the rest wait for the next turn, so timers (the
 * partition lease renewals first of all) and socket reads get their turn.
 */
const TURN_BUDGET_MS = 20;

/** Resolves in the check phase of the event loop, after timers and I/O had their turn. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Room left in a Bus message for the reply envelope around `r`, bytes. */
export const REPLY_ENVELOPE_BYTES = 64;
/** Attempts of an actor-to-actor call effect before it is given up (and logged). */
const CALL_ATTEMPTS = 10;
const CALL_KIND = encode('call');

/**
 * The outbox row of a call effect, `{kind, to, m, a, supersede?}`, in the
 * codec's bytes. Its arguments are encoded once: the call's request splices
 * the same bytes (`rememberEncoding`), so they are not encoded again.
 */
function outboxRow(effect: Extract<Effect, { kind: 'call' }>): Binary {
  const members: Array<[string, Uint8Array]> = [['kind', CALL_KIND], ['to', encodeString(effect.to)], ['m', encodeString(effect.m)]];
  const a = effect.a;
  if (a !== undefined) {
    let args = encodingOf(a);
    if (args === undefined) {
      args = encode(a);
      if (typeof a === 'object' && a !== null) rememberEncoding(a, args);
    }
    members.push(['a', args]);
  }
  if (effect.supersede !== undefined) members.push(['supersede', encodeString(effect.supersede)]);
  return encodedValue(encodeMapOfRaw(members));
}
/**
 * Call methods carried together: the calls of one of them to one actor that
 * go out in one flush (from any of this host's actors; a flush waits
 * `touchLingerMs` after the first call) are sent as one call of the method
 * named here, whose argument is `{touches: [a, …]}` in order. The receiver
 * decides them in one command, so they cost it one Log entry and one round
 * of deliveries instead of one each. A flush's lone call goes as it is. The
 * wait costs no guarantee: each call's outbox row committed with its events.
 */
const BATCHED: ReadonlyMap<string, { m: string; member: string }> = new Map([['touch', { m: 'touches', member: 'touches' }]]);
/** Most calls carried in one batched call. */
const MAX_CALLS_PER_BATCH = 256;

/** How long answered calls' outbox rows wait to be removed together, ms. */
const OUTBOX_CLEANUP_MS = 200;

type CallEffect = Effect & {
  kind: 'call';
  outboxKey?: StoreKey;
  /** Outbox rows of the calls this one replaced (see `CallLine`): removed once it is answered. */
  replaced?: StoreKey[];
  /**
   * Sent without waiting in its line: its method defers its writes, so an
   * answer takes up to `deferWriteMs`, and the receiver applies it at once.
   * It replaces the older calls of its key going out in the same flush.
   */
  unlined?: boolean;
};

/**
 * The calls of one `supersede` key to one actor: at most one is on its way
 * (or retrying); later ones wait behind it, each replacing the one that
 * waited, whose outbox row is removed once the call that replaced it is
 * answered. A burst of session updates for one session thus costs the
 * receiver one command, one Log entry and one delivery per round trip, not
 * one per batch of the sender. Only calls with absolute arguments take a key
 * (`Effect`), so the newest alone leaves the receiver as all of them would;
 * after a crash every row left in the outbox is made again, in order.
 */
interface CallLine {
  waiting: CallEffect | undefined;
  replaced: StoreKey[];
}

/** The line of a call with a `supersede` key. */
function lineOf(effect: CallEffect): string {
  return `${effect.to}\u0000${effect.supersede!}`;
}

interface Pending {
  cmd: Command;
  msg: BusMessage;
  /** The client's request id (`ActorRequest.q`), for the correlation id. */
  q: number | undefined;
}

type Status = 'loading' | 'ready' | 'dead';

/** A command's answer, sent once its events are durable. */
interface Done {
  p: Pending;
  reply: ActorReply;
  encoded: Uint8Array | undefined;
}

class Activation {
  readonly mailbox: Pending[] = [];
  status: Status = 'loading';
  running = false;
  state: unknown = undefined;
  logSeq = 0;
  lastUsedMs = Date.now();
  /** Settles when activation has finished (either way). */
  loaded: Promise<void> = Promise.resolve();
  /**
   * Events of deferring calls already applied to `state`, their effects run,
   * that the next Log entry carries first, with their encodings and the
   * calls' answers (`held`), which wait for that entry to be durable.
   */
  deferred: unknown[] = [];
  deferredEncoded: Uint8Array[] = [];
  deferredBytes = 0;
  held: Done[] = [];
  /** Whether `deferred` is due to be written now (its wait ran out, or the actor is being handed over). */
  writeDue = false;
  readonly address: string;
  readonly subject: string;
  readonly behavior: ActorBehavior<unknown, unknown>;
  readonly ctx: ActorContext;

  constructor(address: string, subject: string, behavior: ActorBehavior<unknown, unknown>, ctx: ActorContext) {
    this.address = address;
    this.subject = subject;
    this.behavior = behavior;
    this.ctx = ctx;
  }
}

/** Whether an actor has commands waiting, or deferred events due to be written. */
function hasWork(act: Activation): boolean {
  return act.mailbox.length > 0 || (act.writeDue && act.deferred.length > 0);
}

/** What `encode(delivery)` makes for the `Delivery` of `frame`, with the frame copied once, not encoded. */
function deliveryBytes(frame: Uint8Array, exclude: string | undefined): Uint8Array {
  return encodeMapOfRawAndBin(exclude === undefined ? NO_MEMBERS : [['x', encodeString(exclude)]], 'f', frame);
}
const NO_MEMBERS: ReadonlyArray<readonly [string, Uint8Array]> = [];

/** The encoded arguments of a call: the bytes remembered for them (an outboxed call's), else encoded now. */
function argsBytes(a: unknown): Uint8Array {
  return encodingOf(a) ?? encode(a);
}

/** Answers a request with `e` (a method, not a closure per request). */
function refuse(msg: BusMessage, e: ParleyError): void {
  msg.respond(encode({ e: e.toWire() } satisfies ActorReply));
}

function wireError(err: unknown, address: string, p: Pending): WireError {
  if (isParleyError(err)) return err.toWire();
  const cid = correlationId(p.cmd.caller?.conn, p.q);
  logger.error('actor command failed', { cid, address, m: p.cmd.m, err });
  return new ParleyError('INTERNAL', `internal error (correlation id ${cid})`).toWire();
}

export class ActorHost {
  private readonly opts: ActorHostOptions;
  private readonly behaviors = new Map<string, ActorBehavior<unknown, unknown>>();
  private readonly actors = new Map<string, Activation>();
  private readonly subscriptions = new Map<number, BusSubscription>();
  /** Position of each served partition's fence marker: every append of the partition expects it. */
  private readonly fences = new Map<number, number>();
  /**
   * Partitions being handed over, each with its release: their requests are
   * answered UNAVAILABLE, so the edge retries elsewhere.
   */
  private readonly releasing = new Map<number, Promise<void>>();
  /** Fencing of the partitions taken so far, awaited by start(). */
  private starting: Promise<void>[] = [];
  /** Actor-to-actor call effects still trying (a line's waiting call counts once it goes out). */
  private pendingCalls = 0;
  /** Lines of call effects with a `supersede` key that have one on its way, by `lineOf`. */
  private readonly lines = new Map<string, CallLine>();
  private outboxSeq = 0;
  /** Call effects not yet answered: `outbox(address, node, ms, n) → effect`. */
  private readonly outbox: Database;
  private started = false;
  private readonly ids: IdServerGenerator;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private stopping = false;
  /** Whether a turn of the event loop is being timed, and since when (performance.now()). */
  private turnOpen = false;
  private turnStartedMs = 0;
  private readonly closeTurn = (): void => {
    this.turnOpen = false;
  };
  /** Carries call effects to their actors. */
  private readonly client: ActorClient;
  /** The Log when it lives in the state store's environment: entries and their rows then commit together. */
  private readonly jointLog: LmdbLog | undefined;
  /** Outbox rows of answered calls, removed together in one transaction now and then. */
  private answered: StoreKey[] = [];
  private cleanup: ReturnType<typeof setTimeout> | undefined;
  /** Calls of a `BATCHED` method going out this tick, by target and method. */
  private batches = new Map<string, CallEffect[]>();
  /** Whether a flush of `batches` is queued (after `lingerMs`, or a microtask: once the tick's actors that resolved together ran their effects). */
  private flushing = false;
  /** The queued flush's timer, when it waits `lingerMs`. */
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** `touchLingerMs`; 0 from the start of a graceful stop on, so that nothing waits for a timer then. */
  private lingerMs: number;
  private readonly flushNow = (): void => this.flushBatches();
  /** `deferWriteMs`; 0 from the start of a graceful stop on. */
  private deferWriteMs: number;
  /** Actors holding deferred events, made due together when `deferTimer` fires. */
  private deferring = new Set<Activation>();
  private deferTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly writeDeferredNow = (): void => this.writeDeferred();

  constructor(opts: ActorHostOptions) {
    this.opts = opts;
    this.client = new ActorClient(opts.bus, { partitions: opts.partitions, timeoutMs: opts.callTimeoutMs, metrics: opts.metrics });
    opts.metrics?.watchHost(this);
    for (const b of opts.behaviors) this.behaviors.set(b.kind, b);
    this.ids = new IdServerGenerator(opts.nodeId);
    this.outbox = opts.store.db('outbox');
    this.jointLog = opts.log instanceof LmdbLog && opts.log.shares(opts.store.root) ? opts.log : undefined;
    this.lingerMs = Math.max(0, opts.touchLingerMs ?? TOUCH_LINGER_MS);
    this.deferWriteMs = Math.max(0, opts.deferWriteMs ?? DEFER_WRITE_MS);
  }

  /** Number of actors in memory. */
  get activeCount(): number {
    return this.actors.size;
  }

  /** Counters since start: commands handled, Log appends, events appended, events deferred (written with a later entry), activations, passivations. */
  readonly stats = { commands: 0, appends: 0, events: 0, deferred: 0, activations: 0, passivations: 0 };

  /** Commands queued in all mailboxes, and in the fullest one. */
  mailboxDepth(): { total: number; max: number } {
    let total = 0;
    let max = 0;
    for (const act of this.actors.values()) {
      total += act.mailbox.length;
      if (act.mailbox.length > max) max = act.mailbox.length;
    }
    return { total, max };
  }

  /** Partitions this host serves now. */
  partitionsServed(): number {
    return this.fences.size;
  }

  async start(): Promise<void> {
    await this.opts.ownership.start({
      acquired: (p) => this.serve(p),
      released: (p) => this.release(p),
    });
    // Ready only once the partitions taken at start are fenced and can be served.
    await Promise.all(this.starting.splice(0));
    this.started = true;
    this.replayOutbox();
    const every = Math.max(50, Math.floor(this.opts.actorIdleMs / 2));
    this.sweeper = setInterval(() => this.passivateIdle(), every);
    this.sweeper.unref();
  }

  /**
   * Graceful stop: hands every partition over (each finishes its running
   * batches and answers its queued commands UNAVAILABLE), then waits for
   * pending actor-to-actor calls, which the new owners now answer.
   */
  async stop(): Promise<void> {
    // Calls waiting for their flush go out first, and those waiting in a line behind one on its way follow it, so they
    // reach their actors' mailboxes while these are still served; calls made from now on go out at the end of their turn.
    // Deferred events are written now, and from now on with their own commands, so their calls are answered.
    this.lingerMs = 0;
    this.deferWriteMs = 0;
    const drainBy = Date.now() + STOP_FLUSH_MS;
    while ((this.flushing || this.linesWaiting() || this.deferring.size > 0) && Date.now() < drainBy) {
      this.flushBatches();
      this.writeDeferred();
      await new Promise((r) => setTimeout(r, 1));
    }
    this.stopping = true;
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    await this.opts.ownership.stop();
    await Promise.all([...this.subscriptions.keys()].map((p) => this.release(p)));
    const deadline = Date.now() + STOP_CALLS_MS;
    while (this.pendingCalls > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (this.pendingCalls > 0) logger.warn('stopping with actor calls still pending', { pending: this.pendingCalls });
    await this.removeAnswered();
    this.actors.clear();
  }

  /**
   * Starts serving `partition`: first a fence marker is appended to the
   * partition's fence subject, and every later append of the partition
   * expects that marker to be the last — so a previous owner, even one
   * paused with appends on the wire, can no longer write once we start.
   */
  private serve(partition: number): void {
    if (this.stopping) return;
    const releasing = this.releasing.get(partition);
    if (releasing !== undefined) {
      // Taken again while its release still runs (a lease that lapsed on the local clock, taken anew): serve it after.
      void releasing.then(() => {
        if (this.opts.ownership.owns(partition)) this.serve(partition);
      });
      return;
    }
    if (this.subscriptions.has(partition)) return;
    const sub = this.opts.bus.subscribe(requestSubject(partition), (msg) => this.onRequest(partition, msg));
    this.subscriptions.set(partition, sub);
    const fencing = this.fence(partition);
    if (!this.started) this.starting.push(fencing);
  }

  /**
   * Appends this host's fence marker for `partition`. Taking a partition
   * (`previous` undefined) fences out whoever wrote before. Fencing again
   * after a write of unknown outcome (`previous` = the fence in use) expects
   * the fence subject still to end at `previous`: an owner that fenced since
   * holds the partition, and this host's actors — decided against state that
   * misses that owner's entries — must not write again, so the partition is
   * given up instead.
   */
  private async fence(partition: number, previous?: number): Promise<void> {
    const subject = fenceSubject(partition);
    const marker = encode({ node: this.opts.nodeId, at: Date.now(), id: randomUUID() });
    for (let attempt = 1; this.subscriptions.has(partition) && !this.releasing.has(partition); attempt++) {
      try {
        let seq: number;
        try {
          seq = await this.opts.log.append(subject, marker, previous ?? (await this.opts.log.lastSeq(subject)));
        } catch (err) {
          if (previous === undefined || !(err instanceof LogConflictError)) throw err;
          // An earlier attempt of ours may have landed without an answer: then it is the fence.
          const ours = await this.markerAfter(subject, previous, marker);
          if (ours === undefined) {
            this.lost(partition);
            return;
          }
          seq = ours;
        }
        if (this.subscriptions.has(partition) && !this.releasing.has(partition)) {
          this.fences.set(partition, seq);
          void this.repair(partition);
        }
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 20 === 0) logger.warn('partition fence failed; retrying', { partition, attempt, err });
        await new Promise((r) => setTimeout(r, Math.min(1000, 20 * attempt)));
      }
    }
  }

  /**
   * After a refused fence over `previous`: the position of `marker` when it
   * is the only fence entry past `previous`, undefined when another one is.
   */
  private async markerAfter(subject: string, previous: number, marker: Uint8Array): Promise<number | undefined> {
    const after = await this.opts.log.read(subject, previous + 1, 2);
    // A replica that has not applied the entry the refusal was about yet: ask again.
    if (after.length === 0) throw new Error(`fence subject ${subject} shows nothing past ${previous} yet`);
    if (after.length !== 1 || !Buffer.from(after[0]!.data).equals(marker)) return undefined;
    return after[0]!.seq;
  }

  /**
   * Activates the actors written last in a newly served partition. A writer
   * that stopped abruptly (here, or on another host) may have appended events
   * whose calls to other actors never went out; activation replays what the
   * local snapshot lacks and makes those calls again (they are idempotent).
   */
  private async repair(partition: number): Promise<void> {
    let subjects: string[];
    try {
      subjects = await this.opts.log.recentSubjects(`parley.log.${partition}.*.*`, REPAIR_WINDOW_MS, REPAIR_MAX_ACTORS);
    } catch (err) {
      logger.warn('partition repair scan failed', { partition, err });
      return;
    }
    for (const subject of subjects) {
      if (!this.fences.has(partition) || this.releasing.has(partition) || this.stopping) return;
      const address = addressOfLogSubject(subject);
      const behavior = address === undefined ? undefined : this.behaviors.get(address.slice(0, address.indexOf(':')));
      if (address === undefined || behavior === undefined || this.actors.has(address)) continue;
      await this.activation(address, partition, behavior).loaded;
    }
    if (subjects.length > 0) logger.debug('partition repaired', { partition, actors: subjects.length });
  }

  /** Stops serving `partition`: new requests get UNAVAILABLE; running batches finish; queued ones are answered UNAVAILABLE. */
  private async release(partition: number): Promise<void> {
    const running = this.releasing.get(partition);
    if (running !== undefined) return running;
    const sub = this.subscriptions.get(partition);
    if (sub === undefined) return;
    let released!: () => void;
    this.releasing.set(partition, new Promise<void>((done) => (released = done)));
    try {
      // Requests already on their way still arrive, and are answered (UNAVAILABLE), never dropped.
      await sub.drain();
      const mine = [...this.actors.values()].filter((a) => a.ctx.partition === partition);
      // Deferred events are written while the fence still holds; an actor that cannot write them answers their calls UNAVAILABLE.
      for (const act of mine) this.dueNow(act);
      const deadline = Date.now() + RELEASE_DRAIN_MS;
      while (mine.some((a) => a.running || a.status === 'loading') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
      for (const act of mine) this.drop(act, 'partition released');
    } finally {
      this.subscriptions.delete(partition);
      this.fences.delete(partition);
      this.releasing.delete(partition);
      released();
    }
  }

  /** Another owner fenced `partition`: stop serving it at once, without waiting for anything. */
  private lost(partition: number): void {
    const sub = this.subscriptions.get(partition);
    if (sub === undefined) return;
    logger.warn('partition fenced by another owner; dropping it', { partition });
    sub.unsubscribe();
    this.subscriptions.delete(partition);
    this.fences.delete(partition);
    for (const act of [...this.actors.values()]) if (act.ctx.partition === partition) this.drop(act, 'fenced');
  }

  private onRequest(partition: number, msg: BusMessage): void {
    let req: ActorRequest;
    try {
      req = decode(msg.data) as ActorRequest;
      if (typeof req?.to !== 'string' || typeof req.m !== 'string') throw new Error('not an actor request');
    } catch (err) {
      logger.warn('undecodable actor request', { subject: msg.subject, err });
      msg.respond(encode({ e: new ParleyError('BAD_REQUEST', 'undecodable actor request').toWire() } satisfies ActorReply));
      return;
    }
    const colon = req.to.indexOf(':');
    const behavior = this.behaviors.get(req.to.slice(0, colon));
    if (colon <= 0 || behavior === undefined) {
      refuse(msg, new ParleyError('NOT_FOUND', `no such ${colon > 0 ? req.to.slice(0, colon) : 'actor'}: '${req.to}' is not served by this engine`));
      return;
    }
    if (partitionOf(req.to, this.opts.partitions) !== partition) {
      refuse(msg, new ParleyError('BAD_REQUEST', `address '${req.to}' does not belong to partition ${partition}`));
      return;
    }
    if (this.stopping || this.releasing.has(partition)) {
      refuse(msg, new ParleyError('UNAVAILABLE', `partition ${partition} is being handed over; retry`, { address: req.to }));
      return;
    }
    if (!this.opts.ownership.owns(partition)) {
      // The lease ran out (a pause, a lost server): another host may own it now and answer.
      this.lost(partition);
      return;
    }
    if (!this.fences.has(partition)) {
      refuse(msg, new ParleyError('UNAVAILABLE', `partition ${partition} is starting; retry`, { address: req.to }));
      return;
    }
    const act = this.activation(req.to, partition, behavior);
    if (act.mailbox.length >= this.opts.mailboxLimit) {
      refuse(msg, new ParleyError('UNAVAILABLE', `actor ${req.to} is overloaded; retry later`, { address: req.to }));
      return;
    }
    act.mailbox.push({ cmd: { m: req.m, a: req.a, caller: req.caller }, msg, q: req.q });
    act.lastUsedMs = Date.now();
    this.schedule(act);
  }

  private activation(address: string, partition: number, behavior: ActorBehavior<unknown, unknown>): Activation {
    const existing = this.actors.get(address);
    if (existing !== undefined) return existing;
    const ids = this.ids;
    const bus = this.opts.bus;
    const ctx: ActorContext = {
      address,
      id: address.slice(address.indexOf(':') + 1),
      partition,
      store: this.opts.store,
      now: () => Date.now(),
      nextIdServer: (now) => ids.next(now),
      // Read at each use: a NATS reconnect may land on a server with another max_payload.
      get maxReplyBytes() {
        return bus.maxPayloadBytes - REPLY_ENVELOPE_BYTES;
      },
    };
    const act = new Activation(address, logSubject(address, partition), behavior, ctx);
    this.stats.activations++;
    this.actors.set(address, act);
    act.loaded = this.activate(act);
    return act;
  }

  /**
   * Waits until the partition is fenced (the fence is what guarantees that
   * no earlier writer's append can still land), then loads the snapshot and
   * replays the Log past it up to the subject's last position, then starts
   * serving the mailbox.
   */
  private async activate(act: Activation): Promise<void> {
    const { behavior, ctx } = act;
    try {
      if (!(await this.fenced(ctx.partition))) {
        this.fail(act, new ParleyError('UNAVAILABLE', `partition ${ctx.partition} is not served here now; retry`));
        return;
      }
      const loaded = behavior.load(ctx);
      act.state = loaded.state;
      act.logSeq = loaded.logSeq;
      const target = await this.opts.log.lastSeq(act.subject);
      for (let empty = 0; act.logSeq < target; ) {
        const entries = await this.opts.log.read(act.subject, act.logSeq + 1, CATCH_UP_PAGE);
        if (entries.length === 0) {
          // A replica behind the one that told us `target`: give it a moment.
          if (++empty > CATCH_UP_EMPTY_READS) throw new Error(`log of ${act.address} stops at ${act.logSeq}, before ${target}`);
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const replayed: unknown[] = [];
        for (const entry of entries) {
          for (const event of decode(entry.data) as unknown[]) {
            act.state = behavior.apply(act.state, event, ctx);
            replayed.push(event);
          }
          act.logSeq = entry.seq;
        }
        const state = act.state;
        const logSeq = act.logSeq;
        // Events the snapshot lacked may have had their calls cut short: make them again (they are idempotent).
        const calls = this.outboxed(act.address, behavior.effects(state, replayed, ctx).filter((e) => e.kind === 'call'));
        await this.opts.store.transaction(() => {
          behavior.persist(state, replayed, logSeq, ctx);
          for (const c of calls) this.outbox.put(c.key, c.stored);
        });
        for (const c of calls) this.runEffect(c.effect);
      }
    } catch (err) {
      logger.error('actor activation failed', { address: act.address, err });
      this.fail(act, new ParleyError('UNAVAILABLE', `actor ${act.address} could not be loaded; retry`, { cause: err }));
      return;
    }
    if (act.status !== 'loading') return;
    act.status = 'ready';
    this.schedule(act);
  }

  /** Resolves true once `partition` is fenced, false when it stops being served first. */
  private async fenced(partition: number): Promise<boolean> {
    const deadline = Date.now() + FENCE_WAIT_MS;
    while (!this.fences.has(partition)) {
      if (this.stopping || !this.subscriptions.has(partition) || this.releasing.has(partition) || Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  private schedule(act: Activation): void {
    if (act.status !== 'ready' || act.running || !hasWork(act)) return;
    act.running = true;
    void this.run(act);
  }

  /** Makes the deferred events of every actor holding some due, and runs those actors. */
  private writeDeferred(): void {
    if (this.deferTimer !== undefined) {
      clearTimeout(this.deferTimer);
      this.deferTimer = undefined;
    }
    const acts = this.deferring;
    this.deferring = new Set();
    for (const act of acts) this.dueNow(act);
  }

  /** Makes `act`'s deferred events due, and runs it (or lets the batch running now write them next). */
  private dueNow(act: Activation): void {
    if (act.deferred.length === 0) return;
    act.writeDue = true;
    this.schedule(act);
  }

  /** `act` holds deferred events: they are made due within `deferWriteMs`. */
  private deferWrite(act: Activation): void {
    this.deferring.add(act);
    if (this.deferTimer === undefined) this.deferTimer = setTimeout(this.writeDeferredNow, this.deferWriteMs);
  }

  /** Runs the mailbox's batches, then lets the actor be scheduled again (no closure per batch). */
  private async run(act: Activation): Promise<void> {
    try {
      await this.runBatches(act);
    } finally {
      act.running = false;
      act.lastUsedMs = Date.now();
      this.schedule(act);
    }
  }

  private async runBatches(act: Activation): Promise<void> {
    const { behavior, ctx } = act;
    while (act.status === 'ready' && hasWork(act)) {
      // Checked again on waking: the actors woken in one turn would otherwise each run a batch in it.
      while (this.turnSpent()) await nextTurn();
      if (act.status !== 'ready' || !hasWork(act)) return;
      const fence = this.fences.get(ctx.partition);
      if (fence === undefined || !this.opts.ownership.owns(ctx.partition)) {
        this.drop(act, 'partition not served');
        return;
      }
      const defers = this.deferWriteMs > 0 ? behavior.defers : undefined;
      // Written now, deferred events first (the Log keeps the order they were applied in): when they are due,
      // or a command that does not defer is taken (it is answered only once everything before it is durable).
      let write = act.writeDue;
      act.writeDue = false;
      const events: unknown[] = [];
      const done: Done[] = [];
      // One Log entry must fit in one Bus message: the events taken so far are measured, and the
      // next command's are estimated from its request (the event carries what the request did).
      const entryBudget = this.opts.bus.maxPayloadBytes - LOG_ENTRY_HEADROOM_BYTES;
      // Each event is encoded once: its bytes both size the entry and become part of it.
      const encoded: Uint8Array[] = [];
      let entryBytes = act.deferredBytes;
      while (act.mailbox.length > 0 && done.length < MAX_BATCH) {
        const next = act.mailbox[0]!;
        // A read of materialised rows must see the writes before it (deferred events write no rows it reads: `defers`).
        if (events.length > 0 && behavior.reads.has(next.cmd.m)) {
          write = true;
          break;
        }
        if ((events.length > 0 || act.deferred.length > 0) && entryBytes + 2 * next.msg.data.byteLength + 1024 > entryBudget) {
          write = true;
          break;
        }
        act.mailbox.shift();
        this.stats.commands++;
        if (defers?.has(next.cmd.m) !== true) write = true;
        try {
          const decision = behavior.handle(act.state, next.cmd, ctx);
          if (decision.events !== undefined) {
            for (const event of decision.events) {
              act.state = behavior.apply(act.state, event, ctx);
              // An event the behaviour encoded already (`rememberEncoding`) goes into the entry as it is.
              const bytes = encodingOf(event) ?? encode(event);
              events.push(event);
              encoded.push(bytes);
              entryBytes += bytes.byteLength;
            }
          }
          done.push({ p: next, reply: { r: decision.reply }, encoded: decision.encodedReply });
        } catch (err) {
          done.push({ p: next, reply: { e: wireError(err, act.address, next) }, encoded: undefined });
        }
      }

      let effects: Effect[] = [];
      try {
        if (events.length > 0) effects = behavior.effects(act.state, events, ctx);
      } catch (err) {
        this.persistFailed(act, fence, done, err);
        return;
      }
      if (!write && (events.length > 0 || act.deferred.length > 0) && effects.every((e) => e.kind === 'deliver')) {
        // Deferred: the events wait for the actor's next entry, their deliveries go now, their answers wait for the entry.
        for (let i = 0; i < events.length; i++) {
          act.deferred.push(events[i]);
          act.deferredEncoded.push(encoded[i]!);
        }
        act.deferredBytes = entryBytes;
        for (const d of done) {
          if (d.reply.e !== undefined) this.reply(d.p, d.reply);
          else act.held.push(d);
        }
        this.stats.deferred += events.length;
        for (const effect of effects) this.runEffect(effect);
        this.deferWrite(act);
        continue;
      }
      const held = act.held;
      if (events.length > 0 || act.deferred.length > 0) {
        const written = act.deferred.length === 0 ? events : act.deferred.concat(events);
        const writtenEncoded = act.deferred.length === 0 ? encoded : act.deferredEncoded.concat(encoded);
        act.deferred = [];
        act.deferredEncoded = [];
        act.deferredBytes = 0;
        act.held = [];
        try {
          const state = act.state;
          const calls = this.outboxed(act.address, effects);
          const materialise = (logSeq: number) => {
            behavior.persist(state, written, logSeq, ctx);
            for (const c of calls) this.outbox.put(c.key, c.stored);
          };
          const entry = encodeArrayOfRaw(writtenEncoded);
          const fenceAt = fenceSubject(ctx.partition);
          const startedMs = this.opts.metrics === undefined ? 0 : performance.now();
          if (this.jointLog !== undefined) {
            act.logSeq = await this.jointLog.appendWith(act.subject, entry, fence, fenceAt, materialise);
          } else {
            act.logSeq = await this.opts.log.append(act.subject, entry, fence, fenceAt);
            const logSeq = act.logSeq;
            await this.opts.store.transaction(() => materialise(logSeq));
          }
          this.stats.appends++;
          this.stats.events += written.length;
          this.opts.metrics?.logAppended(startedMs, written.length, this.jointLog !== undefined);
        } catch (err) {
          this.persistFailed(act, fence, held.length === 0 ? done : held.concat(done), err);
          return;
        }
      }
      for (const { p, reply, encoded } of held) this.reply(p, reply, encoded);
      for (const { p, reply, encoded } of done) this.reply(p, reply, encoded);
      for (const effect of effects) this.runEffect(effect);
    }
  }

  /** The in-memory state ran ahead of what is durable: the commands are answered UNAVAILABLE (their callers retry) and the actor forgotten. */
  private persistFailed(act: Activation, fence: number, done: Done[], err: unknown): void {
    const unavailable = new ParleyError('UNAVAILABLE', `actor ${act.address} could not persist; retry`).toWire();
    for (const { p, reply } of done) this.reply(p, reply.e !== undefined ? reply : { e: unavailable });
    this.writeFailed(act, fence, err);
  }

  /** True once this turn of the event loop has run batches for longer than TURN_BUDGET_MS; the first call of a turn starts timing it. */
  private turnSpent(): boolean {
    const now = performance.now();
    if (!this.turnOpen) {
      this.turnOpen = true;
      this.turnStartedMs = now;
      setImmediate(this.closeTurn);
      return false;
    }
    return now - this.turnStartedMs > TURN_BUDGET_MS;
  }

  /**
   * Gives each call effect an outbox key. Calls are written to the LMDB outbox
   * in the transaction that persists their events and removed once answered,
   * so calls cut short by a crash are made again when the host restarts.
   */
  private outboxed(address: string, effects: Effect[]): { key: StoreKey; effect: CallEffect; stored: Binary }[] {
    const out: { key: StoreKey; effect: CallEffect; stored: Binary }[] = [];
    for (const effect of effects) {
      if (effect.kind !== 'call') continue;
      const key = keyOf('outbox', address, this.opts.nodeId, Date.now(), ++this.outboxSeq);
      const stored = outboxRow(effect);
      (effect as CallEffect).outboxKey = key;
      out.push({ key, effect: effect as CallEffect, stored });
    }
    return out;
  }

  /** Makes again every call a previous run of this host left unanswered. */
  private replayOutbox(): void {
    let n = 0;
    for (const { key, value } of this.outbox.getRange(rangeOf('outbox'))) {
      const effect: CallEffect = { ...(value as CallEffect), outboxKey: key };
      this.startCall(effect);
      n++;
    }
    if (n > 0) logger.info('outbox: making unanswered calls again', { calls: n });
  }

  /**
   * After a failed append. A conflict on the fence we used means another
   * owner fenced the partition: it is lost. Any other failure leaves the
   * outcome unknown — the entry may still land — so the partition is fenced
   * anew, over our own fence only, before the actor reloads: a late landing
   * is then refused.
   */
  private writeFailed(act: Activation, fence: number, err: unknown): void {
    const p = act.ctx.partition;
    const current = this.fences.get(p);
    if (err instanceof LogConflictError && current === fence) {
      this.lost(p);
      return;
    }
    logger.warn('actor write failed; dropping it', { address: act.address, err });
    if (current === fence) {
      this.fences.delete(p);
      void this.fence(p, fence);
    }
    this.drop(act, 'write failed');
  }

  private reply(p: Pending, reply: ActorReply, encoded?: Uint8Array): void {
    try {
      // A result the behaviour encoded already (`encodedReply`, `rememberEncoding`) is spliced in, not encoded again.
      const known = reply.e !== undefined ? undefined : (encoded ?? encodingOf(reply.r));
      const bytes = known !== undefined ? encodeMapOfOne('r', known) : encode(reply);
      if (bytes.byteLength > this.opts.bus.maxPayloadBytes) {
        // The Bus would drop it and the caller wait for its timeout; say so at once instead.
        throw new Error(`a reply of ${bytes.byteLength} bytes exceeds the bus's max payload (${this.opts.bus.maxPayloadBytes})`);
      }
      p.msg.respond(bytes);
    } catch (err) {
      logger.error('actor reply could not be encoded or is too large', { err });
      p.msg.respond(encode({ e: wireError(err, '', p) } satisfies ActorReply));
    }
  }

  private runEffect(effect: Effect): void {
    if (effect.kind === 'publish') {
      try {
        this.opts.bus.publish(effect.subject, effect.data);
      } catch (err) {
        logger.error('publish effect not sent', { subject: effect.subject, bytes: effect.data.byteLength, err });
      }
      return;
    }
    if (effect.kind === 'deliver') {
      try {
        this.opts.bus.publish(deliverySubject(effect.account), deliveryBytes(effect.frame, effect.exclude));
      } catch (err) {
        // A delivery the Bus refuses (too large) is lost, not the effects after it.
        logger.error('delivery not published', { account: effect.account, bytes: effect.frame.byteLength, err });
      }
      return;
    }
    this.startCall(effect);
  }

  /** Whether a call waits in its line behind one on its way. */
  private linesWaiting(): boolean {
    for (const line of this.lines.values()) if (line.waiting !== undefined) return true;
    return false;
  }

  /** Sends a call effect, or, when its line has one on its way, queues it behind that one in place of the one waiting. */
  private startCall(effect: CallEffect): void {
    if (effect.supersede !== undefined && this.defersAt(effect)) {
      // A line would hold the next update until this one is written: the session would trail its messages by that long.
      effect.unlined = true;
    } else if (effect.supersede !== undefined) {
      const id = lineOf(effect);
      const line = this.lines.get(id);
      if (line !== undefined) {
        const replaced = line.waiting;
        if (replaced?.outboxKey !== undefined) line.replaced.push(replaced.outboxKey);
        line.waiting = effect;
        return;
      }
      this.lines.set(id, { waiting: undefined, replaced: [] });
    }
    this.send(effect);
  }

  /** Sends a call now, or, for a `BATCHED` method, after `lingerMs` (or once the actors resolved in this turn ran their effects), together with the others to the same actor. */
  private send(effect: CallEffect): void {
    this.pendingCalls++;
    if (!BATCHED.has(effect.m)) {
      void this.call(effect, 1);
      return;
    }
    const key = `${effect.to}\u0000${effect.m}`;
    const batch = this.batches.get(key);
    if (batch === undefined) this.batches.set(key, [effect]);
    else batch.push(effect);
    if (!this.flushing) {
      this.flushing = true;
      if (this.lingerMs > 0) this.flushTimer = setTimeout(this.flushNow, this.lingerMs);
      else queueMicrotask(this.flushNow);
    }
  }

  /** Whether the actor a call goes to defers the writes of its method (`ActorBehavior.defers`), as this host would. */
  private defersAt(effect: CallEffect): boolean {
    if (this.deferWriteMs === 0) return false;
    const behavior = this.behaviors.get(effect.to.slice(0, effect.to.indexOf(':')));
    return behavior?.defers?.has(effect.m) === true;
  }

  /**
   * The calls of one flush with each unlined call's key left only in its
   * newest: the older ones' outbox rows go once that one is answered.
   */
  private newestOfKeys(effects: CallEffect[]): CallEffect[] {
    let newest: Map<string, CallEffect> | undefined;
    let unlined = 0;
    for (const e of effects) {
      if (e.unlined !== true) continue;
      unlined++;
      (newest ??= new Map()).set(e.supersede!, e);
    }
    if (newest === undefined || newest.size === unlined) return effects;
    const kept: CallEffect[] = [];
    for (const e of effects) {
      const survivor = e.unlined === true ? newest.get(e.supersede!)! : e;
      if (survivor === e) {
        kept.push(e);
        continue;
      }
      const replaced = (survivor.replaced ??= []);
      if (e.outboxKey !== undefined) replaced.push(e.outboxKey);
      if (e.replaced !== undefined) replaced.push(...e.replaced);
      this.pendingCalls--;
    }
    return kept;
  }

  /** Sends the tick's calls of `BATCHED` methods: one call per actor and method (split when large), a lone one as it is. */
  private flushBatches(): void {
    if (!this.flushing) return;
    this.flushing = false;
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    // Calls made while these go out (an answer may come at once) wait for the next tick's flush.
    const batches = this.batches;
    this.batches = new Map();
    const budget = this.opts.bus.maxPayloadBytes - LOG_ENTRY_HEADROOM_BYTES;
    for (const sent of batches.values()) {
      const effects = this.newestOfKeys(sent);
      if (effects.length === 1) {
        void this.call(effects[0]!, 1);
        continue;
      }
      let part: CallEffect[] = [];
      let items: Uint8Array[] = [];
      let bytes = 0;
      for (const effect of effects) {
        const item = argsBytes(effect.a);
        if (part.length > 0 && (part.length >= MAX_CALLS_PER_BATCH || bytes + item.byteLength > budget)) {
          this.sendBatch(part, items);
          part = [];
          items = [];
          bytes = 0;
        }
        part.push(effect);
        items.push(item);
        bytes += item.byteLength;
      }
      this.sendBatch(part, items);
    }
  }

  private sendBatch(effects: CallEffect[], items: Uint8Array[]): void {
    if (effects.length === 1) {
      void this.call(effects[0]!, 1);
      return;
    }
    const batched = BATCHED.get(effects[0]!.m)!;
    const list = effects.map((e) => e.a);
    const a = rememberEncoding({ [batched.member]: list }, encodeMapOfRaw([[batched.member, encodeArrayOfRaw(items)]]));
    void this.callBatch(effects, batched.m, a, 1);
  }

  /** Runs a batched call until it is answered or given up; each of its calls then ends as a call of its own would. */
  private async callBatch(effects: CallEffect[], m: string, a: object, attempt: number): Promise<void> {
    const to = effects[0]!.to;
    try {
      await this.client.callRaw(to, m, a, undefined);
    } catch (err) {
      if (mayRetry(err, 'idempotent') && attempt < CALL_ATTEMPTS) {
        const delay = Math.min(5000, 50 * 2 ** attempt);
        setTimeout(() => void this.callBatch(effects, m, a, attempt + 1), delay).unref();
        return;
      }
      logger.error('actor call effect given up', { to, m, calls: effects.length, attempt, err });
    }
    for (const effect of effects) this.callEnded(effect);
  }

  /** After a call of a line is answered (or given up): the one waiting goes out, or the line ends. */
  private nextOfLine(done: CallEffect): void {
    const id = lineOf(done);
    const line = this.lines.get(id);
    if (line === undefined) return;
    const next = line.waiting;
    if (next === undefined) {
      this.lines.delete(id);
      return;
    }
    line.waiting = undefined;
    if (line.replaced.length > 0) {
      next.replaced = line.replaced;
      line.replaced = [];
    }
    this.send(next);
  }

  /** Runs a call effect until it is answered or given up; `pendingCalls` counts it until then. */
  private async call(effect: CallEffect, attempt: number): Promise<void> {
    try {
      // The answer is not used: its bytes are not decoded.
      await this.client.callRaw(effect.to, effect.m, effect.a, undefined);
    } catch (err) {
      // Call effects are carried at least once: `callEffect` takes only calls declared safe to repeat.
      if (mayRetry(err, 'idempotent') && attempt < CALL_ATTEMPTS) {
        const delay = Math.min(5000, 50 * 2 ** attempt);
        setTimeout(() => void this.call(effect, attempt + 1), delay).unref();
        return;
      }
      logger.error('actor call effect given up', { to: effect.to, m: effect.m, attempt, err });
    }
    this.callEnded(effect);
  }

  /** A call effect was answered (or given up): its outbox rows go, and its line moves on. */
  private callEnded(effect: CallEffect): void {
    if (effect.outboxKey !== undefined) this.noteAnswered(effect.outboxKey);
    if (effect.replaced !== undefined) for (const key of effect.replaced) this.noteAnswered(key);
    this.pendingCalls--;
    if (effect.supersede !== undefined && effect.unlined !== true) this.nextOfLine(effect);
  }

  /**
   * Queues the removal of an answered call's outbox row. Rows are removed
   * together, a moment later, in one transaction of their own: a removal
   * needs no fsync of its own (a row that outlives a crash is a call made
   * again, and calls are idempotent).
   */
  private noteAnswered(key: StoreKey): void {
    this.answered.push(key);
    if (this.cleanup !== undefined) return;
    this.cleanup = setTimeout(() => void this.removeAnswered(), OUTBOX_CLEANUP_MS);
    this.cleanup.unref();
  }

  /** Removes the outbox rows of the calls answered so far. */
  private async removeAnswered(): Promise<void> {
    if (this.cleanup !== undefined) clearTimeout(this.cleanup);
    this.cleanup = undefined;
    const keys = this.answered;
    if (keys.length === 0) return;
    this.answered = [];
    try {
      await this.opts.store.transaction(() => {
        for (const key of keys) void this.outbox.remove(key);
      });
    } catch (err) {
      logger.warn('outbox entries not removed', { rows: keys.length, err });
    }
  }

  /** Forgets an actor; its queued commands go to a fresh activation that reloads from the Log. */
  private drop(act: Activation, reason: string): void {
    if (act.status === 'dead') return;
    act.status = 'dead';
    if (this.actors.get(act.address) === act) this.actors.delete(act.address);
    this.forgetDeferred(act, reason);
    const queued = act.mailbox.splice(0);
    if (queued.length === 0) return;
    if (this.stopping || !this.opts.ownership.owns(act.ctx.partition)) {
      const e = new ParleyError('UNAVAILABLE', `actor ${act.address} moved (${reason}); retry`).toWire();
      for (const p of queued) this.reply(p, { e });
      return;
    }
    const fresh = this.activation(act.address, act.ctx.partition, act.behavior);
    fresh.mailbox.push(...queued);
  }

  /** Deferred events that will not be written: their calls are answered UNAVAILABLE, so their callers make them again (to the actor reloaded from the Log). */
  private forgetDeferred(act: Activation, reason: string): void {
    this.deferring.delete(act);
    const held = act.held;
    act.deferred = [];
    act.deferredEncoded = [];
    act.deferredBytes = 0;
    act.held = [];
    if (held.length === 0) return;
    const e = new ParleyError('UNAVAILABLE', `actor ${act.address} stopped before writing (${reason}); retry`).toWire();
    for (const { p } of held) this.reply(p, { e });
  }

  private fail(act: Activation, err: ParleyError): void {
    act.status = 'dead';
    if (this.actors.get(act.address) === act) this.actors.delete(act.address);
    for (const p of act.mailbox.splice(0)) this.reply(p, { e: err.toWire() });
  }

  private passivateIdle(): void {
    const cutoff = Date.now() - this.opts.actorIdleMs;
    for (const act of this.actors.values()) {
      if (act.status === 'ready' && !act.running && act.mailbox.length === 0 && act.deferred.length === 0 && act.lastUsedMs < cutoff) {
        act.status = 'dead';
        this.actors.delete(act.address);
        this.stats.passivations++;
      }
    }
  }
}
