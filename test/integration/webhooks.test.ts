/**
 * Webhooks fed from the Log, in both modes, to a real local receiver that
 * checks every signature: down at first (connections refused), then
 * answering 500, then well; it gets every event exactly once by id (after
 * dedup), each conversation's in order. Events that ran out of retries are
 * listed and replayed through the admin API.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import { parseConfig, ConfigError } from '../../engine/config.ts';
import { startNode } from '../../engine/node.ts';
import { presenceAddress } from '../../engine/subjects.ts';
import type { NodeOptions, RunningNode } from '../../engine/node.ts';
import type { WebhookDeriver } from '../../engine/webhooks/derive.ts';
import { TEST_SECRET, tempDir, tokenFor, type EngineOptions } from '../helpers/engine.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { waitFor } from '../helpers/wait.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { promtoolFindings, sample, scrape } from '../helpers/promtool.ts';
import type { WebhookEvent } from '../../engine/webhooks/sender.ts';

// Cluster-mode tests start and stop nodes sharing one NATS server, with its partition leases passing between them.
vi.setConfig({ testTimeout: 60_000 });

const HOOK_SECRET = 'webhook-test-secret';
const ADMIN_KEY = 'webhook-admin-key';

describeBothModes('webhooks', (mode) => {
  const nodes: RunningNode[] = [];
  const dirs: string[] = [];
  const clients: ParleyClient[] = [];
  const receivers: WebhookReceiver[] = [];

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.destroy().catch(() => {})));
    for (const n of nodes.splice(0)) await n.stop();
    for (const r of receivers.splice(0)) await r.down();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function receiver(): Promise<WebhookReceiver> {
    const r = await WebhookReceiver.reserve(HOOK_SECRET);
    receivers.push(r);
    return r;
  }

  async function node(env: Record<string, string>, options: NodeOptions = {}): Promise<RunningNode> {
    const dir = tempDir();
    dirs.push(dir);
    const opts = mode.engineOptions<EngineOptions>({});
    const config = parseConfig({
      PARLEY_PORT: '0',
      PARLEY_HOST: '127.0.0.1',
      PARLEY_DATA_DIR: dir,
      PARLEY_JWT_SECRET: TEST_SECRET,
      PARLEY_LOG_LEVEL: process.env.PARLEY_TEST_LOG_LEVEL ?? 'error',
      PARLEY_WEBHOOK_SECRET: HOOK_SECRET,
      PARLEY_ADMIN_API_KEY: ADMIN_KEY,
      ...(opts.natsUrl === undefined ? {} : { PARLEY_NATS_URL: opts.natsUrl }),
      ...env,
    });
    const n = await startNode('start', config, options);
    nodes.push(n);
    // In cluster mode a partition's reader starts once the node holds its lease and read its feed position:
    // the test sends once every partition is read, so what it waits for afterwards is the feed's delivery.
    if (n.webhooks !== undefined) {
      const readers = opts.natsUrl === undefined ? 1 : config.partitions;
      await waitFor('the feed to read every partition', () => n.webhooks!.reading === readers, 25_000);
    }
    return n;
  }

  async function client(n: RunningNode, account: string): Promise<ParleyClient> {
    const c = await connect({ url: `ws://127.0.0.1:${n.port}/v1/ws`, token: await tokenFor(account), WebSocket, reconnect: false });
    clients.push(c);
    return c;
  }

  async function admin(n: RunningNode, method: string, body: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`http://127.0.0.1:${n.port}/v1/admin/${method}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  }

  /** The messages sent by clients (a group's own notification messages left out). */
  function sentIds(events: WebhookEvent[]): string[] {
    return events.filter((e) => e.type === 'msg.sent' && (e.data as Message).type !== 'notification').map((e) => (e.data as Message).idServer);
  }

  it('survives a receiver that is down, then failing: every event arrives once by id, each conversation in order', async () => {
    const hook = await receiver();
    const n = await node({ PARLEY_WEBHOOK_URL: hook.url, PARLEY_WEBHOOK_RETRY_MIN_MS: '20', PARLEY_WEBHOOK_RETRY_MAX_MS: '100' });
    const alice = freshAccount('alice');
    const bob = freshAccount('bob');
    const carol = freshAccount('carol');
    const a = await client(n, alice);
    const b = await client(n, bob);
    await client(n, carol);

    const sent: Message[] = [];
    for (let i = 0; i < 8; i++) {
      sent.push(await a.sendText({ scene: 'p2p', to: bob, text: `ab${i}` }));
      sent.push(await b.sendText({ scene: 'p2p', to: alice, text: `ba${i}` }));
      sent.push(await a.sendText({ scene: 'p2p', to: carol, text: `ac${i}` }));
    }
    await a.recallMsg({ msg: sent[0]! });
    await b.deleteMsgSelf({ msg: sent[3]! });
    await a.addToBlacklist(carol);
    const { team } = await a.createTeam({ name: 'crew', beInviteMode: 'noVerify', accounts: [bob] });
    const teamMsgs: Message[] = [];
    for (let i = 0; i < 3; i++) teamMsgs.push(await b.sendText({ scene: 'team', to: team.teamId, text: `t${i}` }));

    // Down: every try is refused, nothing arrives; sends were not held back by it.
    await waitFor('the feed to queue every event', () => n.webhooks!.stats.events >= sent.length + teamMsgs.length + 6, 10_000);
    expect(hook.accepted).toEqual([]);
    await hook.up();
    hook.status = 500;
    await waitFor('tries answered 500', () => hook.failed >= 5, 10_000);
    expect(hook.accepted).toEqual([]);
    hook.status = 200;

    const all = [...sent, ...teamMsgs].map((m) => m.idServer);
    await waitFor('every message event', () => all.every((id) => sentIds(hook.unique()).includes(id)), 20_000);
    await waitFor('the other events', () => ['msg.recalled', 'msg.deletedSelf', 'relation.blacklistAdded', 'team.created'].every((t) => hook.unique().some((e) => e.type === t)), 10_000);
    // Each login's lane retries on its own backoff, so its event may come after every message's.
    const loggedIn = () => new Set(hook.unique().filter((e) => e.type === 'login').map((e) => (e.data as { account: string }).account));
    await waitFor('the three logins', () => [alice, bob, carol].every((x) => loggedIn().has(x)), 10_000);
    expect(hook.badSignatures).toBe(0);

    const events = hook.unique();
    // Exactly once by id: each message once.
    expect(sentIds(events).sort()).toEqual([...all].sort());
    // In order per conversation: seqs of each conversation arrive ascending.
    const byConversation = new Map<string, number[]>();
    for (const e of events.filter((x) => x.type === 'msg.sent')) {
      const m = e.data as Message;
      const key = m.scene === 'p2p' ? [m.from, m.to].sort().join('|') : m.to;
      byConversation.set(key, [...(byConversation.get(key) ?? []), m.seq]);
    }
    expect(byConversation.size).toBe(3);
    for (const seqs of byConversation.values()) expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    // Ids name the Log position, the same at every try.
    for (const e of events) expect(e.id).toMatch(/^\d+\.[A-Za-z]+\.[^:]+:\d+:\d+$/);

    const recalled = events.find((e) => e.type === 'msg.recalled')!;
    expect((recalled.data as Message).idServer).toBe(sent[0]!.idServer);
    const hidden = events.find((e) => e.type === 'msg.deletedSelf')!;
    expect(hidden.data).toMatchObject({ account: bob });
    expect(events.find((e) => e.type === 'relation.blacklistAdded')!.data).toMatchObject({ account: alice, target: carol, list: 'blacklist', isAdd: true });
    expect(events.find((e) => e.type === 'team.created')!.data).toMatchObject({ teamId: team.teamId });
    // The group's notification message of its creation is a message sent in it too.
    expect(events.some((e) => e.type === 'msg.sent' && (e.data as Message).type === 'notification' && (e.data as Message).to === team.teamId)).toBe(true);
    // The feed's metrics count what happened, and lint clean.
    const text = await scrape(n.port);
    expect(sample(text, 'parley_webhook_events_total', 'outcome="acknowledged"')).toBeGreaterThanOrEqual(all.length);
    expect(sample(text, 'parley_webhook_requests_total', 'result="failed"')).toBeGreaterThanOrEqual(5);
    expect(promtoolFindings(text).filter((l) => l.includes('parley_webhook'))).toEqual([]);
    const logins = events.filter((e) => e.type === 'login').map((e) => (e.data as { account: string }).account);
    expect(logins).toEqual(expect.arrayContaining([alice, bob, carol]));
  });

  it('sends what derivers make of an event right after it, on its lane, and runs a failed deriver again', async () => {
    const hook = await receiver();
    await hook.up();
    let failures = 0;
    const derive: WebhookDeriver = async (e) => {
      if (e.type !== 'msg.sent') return [];
      const m = e.data as Message;
      if (m.text === 'two' && failures++ === 0) throw new Error('deriver down for a moment');
      return [
        { id: `${e.id}:copy:1`, type: 'test.copy', time: e.time, data: { of: m.idServer, n: 1 } },
        { id: `${e.id}:copy:2`, type: 'test.copy', time: e.time, data: { of: m.idServer, n: 2 } },
      ];
    };
    const n = await node({ PARLEY_WEBHOOK_URL: hook.url }, { webhookDerivers: [derive] });
    const alice = freshAccount('alice');
    const bob = freshAccount('bob');
    const a = await client(n, alice);
    const sent: Message[] = [];
    for (const text of ['one', 'two', 'three']) sent.push(await a.sendText({ scene: 'p2p', to: bob, text }));
    await waitFor('every copy', () => hook.unique().filter((e) => e.type === 'test.copy').length === 6, 10_000);
    const lane = hook.unique().filter((e) => e.type === 'test.copy' || (e.type === 'msg.sent' && (e.data as Message).to === bob));
    expect(lane.map((e) => (e.type === 'msg.sent' ? `sent:${(e.data as Message).idServer}` : `copy:${(e.data as { of: string }).of}:${(e.data as { n: number }).n}`))).toEqual(
      sent.flatMap((m) => [`sent:${m.idServer}`, `copy:${m.idServer}:1`, `copy:${m.idServer}:2`]),
    );
    expect(failures).toBeGreaterThan(1);
  });

  it('sends a message with `env` to that env’s URL', async () => {
    const plain = await receiver();
    const prod = await receiver();
    await plain.up();
    await prod.up();
    const n = await node({ PARLEY_WEBHOOK_URL: plain.url, PARLEY_WEBHOOK_URL_PROD: prod.url });
    const alice = freshAccount('alice');
    const bob = freshAccount('bob');
    const a = await client(n, alice);
    const tagged = await a.sendText({ scene: 'p2p', to: bob, text: 'tagged', env: 'prod' });
    const untagged = await a.sendText({ scene: 'p2p', to: bob, text: 'untagged' });
    await waitFor('both messages', () => sentIds(prod.unique()).includes(tagged.idServer) && sentIds(plain.unique()).includes(untagged.idServer));
    expect(sentIds(plain.unique())).not.toContain(tagged.idServer);
    expect(sentIds(prod.unique())).not.toContain(untagged.idServer);
  });

  it('records events dead after their retries and replays them through the admin API', async () => {
    const hook = await receiver();
    await hook.up();
    hook.status = 500;
    const n = await node({ PARLEY_WEBHOOK_URL: hook.url, PARLEY_WEBHOOK_RETRY_HOURS: '0' });
    const alice = freshAccount('alice');
    const bob = freshAccount('bob');
    const a = await client(n, alice);
    const m1 = await a.sendText({ scene: 'p2p', to: bob, text: 'one' });
    const m2 = await a.sendText({ scene: 'p2p', to: bob, text: 'two' });

    const deadIds = async () => {
      const page = await admin(n, 'listDeadWebhookEvents', { limit: 1000 });
      expect(page.status, JSON.stringify(page.json)).toBe(200);
      return (page.json.result.events as { event: WebhookEvent; error: string }[]).filter((d) => d.event.type === 'msg.sent').map((d) => (d.event.data as Message).idServer);
    };
    await waitFor('both messages dead', async () => (await deadIds()).length === 2, 10_000);
    expect((await deadIds()).sort()).toEqual([m1.idServer, m2.idServer].sort());
    const page = await admin(n, 'listDeadWebhookEvents', { limit: 1 });
    expect(page.json.result.events).toHaveLength(1);
    expect(page.json.result.next).toBe(page.json.result.events[0].event.id);
    expect(page.json.result.events[0].error).toBe('HTTP 500');
    // Pages follow the listing's own order (the store's key order): the second page starts with the event after the first.
    const listed = (await admin(n, 'listDeadWebhookEvents', { limit: 1000 })).json.result.events.map((d: { event: WebhookEvent }) => d.event.id);
    expect(listed[0]).toBe(page.json.result.next);
    const second = await admin(n, 'listDeadWebhookEvents', { limit: 1, after: page.json.result.next });
    expect(second.json.result.events[0].event.id).toBe(listed[1]);
    expect(hook.accepted).toEqual([]);

    hook.status = 200;
    const m1Dead = (await admin(n, 'listDeadWebhookEvents', {})).json.result.events.find((d: { event: WebhookEvent }) => (d.event.data as Message).idServer === m1.idServer);
    const one = await admin(n, 'replayDeadWebhookEvents', { ids: [m1Dead.event.id, 'not-a-dead-id'] });
    expect(one.json.result).toEqual({ queued: 1 });
    await waitFor('the replayed event', () => sentIds(hook.unique()).includes(m1.idServer), 10_000);
    expect(hook.unique().find((e) => e.id === m1Dead.event.id)).toBeDefined();
    await waitFor('it leaves the dead events', async () => !(await deadIds()).includes(m1.idServer));
    expect(await deadIds()).toEqual([m2.idServer]);

    const rest = await admin(n, 'replayDeadWebhookEvents', {});
    expect(rest.json.result.queued).toBeGreaterThanOrEqual(1);
    await waitFor('every dead event replayed', async () => (await admin(n, 'listDeadWebhookEvents', {})).json.result.events.length === 0, 10_000);
    expect(sentIds(hook.unique()).sort()).toEqual([m1.idServer, m2.idServer].sort());

    const bad = await admin(n, 'listDeadWebhookEvents', { limit: 0 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/limit/);
  });

  it('sends a push event for an offline device with a token right after the message', async () => {
    const hook = await receiver();
    await hook.up();
    const n = await node({ PARLEY_WEBHOOK_URL: hook.url });
    const alice = freshAccount('alice');
    const bob = freshAccount('bob');
    const a = await client(n, alice);
    const b = await client(n, bob);
    const { deviceId } = await b.registerPushToken({ token: 'bob-phone-token', provider: 'apns' });
    await b.destroy();
    // The hook alerts devices offline when it reads the message: wait until the engine knows this one is.
    await waitFor("bob's device to be offline", async () => ((await n.actors.hold(presenceAddress(bob), 'devices', {}, undefined, 'idempotent')) as unknown[]).length === 0, 10_000);
    const m = await a.sendText({ scene: 'p2p', to: bob, text: 'are you there?' });
    await waitFor('the push event', () => hook.unique().some((e) => e.type === 'push'), 10_000);
    const lane = hook.unique().filter((e) => e.type === 'push' || (e.type === 'msg.sent' && (e.data as Message).idServer === m.idServer));
    expect(lane.map((e) => e.type)).toEqual(['msg.sent', 'push']);
    const [sent, push] = lane as [WebhookEvent, WebhookEvent];
    expect(push.id).toBe(`${sent.id}:push:${bob}:${deviceId}`);
    expect(push.data).toMatchObject({
      account: bob,
      deviceId,
      token: 'bob-phone-token',
      provider: 'apns',
      badge: 1,
      payload: { body: 'are you there?', scene: 'p2p', from: alice, to: bob, idServer: m.idServer },
      msg: { idServer: m.idServer },
    });
  });

  it('sends no push events when PARLEY_WEBHOOK_PUSH is off', async () => {
    const alice = freshAccount('alice');
    const bob = freshAccount('bob');
    const quiet = await receiver();
    await quiet.up();
    const off = await node({ PARLEY_WEBHOOK_URL: quiet.url, PARLEY_WEBHOOK_PUSH: 'false' });
    const a2 = await client(off, alice);
    const b2 = await client(off, bob);
    await b2.registerPushToken({ token: 'bob-phone-token', provider: 'apns' });
    await b2.destroy();
    const m2 = await a2.sendText({ scene: 'p2p', to: bob, text: 'quiet' });
    await waitFor('the message event', () => sentIds(quiet.unique()).includes(m2.idServer), 10_000);
    await a2.sendText({ scene: 'p2p', to: freshAccount('dave'), text: 'later' });
    await waitFor('a later event on the feed', () => sentIds(quiet.unique()).length >= 2, 10_000);
    expect(quiet.unique().filter((e) => e.type === 'push')).toEqual([]);
  });

  it('answers the dead-event methods with BAD_REQUEST when webhooks are off', async () => {
    const n = await node({});
    expect(n.webhooks).toBeUndefined();
    const r = await admin(n, 'listDeadWebhookEvents', {});
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/webhooks are off/);
  });
});

describe('webhook settings', () => {
  it('needs PARLEY_WEBHOOK_SECRET with a URL, and http(s) URLs', () => {
    expect(() => parseConfig({ PARLEY_WEBHOOK_URL: 'http://127.0.0.1:1/h' })).toThrow(ConfigError);
    expect(() => parseConfig({ PARLEY_WEBHOOK_URL: 'http://127.0.0.1:1/h' })).toThrow(/PARLEY_WEBHOOK_SECRET is required/);
    expect(() => parseConfig({ PARLEY_WEBHOOK_URL_PROD: 'http://127.0.0.1:1/h' })).toThrow(/PARLEY_WEBHOOK_SECRET is required/);
    expect(() => parseConfig({ PARLEY_WEBHOOK_URL: 'ftp://x', PARLEY_WEBHOOK_SECRET: 's' })).toThrow(/PARLEY_WEBHOOK_URL must be an http\(s\) URL/);
    expect(() => parseConfig({ PARLEY_WEBHOOK_URL_PROD: 'nope', PARLEY_WEBHOOK_SECRET: 's' })).toThrow(/PARLEY_WEBHOOK_URL_PROD must be an http\(s\) URL/);
    expect(() => parseConfig({ PARLEY_WEBHOOK_RETRY_MIN_MS: '500', PARLEY_WEBHOOK_RETRY_MAX_MS: '100' })).toThrow(/PARLEY_WEBHOOK_RETRY_MAX_MS \(100\) must be at least/);
    expect(() => parseConfig({ PARLEY_WEBHOOK_RETRY_HOURS: 'x' })).toThrow(/PARLEY_WEBHOOK_RETRY_HOURS must be an integer/);
  });

  it('reads the defaults, one URL per env and the retry settings', () => {
    const d = parseConfig({});
    expect([d.webhookUrl, d.webhookEnvUrls, d.webhookRetryMinMs, d.webhookRetryMaxMs, d.webhookRetryHours]).toEqual(['', {}, 500, 60_000, 24]);
    const c = parseConfig({ PARLEY_WEBHOOK_URL: 'https://h/x', PARLEY_WEBHOOK_URL_prod: 'https://h/p', PARLEY_WEBHOOK_SECRET: 's', PARLEY_WEBHOOK_RETRY_HOURS: '2' });
    expect(c.webhookEnvUrls).toEqual({ PROD: 'https://h/p' });
    expect(c.webhookRetryHours).toBe(2);
  });
});
