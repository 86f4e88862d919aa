/**
 * Crash durability: kill -9 the engine right after its acknowledgements,
 * restart it on the same data (and the same NATS server), and every
 * acknowledged message is in history exactly once, with `seq` continuing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import { spawnEngine, tempDir, tokenFor, type SpawnedEngine } from '../helpers/engine.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.ts';

type Mode = { name: 'embedded' | 'nats' };

async function allHistory(c: ParleyClient, to: string): Promise<Message[]> {
  const out: Message[] = [];
  let page = (await c.getHistoryMsgs({ scene: 'p2p', to, limit: 100, reverse: true, asc: true })).msgs;
  while (page.length > 0) {
    out.push(...page);
    const last = page[page.length - 1]!;
    page = (await c.getHistoryMsgs({ scene: 'p2p', to, limit: 100, reverse: true, asc: true, beginTime: last.time, lastMsgId: last.idServer })).msgs;
  }
  return out;
}

describe.each<Mode>([{ name: 'embedded' }, { name: 'nats' }])('kill -9 durability ($name)', ({ name }) => {
  let nats: NatsServer | undefined;
  let dataDir: string;
  const engines: SpawnedEngine[] = [];
  const clients: ParleyClient[] = [];

  beforeAll(async () => {
    if (name === 'nats') nats = await startNatsServer({ jetstream: true });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.destroy().catch(() => {})));
    await Promise.all(engines.splice(0).map((e) => e.kill('SIGKILL')));
    rmSync(dataDir, { recursive: true, force: true });
  });

  afterAll(async () => {
    await nats?.stop();
  });

  async function start(): Promise<SpawnedEngine> {
    const e = await spawnEngine({ dataDir, ...(nats ? { natsUrl: nats.url } : {}) });
    engines.push(e);
    return e;
  }

  it('keeps every acknowledged message exactly once and continues seq', async () => {
    dataDir = tempDir();
    const alice = `alice-${name}`;
    const bob = `bob-${name}`;
    let engine = await start();
    const a = await connect({ url: engine.url, token: await tokenFor(alice), WebSocket, reconnect: false });
    clients.push(a);

    // Keep sends in flight continuously and kill the engine mid-stream.
    const acked: Message[] = [];
    const inFlight = new Set<Promise<unknown>>();
    let i = 0;
    while (acked.length < 300) {
      while (inFlight.size < 32) {
        const p: Promise<unknown> = a
          .sendText({ scene: 'p2p', to: bob, text: `m${i}`, idClient: `c${i}` })
          .then((m) => acked.push(m))
          .catch(() => {})
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
        i++;
      }
      await Promise.race(inFlight);
    }
    engine.process.kill('SIGKILL');
    await engine.exited;
    await Promise.allSettled([...inFlight]);
    const ackedIds = new Set(acked.map((m) => m.idServer));
    expect(ackedIds.size).toBe(acked.length);

    engine = await start();
    const again = await connect({ url: engine.url, token: await tokenFor(alice), WebSocket, reconnect: false });
    clients.push(again);
    const history = await allHistory(again, bob);
    const seqs = history.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: history.length }, (_, k) => k + 1));
    const ids = history.map((m) => m.idServer);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ackedIds) expect(ids).toContain(id);
    // Each idClient appears once: nothing was written twice.
    const idClients = history.map((m) => m.idClient);
    expect(new Set(idClients).size).toBe(idClients.length);

    const next = await again.sendText({ scene: 'p2p', to: bob, text: 'after the crash' });
    expect(next.seq).toBe(history.length + 1);
    // A resend of an acknowledged message after the crash returns the original.
    const resent = await again.sendText({ scene: 'p2p', to: bob, text: 'm0', idClient: acked[0]!.idClient });
    expect(resent.idServer).toBe(acked[0]!.idServer);
  });
});
