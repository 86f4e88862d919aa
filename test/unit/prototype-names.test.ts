/**
 * Per-account and per-id tables hold names like `__proto__`, `constructor`
 * and `toString` as ordinary keys, in the pure rules and in what a
 * conversation snapshot keeps; snapshots whose counters were a plain object
 * still load.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { applyEvent, decideSend, initialState, sentBy } from '../../actors/conversation/logic.ts';
import { conversationBehavior } from '../../actors/conversation/behavior.ts';
import { applyUserEvent, syncPlan, unreadOf, type UserState } from '../../actors/user/logic.ts';
import type { ActorContext } from '../../engine/actor/behavior.ts';
import { StateStore } from '../../engine/store.ts';
import { int, record } from '../../engine/protocol/schema.ts';
import { parseRequest } from '../../engine/protocol/methods.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import { tempDir } from '../helpers/engine.ts';

const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

const stores: { store: StateStore; dir: string }[] = [];
afterEach(async () => {
  for (const { store, dir } of stores.splice(0)) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function ctxFor(address: string): ActorContext {
  const dir = tempDir('parley-proto-');
  const store = new StateStore(dir);
  stores.push({ store, dir });
  return { address, id: address.slice(address.indexOf(':') + 1), partition: 0, store, now: () => 1000, nextIdServer: () => '1', maxReplyBytes: 1024 * 1024 };
}

function send(state: ReturnType<typeof initialState>, from: string, n: number): void {
  const event = decideSend(state, {
    from,
    fromDeviceId: 'd',
    fromClientType: 'web',
    idClient: `c${n}`,
    now: 1000 + n,
    idServer: String(n),
    type: 'text',
    body: { text: 't' },
    args: { scene: 'p2p', to: 'x', text: 't' } as never,
  });
  applyEvent(state, event);
}

describe('tables keyed by account or id', () => {
  it('count each sender’s messages as an integer, whatever the name', () => {
    for (const name of NAMES) {
      const state = initialState(`${name}|zed`);
      send(state, name, 1);
      send(state, name, 2);
      send(state, 'zed', 3);
      expect(sentBy(state, name)).toBe(2);
      expect(sentBy(state, 'zed')).toBe(1);
      expect(sentBy(state, 'toString')).toBe(name === 'toString' ? 2 : 0);
    }
  });

  it('plan a login sync from cursors whose keys are prototype names', () => {
    const state: UserState = { account: 'me', sessions: new Map() };
    for (const [i, name] of NAMES.entries()) {
      const msg = { time: 100 + i } as Message;
      applyUserEvent(state, { t: 'touch', id: name, scene: 'p2p', to: name, address: `conv:${name}|me`, seq: 3, own: 0, msg });
    }
    for (const row of state.sessions.values()) expect(unreadOf(row)).toBe(3);
    const seqs = Object.fromEntries(NAMES.map((n) => [n, 1]));
    const plan = syncPlan(state, { sessions: 1000, seqs }, 100);
    expect(plan.fetch.map((f) => [f.sessionId, f.fromSeq]).sort()).toEqual(NAMES.map((n) => [n, 2]).sort());
    // Without a cursor for it, a session named like a prototype member starts at its read pointer.
    const none = syncPlan(state, { sessions: 1000, seqs: {} }, 100);
    expect(none.fetch.every((f) => f.fromSeq === 1)).toBe(true);
  });

  it('validate a map argument into an object where `__proto__` is an ordinary key', () => {
    // Cursor keys are session ids; those of accounts named like prototype members are ordinary keys.
    const seqs = JSON.parse('{"p2p-__proto__": 4, "p2p-constructor": 5}') as Record<string, number>;
    const a = parseRequest('login', { token: 't', cursors: { seqs } }) as { cursors: { seqs: Record<string, number> } };
    expect(Object.getPrototypeOf(a.cursors.seqs)).toBeNull();
    expect(Object.entries(a.cursors.seqs)).toEqual([
      ['p2p-__proto__', 4],
      ['p2p-constructor', 5],
    ]);
    // A map schema without a key rule keeps `__proto__` an own, ordinary key.
    const plain = record(int()).parse(JSON.parse('{"__proto__": 4, "constructor": 5}'), 'm');
    expect(Object.getPrototypeOf(plain)).toBeNull();
    expect(Object.entries(plain)).toEqual([
      ['__proto__', 4],
      ['constructor', 5],
    ]);
  });
});

describe('conversation snapshots', () => {
  it('keep the counters as pairs and load them back', async () => {
    const ctx = ctxFor('conv:__proto__|constructor');
    const { state } = conversationBehavior.load(ctx);
    send(state, '__proto__', 1);
    send(state, 'constructor', 2);
    send(state, '__proto__', 3);
    await ctx.store.transaction(() => conversationBehavior.persist(state, [], 7, ctx));
    const loaded = conversationBehavior.load(ctx);
    expect(loaded.logSeq).toBe(7);
    expect([...loaded.state.sent]).toEqual([
      ['__proto__', 2],
      ['constructor', 1],
    ]);
  });

  it('load a plain-object counter written before, and drop one that lost a count (rebuilt from the Log)', async () => {
    const ctx = ctxFor('conv:alice|bob');
    await ctx.store.transaction(() => ctx.store.putSnapshot(ctx.address, { logSeq: 4, lastSeq: 3, lastTime: 1003, sent: { alice: 2, bob: 1 } }));
    const loaded = conversationBehavior.load(ctx);
    expect(loaded.logSeq).toBe(4);
    expect(loaded.state.lastSeq).toBe(3);
    expect(sentBy(loaded.state, 'alice')).toBe(2);
    expect(sentBy(loaded.state, 'bob')).toBe(1);

    // What the plain object made of `constructor` (a string) and of `__proto__` (nothing).
    const broken = ctxFor('conv:__proto__|constructor');
    await broken.store.transaction(() => broken.store.putSnapshot(broken.address, { logSeq: 4, lastSeq: 3, lastTime: 1003, sent: { constructor: 'function Object() { [native code] }1' } }));
    expect(conversationBehavior.load(broken).logSeq).toBe(0);
    await broken.store.transaction(() => broken.store.putSnapshot(broken.address, { logSeq: 4, lastSeq: 3, lastTime: 1003, sent: { alice: 1 } }));
    const rebuilt = conversationBehavior.load(broken);
    expect(rebuilt.logSeq).toBe(0);
    expect(rebuilt.state.lastSeq).toBe(0);
  });
});
