/**
 * Webhooks while partitions move: one node serves the clients the whole
 * time while two more join and leave (graceful starts and stops, so the
 * partitions' leases pass between three hosts again and again), and six
 * conversations keep sending. A real receiver, answering after a delay
 * that keeps a backlog queued and tries in flight at every move, and the process stalling
 * past the leases' lifetime now and then (every host loses its leases on
 * its own clock and takes them again), gets every message once by
 * id (duplicates only with the same id) and each conversation's messages in
 * order: an event never arrives before the previous one of its conversation.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import { parseConfig } from '../../engine/config.ts';
import { startNode } from '../../engine/node.ts';
import type { RunningNode } from '../../engine/node.ts';
import { TEST_SECRET, tempDir, tokenFor } from '../helpers/engine.ts';
import { useNatsServer } from '../helpers/nats-server.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { waitFor } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';

const HOOK_SECRET = 'webhook-churn-secret';
const PARTITIONS = 8;
const CONVERSATIONS = 6;

/** Blocks the event loop for `ms`. */
function stall(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // a host too busy to run its timers
  }
}

describe('webhooks while partitions move', () => {
  const nats = useNatsServer();
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function node(id: string, url: string): Promise<RunningNode> {
    const dir = tempDir();
    dirs.push(dir);
    return startNode('start', parseConfig({
      PARLEY_PORT: '0',
      PARLEY_HOST: '127.0.0.1',
      PARLEY_DATA_DIR: dir,
      PARLEY_NODE_ID: id,
      PARLEY_NATS_URL: nats().url,
      PARLEY_PARTITIONS: String(PARTITIONS),
      PARLEY_LEASE_TTL_MS: '2000',
      PARLEY_JWT_SECRET: TEST_SECRET,
      PARLEY_LOG_LEVEL: process.env.PARLEY_TEST_LOG_LEVEL ?? 'error',
      PARLEY_WEBHOOK_URL: url,
      PARLEY_WEBHOOK_SECRET: HOOK_SECRET,
      PARLEY_WEBHOOK_RETRY_MIN_MS: '20',
      PARLEY_WEBHOOK_RETRY_MAX_MS: '200',
      PARLEY_WEBHOOK_PUSH: 'false',
    }));
  }

  it('delivers every message once by id and each conversation in order across repeated moves', { timeout: 180_000 }, async () => {
    const hook = await WebhookReceiver.reserve(HOOK_SECRET);
    hook.delayMs = 30;
    await hook.up();
    const stable = await node('churn-a', hook.url);
    const clients: ParleyClient[] = [];
    const churning: RunningNode[] = [];
    try {
      const pairs: [ParleyClient, string][] = [];
      for (let i = 0; i < CONVERSATIONS; i++) {
        const from = freshAccount(`wc${i}a`);
        const to = freshAccount(`wc${i}b`);
        const c = await connect({ url: `ws://127.0.0.1:${stable.port}/v1/ws`, token: await tokenFor(from), WebSocket, reconnect: false });
        clients.push(c);
        pairs.push([c, to]);
      }
      const sent: Message[] = [];
      let sending = true;
      const senders = pairs.map(async ([c, to], i) => {
        for (let k = 0; sending; k++) {
          // A send caught in a stall may time out: it is left out of what must arrive.
          const m = await c.sendText({ scene: 'p2p', to, text: `c${i}-${k}` }).catch(() => undefined);
          if (m !== undefined) sent.push(m);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      });
      // Three hosts, then two, then one, twice over: every partition changes hands several times.
      // Once per round the process stalls past the leases' lifetime (a long pause of a loaded host):
      // every host here loses its leases on its own clock and takes them again.
      for (let round = 0; round < 2; round++) {
        for (const id of ['churn-b', 'churn-c']) {
          churning.push(await node(`${id}-${round}`, hook.url));
          await new Promise((resolve) => setTimeout(resolve, 2500));
        }
        stall(2300);
        await new Promise((resolve) => setTimeout(resolve, 2500));
        for (const n of churning.splice(0)) {
          await n.stop();
          await new Promise((resolve) => setTimeout(resolve, 2500));
        }
      }
      sending = false;
      await Promise.all(senders);
      expect(sent.length).toBeGreaterThan(CONVERSATIONS * 20);

      const sentIds = (): Set<string> => new Set(hook.unique().filter((e) => e.type === 'msg.sent').map((e) => (e.data as Message).idServer));
      await waitFor('every message event', () => {
        const got = sentIds();
        return sent.every((m) => got.has(m.idServer));
      }, 60_000);
      expect(hook.badSignatures).toBe(0);
      // Each once by id, and first arrivals of each conversation in seq order.
      const events = hook.unique().filter((e) => e.type === 'msg.sent');
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      const byConversation = new Map<string, number[]>();
      for (const e of events) {
        const m = e.data as Message;
        const key = [m.from, m.to].sort().join('|');
        byConversation.set(key, [...(byConversation.get(key) ?? []), m.seq]);
      }
      expect(byConversation.size).toBe(CONVERSATIONS);
      const outOfOrder = [...byConversation.values()].reduce((n, seqs) => n + seqs.filter((s, j) => j > 0 && s < seqs[j - 1]!).length, 0);
      expect(outOfOrder).toBe(0);
    } finally {
      await Promise.all(clients.map((c) => c.destroy().catch(() => {})));
      for (const n of churning) await n.stop().catch(() => {});
      await stable.stop();
      await hook.down();
    }
  });
});
