/**
 * Continuous load from SDK clients: pairs of accounts writing to each other,
 * the first of each pair logged in on the first edge and the second on the
 * second (each client lists every edge, so it fails over). Every client keeps
 * up to `window` sends in flight and records what was acknowledged, what
 * failed (by error name) and what it received. A failed send is retried with
 * the same `idClient` (`resend: true`), as an application would, so that a
 * message is either acknowledged once or still unresolved when the load stops.
 */
import WebSocket from 'ws';
import { SendError, createClient } from '../../client/index.ts';
import type { Message, ParleyClient } from '../../client/index.ts';
import { p2pAddress } from '../../engine/subjects.ts';
import { tokenFor } from '../helpers/engine.ts';
import { until } from './harness.ts';

/** Errors a send may meet while a partition changes hands; the load retries them with the same idClient. */
export const RETRYABLE_ERRORS: readonly string[] = ['UNAVAILABLE', 'TIMEOUT'];

/**
 * Edge environment for loads that must meet resends queued beside their
 * originals: a send's budget at the edge is 750 ms and each attempt gets a
 * third of it (at least 250 ms), so an actor activation or append slower
 * than that has the edge send the command again while the first copy still
 * waits in the actor's mailbox.
 */
export const SHORT_ATTEMPT_EDGE_ENV: Readonly<Record<string, string>> = { PARLEY_REQUEST_TIMEOUT_MS: '750' };

export interface LoadOptions {
  /** Edge WebSocket URLs; the first client of a pair starts on urls[0], the second on urls[1 % n]. */
  urls: readonly string[];
  /** Account pairs writing to each other. */
  pairs: ReadonlyArray<readonly [string, string]>;
  /** Sends in flight per client. Default 4. */
  window?: number;
  /** The SDK's request timeout, ms. Default 10000. */
  requestTimeoutMs?: number;
  /** Pause of a client's slot after a failed send before the retry, ms. Default 100. */
  retryDelayMs?: number;
  /** Least time between the starts of two sends (new or retried) of one client, ms. Default 0. */
  minGapMs?: number;
}

/** An acknowledged send. */
export interface Ack {
  /** Position of the message in its sender's sequence (0, 1, 2, …). */
  n: number;
  msg: Message;
  /** Date.now() when the acknowledgement arrived. */
  at: number;
  /** Sends of this idClient so far (1 = first try). */
  attempt: number;
}

export interface Failure {
  account: string;
  idClient: string;
  /** Error name (UNAVAILABLE, TIMEOUT, …). */
  name: string;
  message: string;
  at: number;
}

/** One client of the load. */
export class LoadClient {
  readonly account: string;
  readonly peer: string;
  /** Conversation actor address, `conv:<a>|<b>`. */
  readonly address: string;
  readonly client: ParleyClient;
  readonly acked: Ack[] = [];
  readonly failures: Failure[] = [];
  /** Messages from the peer, in arrival order (`msg` and `offlinemsgs`, after the SDK's deduplication). */
  readonly received: Message[] = [];
  readonly receivedIds = new Set<string>();
  /** Logins of this client: first connect and every reconnect. */
  readonly connects: { url: string; at: number }[] = [];
  /** idClients sent whose outcome is not known (in flight, or failed and not yet retried). */
  readonly unresolved = new Set<string>();
  /** idClient → idServer of every acknowledgement (a resend must return the original). */
  readonly idServerOf = new Map<string, string>();
  inFlight = 0;
  next = 0;
  readonly retries: number[] = [];
  readonly attempts = new Map<number, number>();
  /** Date.now() of the latest send start, for `minGapMs`. */
  lastStart = 0;
  /** Set while the next send waits out `minGapMs`. */
  gapTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(account: string, peer: string, client: ParleyClient) {
    this.account = account;
    this.peer = peer;
    this.address = p2pAddress(account, peer);
    this.client = client;
  }

  idClient(n: number): string {
    return `${this.account}.${n}`;
  }

  /**
   * Sends message `n` (again, with `resend: true`, when it was sent before)
   * through `via` and records the outcome; resolves true when acknowledged.
   * A failed message is left for the caller to retry.
   */
  async send(via: ParleyClient, n: number): Promise<boolean> {
    const attempt = (this.attempts.get(n) ?? 0) + 1;
    this.attempts.set(n, attempt);
    const idClient = this.idClient(n);
    this.unresolved.add(idClient);
    try {
      const msg = await via.sendText({ scene: 'p2p', to: this.peer, text: `${this.account} #${n}`, idClient, ...(attempt > 1 ? { resend: true } : {}) });
      this.unresolved.delete(idClient);
      this.attempts.delete(n);
      this.acked.push({ n, msg, at: Date.now(), attempt });
      const before = this.idServerOf.get(idClient);
      if (before !== undefined && before !== msg.idServer) {
        this.failures.push({ account: this.account, idClient, name: 'DUPLICATE', message: `acknowledged as ${before} and as ${msg.idServer}`, at: Date.now() });
      }
      this.idServerOf.set(idClient, msg.idServer);
      return true;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.failures.push({ account: this.account, idClient, name: e.name, message: e.message, at: Date.now() });
      // The SDK hands back what to resend: the same idClient, whatever went wrong.
      if (!(err instanceof SendError) || err.idClient !== idClient) {
        const got = err instanceof SendError ? `idClient ${err.idClient}` : 'no SendError';
        this.failures.push({ account: this.account, idClient, name: 'NOT_RESENDABLE', message: `failed send carries ${got}`, at: Date.now() });
      }
      return false;
    }
  }

  /**
   * Sends each of `acks` again through `via` (same idClient, `resend: true`),
   * as after a TIMEOUT or UNAVAILABLE answer, and returns how the answers
   * differ from the acknowledgements: a resend gets the stored message back.
   */
  async resendProblems(via: ParleyClient, acks: readonly Ack[]): Promise<string[]> {
    const problems: string[] = [];
    for (const ack of acks) {
      const idClient = this.idClient(ack.n);
      try {
        const msg = await via.sendText({ scene: 'p2p', to: this.peer, text: `${this.account} #${ack.n}`, idClient, resend: true });
        if (msg.idServer !== ack.msg.idServer || msg.seq !== ack.msg.seq || msg.time !== ack.msg.time) {
          problems.push(`${idClient}: acknowledged as ${ack.msg.idServer}/seq ${ack.msg.seq}, resent as ${msg.idServer}/seq ${msg.seq}`);
        }
      } catch (err) {
        problems.push(`${idClient}: resend failed: ${err instanceof Error ? `${err.name} ${err.message}` : String(err)}`);
      }
    }
    return problems;
  }

  /** Acknowledgements that arrived after `t` (Date.now() time). */
  ackedAfter(t: number): Ack[] {
    return this.acked.filter((a) => a.at > t);
  }

  /** The peer's acknowledged messages this client has not received. */
  missingFrom(peer: LoadClient): Ack[] {
    return peer.acked.filter((a) => !this.receivedIds.has(a.msg.idServer));
  }
}

export class Load {
  readonly clients: LoadClient[];
  /** [first, second] of each pair; both write in the same conversation. */
  readonly pairs: [LoadClient, LoadClient][];
  private readonly window: number;
  private readonly retryDelayMs: number;
  private readonly requestTimeoutMs: number;
  private readonly minGapMs: number;
  private readonly devices: ParleyClient[] = [];
  private readonly urls: readonly string[];
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();
  private destroyed: Promise<void> | undefined;

  private constructor(pairs: [LoadClient, LoadClient][], opts: LoadOptions) {
    this.pairs = pairs;
    this.urls = opts.urls;
    this.clients = pairs.flat();
    this.window = opts.window ?? 4;
    this.retryDelayMs = opts.retryDelayMs ?? 100;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.minGapMs = opts.minGapMs ?? 0;
  }

  /** Connects every client (each waits for its login sync) and starts sending. */
  static async start(opts: LoadOptions): Promise<Load> {
    const urls = opts.urls;
    if (urls.length === 0) throw new Error('load: no edge URLs');
    const made: ParleyClient[] = [];
    const open = async (account: string, peer: string, first: number): Promise<LoadClient> => {
      const client = createClient({
        urls: [...urls.slice(first), ...urls.slice(0, first)],
        token: () => tokenFor(account),
        WebSocket,
        requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
        backoff: { initialMs: 50, maxMs: 500 },
      });
      made.push(client);
      const lc = new LoadClient(account, peer, client);
      const note = (m: Message) => {
        if (m.from !== peer) return;
        lc.received.push(m);
        lc.receivedIds.add(m.idServer);
      };
      client.on('msg', note);
      client.on('offlinemsgs', (o) => o.msgs.forEach(note));
      client.on('connect', (c) => lc.connects.push({ url: c.url, at: Date.now() }));
      await client.connect();
      await client.waitForSync(15_000);
      return lc;
    };
    let pairs: [LoadClient, LoadClient][];
    try {
      pairs = await Promise.all(
        opts.pairs.map(async ([a, b]) => [await open(a, b, 0), await open(b, a, 1 % urls.length)] as [LoadClient, LoadClient]),
      );
    } catch (err) {
      await Promise.all(made.map((c) => c.destroy().catch(() => {})));
      throw err;
    }
    const load = new Load(pairs, opts);
    load.running = true;
    for (const c of load.clients) load.pump(c);
    return load;
  }

  private pump(c: LoadClient): void {
    while (this.running && c.inFlight < this.window) {
      const wait = c.lastStart + this.minGapMs - Date.now();
      if (wait > 0) {
        c.gapTimer ??= setTimeout(() => {
          c.gapTimer = undefined;
          this.pump(c);
        }, wait);
        return;
      }
      c.lastStart = Date.now();
      const retry = c.retries.shift();
      const n = retry ?? c.next++;
      c.inFlight++;
      const p: Promise<void> = c
        .send(c.client, n)
        .then((ok) => {
          if (ok) return undefined;
          c.retries.push(n);
          return new Promise<void>((done) => setTimeout(done, this.retryDelayMs));
        })
        .finally(() => {
          c.inFlight--;
          this.inFlight.delete(p);
          this.pump(c);
        });
      this.inFlight.add(p);
    }
  }

  /**
   * Logs in a second device of `c`'s account on `url` (and waits for its
   * sync), for `probe()`. Closed by `destroy()`.
   */
  async addDevice(c: LoadClient, url: string): Promise<ParleyClient> {
    const device = createClient({ url, token: () => tokenFor(c.account), WebSocket, requestTimeoutMs: this.requestTimeoutMs, backoff: { initialMs: 50, maxMs: 500 } });
    this.devices.push(device);
    await device.connect();
    await device.waitForSync(15_000);
    return device;
  }

  /**
   * Sends new messages of `c` from `device`, one at a time (a failed one is
   * retried), until one is acknowledged or `timeoutMs` has passed; resolves
   * with that acknowledgement. Recorded like the load's own sends.
   */
  async probe(c: LoadClient, device: ParleyClient, timeoutMs: number): Promise<Ack> {
    const deadline = Date.now() + timeoutMs;
    const n = c.next++;
    while (Date.now() < deadline) {
      // The load's own sends to `c` may be acknowledged meanwhile: pick the probe's own acknowledgement.
      if (await c.send(device, n)) return [...c.acked].reverse().find((a) => a.n === n)!;
      await new Promise((done) => setTimeout(done, Math.min(this.retryDelayMs, Math.max(0, deadline - Date.now()))));
    }
    c.retries.push(n);
    throw new Error(`probe of ${c.address}: no send acknowledged within ${timeoutMs} ms; failures: ${JSON.stringify(c.failures.slice(-3))}`);
  }

  /**
   * For the first client of every pair, a device on the edge the pair's
   * other client started on resends the client's retried sends (its last
   * `perClient`) and its latest one; returns the problems (see
   * `LoadClient.resendProblems`) and how many were resent. Call after `stop()`.
   */
  async resendThroughOtherEdge(perClient = 5): Promise<{ problems: string[]; resends: number }> {
    const problems: string[] = [];
    let resends = 0;
    for (const [a] of this.pairs) {
      if (a.acked.length === 0) continue;
      const device = await this.addDevice(a, this.urls[1 % this.urls.length]!);
      const acks = [...a.acked.filter((x) => x.attempt > 1).slice(-perClient), a.acked[a.acked.length - 1]!];
      resends += acks.length;
      problems.push(...(await a.resendProblems(device, acks)));
    }
    return { problems, resends };
  }

  /** Acknowledged sends that took more than one attempt. */
  get retriedAckCount(): number {
    return this.clients.reduce((n, c) => n + c.acked.filter((x) => x.attempt > 1).length, 0);
  }

  /** Every failure of every client, oldest first. */
  failures(): Failure[] {
    return this.clients.flatMap((c) => c.failures).sort((x, y) => x.at - y.at);
  }

  /** Failures other than `retryable` ones (default RETRYABLE_ERRORS), as `account idClient: NAME message`. */
  unexpectedFailures(retryable: readonly string[] = RETRYABLE_ERRORS): string[] {
    return this.failures()
      .filter((f) => !retryable.includes(f.name))
      .map((f) => `${f.account} ${f.idClient}: ${f.name} ${f.message}`);
  }

  /** Failures grouped by error name: `{UNAVAILABLE: 3}`. */
  failureCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of this.failures()) out[f.name] = (out[f.name] ?? 0) + 1;
    return out;
  }

  get ackCount(): number {
    return this.clients.reduce((sum, c) => sum + c.acked.length, 0);
  }

  /**
   * Waits until each of `clients` (default all) has at least `count`
   * acknowledgements that arrived after `since` (Date.now() time; default 0).
   */
  async waitForAcks(count: number, opts: { since?: number; clients?: LoadClient[]; timeoutMs?: number } = {}): Promise<void> {
    const clients = opts.clients ?? this.clients;
    const since = opts.since ?? 0;
    await until(
      `${count} acknowledged sends per client${since > 0 ? ' since ' + new Date(since).toISOString() : ''}`,
      () => (clients.every((c) => c.ackedAfter(since).length >= count) ? true : undefined),
      opts.timeoutMs ?? 20_000,
      () => `acks: ${clients.map((c) => `${c.account}=${c.ackedAfter(since).length}`).join(' ')}; failures: ${JSON.stringify(this.failureCounts())}`,
    );
  }

  /** Stops starting sends (failed ones are not retried either); those in flight go on. */
  halt(): void {
    this.running = false;
  }

  /** Sends in flight now, over every client. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Stops starting sends and waits for those in flight (each ends by the SDK's request timeout). */
  async stop(): Promise<void> {
    this.running = false;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** `stop()`, then closes every client. Idempotent. */
  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      this.running = false;
      await Promise.all([...this.clients.map((c) => c.client), ...this.devices].map((c) => c.destroy().catch(() => {})));
      await Promise.allSettled([...this.inFlight]);
    })();
    return this.destroyed;
  }
}

export function startLoad(opts: LoadOptions): Promise<Load> {
  return Load.start(opts);
}

/**
 * Account pairs whose conversations are spread over the actor hosts:
 * `perHost` pairs on the partitions of each of `hosts`, per the lease table.
 * Names are `<prefix>-a<k>` / `<prefix>-b<k>`.
 */
export function pairsOwnedBy(
  leases: ReadonlyMap<number, { node: string }>,
  partitionOf: (address: string) => number,
  hosts: readonly string[],
  perHost: number,
  prefix: string,
): { pairs: [string, string][]; ownerOf: Map<string, string> } {
  const wanted = new Map(hosts.map((h) => [h, perHost]));
  const pairs: [string, string][] = [];
  const ownerOf = new Map<string, string>();
  for (let k = 0; k < 10_000 && [...wanted.values()].some((n) => n > 0); k++) {
    const a = `${prefix}-a${k}`;
    const b = `${prefix}-b${k}`;
    const address = p2pAddress(a, b);
    const owner = leases.get(partitionOf(address))?.node;
    if (owner === undefined || (wanted.get(owner) ?? 0) === 0) continue;
    wanted.set(owner, wanted.get(owner)! - 1);
    pairs.push([a, b]);
    ownerOf.set(address, owner);
  }
  if ([...wanted.values()].some((n) => n > 0)) throw new Error(`no conversations found on every host of ${hosts.join(', ')}`);
  return { pairs, ownerOf };
}
