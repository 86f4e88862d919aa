/**
 * Webhooks across kill -9: the engine is killed while a backlog of events
 * is being delivered, started again on the same data (and NATS server), and
 * the receiver still gets every event (duplicates only with the same id),
 * each conversation's in order.
 */
import { expect, it } from 'vitest';
import type { Message } from '../../engine/protocol/methods.ts';
import type { EngineOptions } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useCrashableEngines } from '../helpers/crashable-engines.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { freshAccount } from '../helpers/accounts.ts';

const HOOK_SECRET = 'webhook-durability-secret';
const MESSAGES = 120;

describeBothModes('webhooks across kill -9', ({ engineOptions }) => {
  let hookUrl = '';
  const { start, client } = useCrashableEngines(<T extends EngineOptions>(o?: T) =>
    engineOptions({ ...(o as T), env: { ...o?.env, PARLEY_WEBHOOK_URL: hookUrl, PARLEY_WEBHOOK_SECRET: HOOK_SECRET, PARLEY_WEBHOOK_RETRY_MIN_MS: '20', PARLEY_WEBHOOK_RETRY_MAX_MS: '200' } }),
  );

  it('loses no event of a backlog in delivery', { timeout: 90_000 }, async () => {
    const hook = await WebhookReceiver.reserve(HOOK_SECRET);
    hookUrl = hook.url;
    try {
      let engine = await start();
      const alice = freshAccount('alice');
      const bob = freshAccount('bob');
      const a = await client(engine, alice);
      const sent: Message[] = [];
      // The receiver is down while the backlog builds: everything is in the Log, nothing delivered.
      for (let i = 0; i < MESSAGES; i++) sent.push(await a.sendText({ scene: 'p2p', to: i % 2 === 0 ? bob : `${bob}c`, text: `m${i}` }));
      hook.delayMs = 5;
      await hook.up();
      await waitFor('part of the backlog delivered', () => hook.unique().filter((e) => e.type === 'msg.sent').length >= 20, 20_000);
      engine.process.kill('SIGKILL');
      await engine.exited;
      const before = hook.unique().filter((e) => e.type === 'msg.sent').length;
      expect(before).toBeLessThan(MESSAGES);

      engine = await start();
      const ids = () => new Set(hook.unique().filter((e) => e.type === 'msg.sent').map((e) => (e.data as Message).idServer));
      await waitFor('every message event after the restart', () => sent.every((m) => ids().has(m.idServer)), 40_000);
      expect(hook.badSignatures).toBe(0);
      // Duplicates carry the same id, and the same data.
      const byId = new Map<string, string>();
      for (const e of hook.accepted) {
        const body = JSON.stringify(e.data);
        expect(byId.get(e.id) ?? body).toBe(body);
        byId.set(e.id, body);
      }
      const events = hook.unique().filter((e) => e.type === 'msg.sent').map((e) => e.data as Message);
      expect(events).toHaveLength(MESSAGES);
      for (const peer of [bob, `${bob}c`]) {
        const seqs = events.filter((m) => m.to === peer).map((m) => m.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        expect(seqs).toHaveLength(MESSAGES / 2);
      }
    } finally {
      await hook.down();
    }
  });
});
