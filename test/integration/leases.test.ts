/**
 * Partition leases in JetStream KV with real nats-server: even division,
 * rebalancing on join and graceful leave, takeover after a host vanishes,
 * and never two holders of one partition.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { LEASE_BUCKET, LeaseOwnership, parseLease } from '../../engine/actor/lease-ownership.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { waitFor } from '../helpers/wait.ts';

const PARTITIONS = 16;
const TTL = 1000;

interface Host {
  ownership: LeaseOwnership;
  nc: NatsConnection;
  held: Set<number>;
  /** Partitions released, in order, moves and losses alike. */
  releases: number[];
}

let nats: NatsServer;
const hosts: Host[] = [];
/** Partition → holders right now, across every host of the test: must never exceed one. */
const holders = new Map<number, Set<string>>();
let doubleHeld = 0;

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
});
afterAll(async () => {
  await nats?.stop();
});
afterEach(async () => {
  for (const h of hosts.splice(0)) {
    await h.ownership.stop().catch(() => {});
    await h.nc.close();
  }
  // Fresh buckets per test.
  const nc = await connect({ servers: nats.url });
  const kvm = new Kvm(nc);
  for (const b of ['parley-leases', 'parley-hosts']) await (await kvm.open(b)).destroy().catch(() => {});
  await nc.close();
  holders.clear();
  doubleHeld = 0;
});

async function host(name: string): Promise<Host> {
  const nc = await connect({ servers: nats.url });
  const ownership = new LeaseOwnership(nc, { nodeId: name, partitions: PARTITIONS, leaseTtlMs: TTL });
  const held = new Set<number>();
  const releases: number[] = [];
  await ownership.start({
    acquired(p) {
      held.add(p);
      const set = holders.get(p) ?? new Set();
      set.add(name);
      holders.set(p, set);
      if (set.size > 1) doubleHeld++;
    },
    released(p) {
      releases.push(p);
      held.delete(p);
      holders.get(p)?.delete(name);
    },
  });
  const h = { ownership, nc, held, releases };
  hosts.push(h);
  return h;
}

describe('partition leases', () => {
  it('one host takes every partition; a second one gets half, handed over without overlap', async () => {
    const a = await host('a');
    expect(a.held.size).toBe(PARTITIONS);
    const b = await host('b');
    await waitFor('an even split', () => a.held.size === PARTITIONS / 2 && b.held.size === PARTITIONS / 2, 10_000);
    expect(doubleHeld).toBe(0);
    for (let p = 0; p < PARTITIONS; p++) expect(a.ownership.owns(p) !== b.ownership.owns(p)).toBe(true);

    // The lease keys name the holders.
    const kv = await new Kvm(a.nc).open(LEASE_BUCKET);
    for (let p = 0; p < PARTITIONS; p++) {
      const entry = await kv.get(`p.${p}`);
      expect(parseLease(entry!.value)?.node).toBe(a.held.has(p) ? 'a' : 'b');
    }
  });

  it('a graceful leave hands everything over at once', async () => {
    const a = await host('a');
    const b = await host('b');
    await waitFor('an even split', () => a.held.size === PARTITIONS / 2 && b.held.size === PARTITIONS / 2, 10_000);
    const started = Date.now();
    await b.ownership.stop();
    await waitFor('a to hold everything', () => a.held.size === PARTITIONS, 10_000);
    // Well under a lease lifetime: the keys were deleted, not left to lapse.
    expect(Date.now() - started).toBeLessThan(TTL);
    expect(doubleHeld).toBe(0);
  });

  it('keeps a partition whose renewal timed out but reached the server all the same', async () => {
    const a = await host('a');
    const kv = await new Kvm(a.nc).open(LEASE_BUCKET);
    // What a renewal that gave up waiting leaves behind: the key moved on, still naming its holder.
    // (Read and written again if a's own renewal came in between.)
    let landed = 0;
    for (let attempt = 0; landed === 0 && attempt < 10; attempt++) {
      const before = (await kv.get('p.3'))!;
      landed = await kv.update('p.3', before.value, before.revision).catch(() => 0);
    }
    expect(landed).toBeGreaterThan(0);
    await waitFor('a renewal from the landed revision', async () => ((await kv.get('p.3'))?.revision ?? 0) > landed, 10_000);
    expect(a.ownership.owns(3)).toBe(true);
    expect(a.held.has(3)).toBe(true);
    expect(parseLease((await kv.get('p.3'))!.value)?.node).toBe('a');
    // Kept all along, not lost and taken again once the key lapsed.
    expect(a.releases).toEqual([]);
  });

  it('takes over the partitions of a host that vanished once its leases lapse', async () => {
    const a = await host('a');
    const b = await host('b');
    await waitFor('an even split', () => a.held.size === PARTITIONS / 2 && b.held.size === PARTITIONS / 2, 10_000);
    // b's connection dies without a word (as with kill -9).
    const started = Date.now();
    hosts.splice(hosts.indexOf(b), 1);
    await b.nc.close();
    await waitFor('a to hold everything', () => a.held.size === PARTITIONS, 10_000);
    const took = Date.now() - started;
    expect(took).toBeLessThan(3 * TTL);
    // b's local clock says its leases are gone by now.
    for (let p = 0; p < PARTITIONS; p++) expect(b.ownership.owns(p)).toBe(false);
    await b.ownership.stop().catch(() => {});
  });
});
