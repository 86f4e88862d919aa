/**
 * Partition ownership by leases in JetStream KV, for several actor hosts.
 *
 * Two buckets, both with a time-to-live of `leaseTtlMs` on every key:
 *   parley-hosts   one key per live host, rewritten every tick (membership)
 *   parley-leases  `p.<partition>` → {node, since}, created by the owner and
 *                  renewed with compare-and-set on its revision
 *
 * Every host computes the same assignment from the membership (balanced
 * rendezvous hashing: each host gets ⌈P/n⌉ partitions at most, and a
 * partition moves only when its host leaves or becomes over-full). A host
 * takes a partition assigned to it by creating its key, which succeeds only
 * once the previous owner deleted it (graceful handover) or it expired
 * (crash, pause). A host serves a partition only while its own clock says the
 * lease is valid — the renewal's start plus the TTL minus a margin — which is
 * earlier than the server can expire the key, so two hosts never serve one
 * partition at once. Appends are fenced by the Log all the same.
 */
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { hash32 } from '../subjects.ts';
import { logger } from '../logger.ts';
import type { OwnershipListener, PartitionOwnership } from './ownership.ts';
import type { Metrics } from '../metrics.ts';

export const LEASE_BUCKET = 'parley-leases';
export const HOSTS_BUCKET = 'parley-hosts';

export interface LeaseOwnershipOptions {
  nodeId: string;
  partitions: number;
  /** Lease lifetime, ms: how long a crashed host's partitions stay unserved at most (plus one tick). */
  leaseTtlMs: number;
  /** JetStream replicas of the two buckets. Default 1. */
  replicas?: number;
  /** Counts renewals, acquisitions, takeovers, handovers and losses. */
  metrics?: Metrics;
}

/** The value of a lease key. */
export interface Lease {
  node: string;
  since: number;
}

interface Held {
  revision: number;
  /** The renewal of this lease in flight, if any: a tick does not start another, and a handover waits for it. */
  renewal: Promise<void> | undefined;
  /** Local time until which this host may serve the partition. */
  validUntil: number;
}

/**
 * The assignment every host computes alike: partitions in order, each to the
 * live host with the highest hash weight that still has room, so every host
 * ends with ⌊P/n⌋ or ⌈P/n⌉ partitions.
 */
export function assignPartitions(hosts: readonly string[], partitions: number): string[] {
  const sorted = [...new Set(hosts)].sort();
  if (sorted.length === 0) return [];
  // Each host gets ⌊P/n⌋ partitions, and `extra` of them one more.
  const floor = Math.floor(partitions / sorted.length);
  const extra = partitions % sorted.length;
  let overFloor = 0;
  const load = new Map(sorted.map((h) => [h, 0]));
  const owners: string[] = [];
  for (let p = 0; p < partitions; p++) {
    let best: string | undefined;
    let bestWeight = -1;
    for (const h of sorted) {
      const l = load.get(h)!;
      if (l > floor || (l === floor && overFloor >= extra)) continue;
      const w = hash32(`${h}\u0000${p}`);
      if (w > bestWeight) {
        bestWeight = w;
        best = h;
      }
    }
    owners.push(best!);
    const l = load.get(best!)! + 1;
    load.set(best!, l);
    if (l === floor + 1) overFloor++;
  }
  return owners;
}

/** JetStream refused a compare-and-set: the key is not at the revision we hold (or is gone). */
function isRevisionConflict(err: unknown): boolean {
  return /wrong last sequence|key not found|no message found/i.test(String((err as Error)?.message ?? err));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function parseLease(bytes: Uint8Array): Lease | undefined {
  try {
    const v = JSON.parse(decoder.decode(bytes)) as Lease;
    return typeof v?.node === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export class LeaseOwnership implements PartitionOwnership {
  private readonly nc: NatsConnection;
  private readonly opts: LeaseOwnershipOptions;
  private readonly held = new Map<number, Held>();
  /** Local safety margin subtracted from the lease lifetime, ms. */
  private readonly marginMs: number;
  private readonly tickMs: number;
  private leases: KV | undefined;
  private hosts: KV | undefined;
  private listener: OwnershipListener | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The membership round in flight, if any. */
  private round: Promise<void> | undefined;
  /** Renewals in flight. */
  private readonly renewals = new Set<Promise<void>>();
  private stopped = false;
  /** Lease rounds done: an acquisition after the first one is a partition moving here. */
  private rounds = 0;

  constructor(nc: NatsConnection, opts: LeaseOwnershipOptions) {
    this.nc = nc;
    this.opts = opts;
    this.marginMs = Math.max(200, Math.floor(opts.leaseTtlMs / 5));
    this.tickMs = Math.max(100, Math.floor(opts.leaseTtlMs / 4));
  }

  /** Partitions held now. */
  get heldPartitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  async start(listener: OwnershipListener): Promise<void> {
    this.listener = listener;
    const kvm = new Kvm(this.nc);
    // KV calls give up within a tick, so a slow server cannot hold a tick past the leases' lifetime.
    const common = { ttl: this.opts.leaseTtlMs, history: 1, replicas: this.opts.replicas ?? 1, timeout: this.tickMs };
    this.leases = await kvm.create(LEASE_BUCKET, common);
    this.hosts = await kvm.create(HOSTS_BUCKET, common);
    logger.info('partition leases', { bucket: LEASE_BUCKET, ttlMs: this.opts.leaseTtlMs, partitions: this.opts.partitions });
    await this.rebalance(Date.now());
    this.schedule();
  }

  owns(partition: number): boolean {
    const h = this.held.get(partition);
    if (h === undefined) return false;
    if (Date.now() < h.validUntil) return true;
    // Past the local deadline: the key may already be someone else's. Stop at once.
    this.lose(partition, 'lease expired locally');
    return false;
  }

  /** Hands every partition over: stop serving each, then delete its key so another host takes it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.round;
    await Promise.all(this.renewals);
    await Promise.all(this.heldPartitions.map((p) => this.handOver(p)));
    try {
      await this.hosts?.delete(this.opts.nodeId);
    } catch (err) {
      logger.warn('could not remove host from membership', { err });
    }
  }

  /**
   * Every tick renews the held leases, and starts a membership round unless
   * one is still going. The two run apart: listing the hosts takes several
   * JetStream round trips (over a second when the server is busy appending a
   * burst to the Log), and a handover waits for the partition's work, so a
   * renewal that waited for either could come after the lease ran out.
   */
  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      for (const [p, held] of this.held) if (held.renewal === undefined) this.renew(p, held, started);
      if (this.round === undefined) this.round = this.rebalance(started).finally(() => (this.round = undefined));
      this.schedule();
    }, this.tickMs);
  }

  /** A membership round: partitions no longer assigned here are handed over, newly assigned ones taken. */
  private async rebalance(started: number): Promise<void> {
    const live = await this.liveHosts(started);
    if (live === undefined) return;
    const owners = assignPartitions(live, this.opts.partitions);
    const me = this.opts.nodeId;
    const work: Promise<void>[] = [];
    for (let p = 0; p < this.opts.partitions; p++) {
      const mine = owners[p] === me;
      const held = this.held.get(p);
      if (held !== undefined && !mine) work.push(this.handOver(p));
      else if (held === undefined && mine) work.push(this.acquire(p, started));
    }
    await Promise.all(work);
    this.rounds++;
  }

  /** Writes this host's membership key and lists the live hosts; undefined (and logged) when the KV cannot be reached: the round then moves nothing. */
  private async liveHosts(started: number): Promise<string[] | undefined> {
    const hosts = this.hosts!;
    try {
      await hosts.put(this.opts.nodeId, encoder.encode(JSON.stringify({ since: started })));
      const live: string[] = [];
      for await (const key of await hosts.keys()) live.push(key);
      if (!live.includes(this.opts.nodeId)) live.push(this.opts.nodeId);
      return live;
    } catch (err) {
      logger.warn('host membership could not be read; leases are still renewed, partitions stay where they are', { err: String(err) });
      return undefined;
    }
  }

  private key(p: number): string {
    return `p.${p}`;
  }

  private value(): Uint8Array {
    return encoder.encode(JSON.stringify({ node: this.opts.nodeId, since: Date.now() } satisfies Lease));
  }

  private async acquire(p: number, started: number): Promise<void> {
    try {
      const revision = await this.leases!.create(this.key(p), this.value());
      if (this.stopped) {
        await this.leases!.delete(this.key(p), { previousSeq: revision });
        return;
      }
      this.held.set(p, { revision, renewal: undefined, validUntil: started + this.opts.leaseTtlMs - this.marginMs });
      logger.info('partition acquired', { partition: p, takeover: this.rounds > 0 });
      this.opts.metrics?.partitionAcquisitions.inc();
      if (this.rounds > 0) this.opts.metrics?.partitionTakeovers.inc();
      this.listener!.acquired(p);
    } catch {
      // Still held by its previous owner: it hands it over or lets it lapse.
    }
  }

  private renew(p: number, held: Held, started: number): void {
    const renewal = this.renewOnce(p, held, started).finally(() => {
      held.renewal = undefined;
      this.renewals.delete(renewal);
    });
    held.renewal = renewal;
    this.renewals.add(renewal);
  }

  private async renewOnce(p: number, held: Held, started: number): Promise<void> {
    try {
      held.revision = await this.leases!.update(this.key(p), this.value(), held.revision);
      if (this.held.get(p) === held) held.validUntil = started + this.opts.leaseTtlMs - this.marginMs;
      this.opts.metrics?.leaseRenewals.inc();
    } catch (err) {
      this.opts.metrics?.leaseRenewalFailures.inc();
      // A server we cannot reach leaves the lease to run out on the local clock (see owns()). Another
      // revision means the key lapsed and may be someone else's now, unless it still names this host:
      // only this host writes its name into a key it holds, so that is a renewal of its own that timed
      // out here and landed all the same, and the next tick renews from it.
      if (!isRevisionConflict(err)) logger.warn('lease renewal failed', { partition: p, err: String(err) });
      else if (this.held.get(p) === held) {
        const landed = await this.revisionNamingMe(p);
        if (this.held.get(p) !== held) return;
        if (landed !== undefined && landed > held.revision) held.revision = landed;
        else this.lose(p, 'the lease key changed hands');
      }
    }
  }

  /** The lease key's revision when its value names this host; undefined when it names another, is gone, or cannot be read. */
  private async revisionNamingMe(p: number): Promise<number | undefined> {
    try {
      const entry = await this.leases!.get(this.key(p));
      if (entry === null || entry.operation !== 'PUT') return undefined;
      return parseLease(entry.value)?.node === this.opts.nodeId ? entry.revision : undefined;
    } catch {
      return undefined;
    }
  }

  /** Graceful: the host finishes the partition's work before the key is deleted. */
  private async handOver(p: number): Promise<void> {
    const held = this.held.get(p);
    if (held === undefined) return;
    this.held.delete(p);
    try {
      await this.listener!.released(p);
    } catch (err) {
      logger.warn('partition release failed', { partition: p, err });
    }
    // A renewal still on its way would move the revision the delete names.
    await held.renewal;
    try {
      await this.leases!.delete(this.key(p), { previousSeq: held.revision });
      logger.info('partition handed over', { partition: p });
      this.opts.metrics?.partitionHandovers.inc();
    } catch (err) {
      logger.warn('partition key could not be deleted; it will lapse', { partition: p, err: String(err) });
    }
  }

  private lose(p: number, reason: string): void {
    if (!this.held.delete(p)) return;
    logger.warn('partition lost', { partition: p, reason });
    this.opts.metrics?.partitionsLost.inc();
    void Promise.resolve(this.listener?.released(p)).catch((err) => logger.warn('partition release failed', { partition: p, err }));
  }
}
