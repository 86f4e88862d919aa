/**
 * Supergroup fan-out across a cluster: a supergroup of 2,000 members, 500
 * of them online spread over two edges, two senders (one on each edge).
 * Every online member gets every message exactly once and in `seq` order,
 * and each edge receives each message once on the group's subject (its
 * `parley_group_bus_messages_total`), whatever its number of members.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import { tokenFor } from '../helpers/engine.ts';
import { sample, scrape } from '../helpers/promtool.ts';
import { startTestCluster, until } from './harness.ts';

const MEMBERS = 2_000;
const ONLINE = 500;
const MESSAGES_PER_SENDER = 15;
const BATCH = 200;
const CONNECT_CONCURRENCY = 25;

describe('cluster: supergroup fan-out over two edges', () => {
  it('gives every online member every message once and in seq order, one Bus message per edge', { timeout: 150_000 }, async () => {
    const cluster = await startTestCluster({ leaseTtlMs: 15_000, env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true', PARLEY_LOG_LEVEL: 'warn' }, roleEnv: { edge: { PARLEY_REQUEST_TIMEOUT_MS: '60000' } } });
    const t0 = Date.now();
    const step = (what: string) => console.log(`${what} at ${Date.now() - t0} ms`);
    const tag = `stf${Date.now().toString(36)}`;
    const member = (i: number) => `${tag}-m${i}`;
    const clients: ParleyClient[] = [];
    cluster.defer(async () => {
      await Promise.all(clients.map((c) => c.disconnect().catch(() => {})));
    });
    const open = async (account: string, url: string): Promise<ParleyClient> => {
      const c = await connect({ url, token: await tokenFor(account), WebSocket, requestTimeoutMs: 60_000 });
      clients.push(c);
      await c.synced;
      return c;
    };

    // Member 0 owns it and sends on edge 1; member 1 sends on edge 2.
    const owner = await open(member(0), cluster.urls[0]!);
    const { team } = await owner.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: Array.from({ length: BATCH - 1 }, (_, i) => member(i + 1)) });
    for (let from = BATCH; from < MEMBERS; from += BATCH) {
      await owner.addSuperTeamMembers({ teamId: team.teamId, accounts: Array.from({ length: Math.min(BATCH, MEMBERS - from) }, (_, i) => member(from + i)) });
      step(`${from + BATCH} members`);
    }
    expect((await owner.getSuperTeam({ teamId: team.teamId })).memberNum).toBe(MEMBERS);
    step('members added');

    // Members 1 … ONLINE-1 online, alternating edges; each records the supergroup's texts.
    const got = new Map<string, Message[]>();
    const online: ParleyClient[] = [owner];
    got.set(member(0), []);
    let next = 1;
    await Promise.all(
      Array.from({ length: CONNECT_CONCURRENCY }, async () => {
        while (next < ONLINE) {
          const i = next++;
          const account = member(i);
          const seen: Message[] = [];
          got.set(account, seen);
          const c = await open(account, cluster.urls[i % 2]!);
          c.on('msg', (m: Message) => {
            if (m.scene === 'superTeam' && m.to === team.teamId && m.type === 'text') seen.push(m);
          });
          online[i] = c;
        }
      }),
    );
    owner.on('msg', (m: Message) => {
      if (m.scene === 'superTeam' && m.to === team.teamId && m.type === 'text') got.get(member(0))!.push(m);
    });

    step('members online');
    const busBefore = await Promise.all(cluster.edges.map(async (e) => sample(await scrape(e.port), 'parley_group_bus_messages_total') ?? 0));
    // Two senders on the two edges, interleaved: the group orders them by seq.
    const senders = [owner, online[1]!];
    const sent: Message[] = [];
    await Promise.all(
      senders.map(async (c, s) => {
        for (let k = 0; k < MESSAGES_PER_SENDER; k++) sent.push(await c.sendText({ scene: 'superTeam', to: team.teamId, text: `s${s}-${k}` }));
      }),
    );
    step('sent');
    const seqs = sent.map((m) => m.seq).sort((a, b) => a - b);
    const total = sent.length;

    // The senders get the other sender's messages only; everyone else every message.
    const owed = (account: string) => total - (account === member(0) || account === member(1) ? MESSAGES_PER_SENDER : 0);
    await until(
      'every online member to get every message',
      () => ([...got.entries()].every(([account, seen]) => seen.length >= owed(account)) ? true : undefined),
      30_000,
      () => {
        const short = [...got.entries()].filter(([account, seen]) => seen.length < owed(account));
        return `${short.length} members short, e.g. ${short.slice(0, 3).map(([a, s]) => `${a}: ${s.length} of ${owed(a)}, seqs ${s.map((m) => m.seq).join(',')}`).join('; ')}`;
      },
    );
    step('delivered');
    const problems: string[] = [];
    for (const [account, seen] of got) {
      const own = account === member(0) ? 's0-' : account === member(1) ? 's1-' : undefined;
      const expected = own === undefined ? seqs : sent.filter((m) => !m.text!.startsWith(own)).map((m) => m.seq).sort((a, b) => a - b);
      const order = seen.map((m) => m.seq);
      if (JSON.stringify(order) !== JSON.stringify(expected)) problems.push(`${account} got seqs ${order.join(',')}, expected ${expected.join(',')}`);
      if (seen.some((m) => m.flow !== 'in')) problems.push(`${account} got a message of another sender as flow out`);
    }
    expect(problems.slice(0, 5)).toEqual([]);

    // Each edge received each message once on the group subject, however many of the 500 it holds.
    const busAfter = await Promise.all(cluster.edges.map(async (e) => sample(await scrape(e.port), 'parley_group_bus_messages_total') ?? 0));
    const perEdge = busAfter.map((n, i) => n - busBefore[i]!);
    console.log(`supergroup of ${MEMBERS}, ${ONLINE} online over ${cluster.edges.length} edges: ${total} messages, group-subject Bus messages received per edge ${perEdge.join(', ')} (${perEdge.reduce((a, b) => a + b, 0) / total} per message)`);
    expect(perEdge).toEqual(cluster.edges.map(() => total));
  });
});
