/**
 * The conversation's counts of messages sent with `isUnreadable: false`:
 * kept per member, carried by every session update (which makes updates
 * absolute, so the host may replace a waiting one), kept in the snapshot,
 * and for a snapshot written before they were kept, counted from its rows
 * (or left unknown when the rows are missing, updates then counting one at
 * a time as before).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { applyEvent, decideSend, initialState, quietFor } from '../../actors/conversation/logic.ts';
import { conversationBehavior } from '../../actors/conversation/behavior.ts';
import type { ActorContext, Effect } from '../../engine/actor/behavior.ts';
import { keyOf } from '../../engine/keys.ts';
import { StateStore } from '../../engine/store.ts';
import type { TouchArgs } from '../../actors/user/calls.ts';
import { tempDir } from '../helpers/engine.ts';

const stores: { store: StateStore; dir: string }[] = [];
afterEach(async () => {
  for (const { store, dir } of stores.splice(0)) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function ctxFor(address: string): ActorContext {
  const dir = tempDir('parley-quiet-');
  const store = new StateStore(dir);
  stores.push({ store, dir });
  return { address, id: address.slice(address.indexOf(':') + 1), partition: 0, store, now: () => 1000, nextIdServer: () => '1', maxReplyBytes: 1024 * 1024 };
}

function send(state: ReturnType<typeof initialState>, from: string, n: number, isUnreadable: boolean) {
  const event = decideSend(state, {
    from,
    fromDeviceId: 'd',
    fromClientType: 'web',
    idClient: `c${n}`,
    now: 1000 + n,
    idServer: String(n),
    type: 'text',
    body: { text: 't' },
    args: { scene: 'p2p', to: 'x', text: 't', isUnreadable } as never,
  });
  applyEvent(state, event);
  return event;
}

const touchesOf = (effects: Effect[]) => effects.filter((e) => e.kind === 'call' && e.m === 'touch') as (Effect & { kind: 'call' })[];

describe('quiet counts', () => {
  it('count per sender and reach each member as the peer’s count, on updates keyed by session', () => {
    const ctx = ctxFor('conv:alice|bob');
    const { state } = conversationBehavior.load(ctx);
    const events = [send(state, 'alice', 1, false), send(state, 'alice', 2, true), send(state, 'bob', 3, false), send(state, 'alice', 4, false)];
    expect(quietFor(state, 'bob')).toBe(2);
    expect(quietFor(state, 'alice')).toBe(1);
    const touches = touchesOf(conversationBehavior.effects(state, events, ctx));
    const byMember = new Map(touches.map((t) => [t.to, t]));
    expect((byMember.get('user:bob')!.a as TouchArgs).quiet).toBe(2);
    expect((byMember.get('user:alice')!.a as TouchArgs).quiet).toBe(1);
    expect(byMember.get('user:bob')!.supersede).toBe('p2p-alice');
    expect(byMember.get('user:alice')!.supersede).toBe('p2p-bob');
  });

  it('are kept in the snapshot, counted from the rows of one written before, unknown when those are missing', async () => {
    const ctx = ctxFor('conv:alice|bob');
    const { state } = conversationBehavior.load(ctx);
    const events = [send(state, 'alice', 1, false), send(state, 'bob', 2, true), send(state, 'alice', 3, false)];
    await ctx.store.transaction(() => conversationBehavior.persist(state, events, 3, ctx));
    expect([...conversationBehavior.load(ctx).state.quiet!]).toEqual([['alice', 2]]);

    // A snapshot as written before the counts were kept: counted from its rows.
    await ctx.store.transaction(() => ctx.store.putSnapshot(ctx.address, { logSeq: 3, lastSeq: 3, lastTime: 1003, sent: [['alice', 2], ['bob', 1]] }));
    const counted = conversationBehavior.load(ctx);
    expect(counted.logSeq).toBe(3);
    expect([...counted.state.quiet!]).toEqual([['alice', 2]]);

    // Its rows missing: the snapshot still loads, the counts unknown, updates without them and never replaced.
    await ctx.store.transaction(() => ctx.store.db('conv-msgs').remove(keyOf('convMsg', ctx.address, 2)));
    const unknown = conversationBehavior.load(ctx);
    expect(unknown.logSeq).toBe(3);
    expect(unknown.state.quiet).toBeUndefined();
    const more = [send(unknown.state, 'alice', 4, false)];
    const touches = touchesOf(conversationBehavior.effects(unknown.state, more, ctx));
    expect(touches).toHaveLength(2);
    for (const t of touches) {
      expect((t.a as TouchArgs).quiet).toBeUndefined();
      expect(t.supersede).toBeUndefined();
    }

    // A malformed count: rebuilt from the Log.
    await ctx.store.transaction(() => ctx.store.putSnapshot(ctx.address, { logSeq: 3, lastSeq: 3, lastTime: 1003, sent: [['alice', 2], ['bob', 1]], quiet: [['alice', -1]] }));
    expect(conversationBehavior.load(ctx).logSeq).toBe(0);
  });
});
