/**
 * The user actor's decide and apply functions for what the owner does to a
 * session (ext, pins, deletion, read-all), read receipts both ways, unread
 * counts that leave out `isUnreadable: false` messages, and what the login
 * sync plan carries of all of it. Pure: no servers.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_STICK_TOP_SESSIONS,
  applyUserEvent,
  decideAddTop,
  decideDelete,
  decideDeleteTop,
  decideExt,
  decideReadAll,
  decideReceipt,
  decideReceived,
  decideTouch,
  decideUpdateTop,
  previewSession,
  sessionView,
  sessionsPage,
  syncPlan,
  unreadOf,
  type UserEvent,
  type UserState,
} from '../../actors/user/logic.ts';
import type { Message } from '../../engine/protocol/methods.ts';

function fresh(): UserState {
  return { account: 'me', sessions: new Map() };
}

function msg(seq: number, from: string, time: number, isUnreadable = true): Message {
  return { seq, from, to: from === 'me' ? 'peer' : 'me', time, text: `m${seq}`, isUnreadable } as Message;
}

function touch(state: UserState, peer: string, seq: number, own: number, m: Message, quiet?: number) {
  const t = { id: `p2p-${peer}`, scene: 'p2p' as const, to: peer, address: `conv:${peer}|me`, seq, own, msg: m };
  const ev = decideTouch(state, quiet === undefined ? t : { ...t, quiet });
  if (ev !== undefined) applyUserEvent(state, ev);
  return ev;
}

function apply(state: UserState, events: readonly UserEvent[]): void {
  for (const e of events) applyUserEvent(state, e);
}

const page = (state: UserState) => sessionsPage(state, { limit: 100, minTimestamp: 0, maxTimestamp: 0, needLastMsg: false }, 1e15);

describe('unread counts and isUnreadable', () => {
  it('leaves out the peer\'s isUnreadable: false messages, counted from the touch when the conversation does not say', () => {
    const s = fresh();
    touch(s, 'bob', 1, 0, msg(1, 'bob', 10));
    touch(s, 'bob', 2, 0, msg(2, 'bob', 20, false));
    touch(s, 'bob', 3, 1, msg(3, 'me', 30, false)); // one's own: never counted, whatever the flag
    const row = s.sessions.get('p2p-bob')!;
    expect(unreadOf(row)).toBe(1);
    expect(row.lastQuiet).toBe(1);
    touch(s, 'bob', 4, 1, msg(4, 'bob', 40));
    expect(unreadOf(row)).toBe(2);
  });

  it('takes `quiet` from the conversation when the touch carries it', () => {
    const s = fresh();
    // Three messages in one touch, two of them quiet; the last one looks ordinary.
    touch(s, 'bob', 3, 0, msg(3, 'bob', 30), 2);
    expect(unreadOf(s.sessions.get('p2p-bob')!)).toBe(1);
  });

  it('replays touch and read entries written before quiet existed as before', () => {
    const s = fresh();
    apply(s, [
      { t: 'touch', id: 'p2p-bob', scene: 'p2p', to: 'bob', address: 'conv:bob|me', seq: 2, own: 0, msg: msg(2, 'bob', 20) },
      { t: 'read', id: 'p2p-bob', seq: 1, own: 0 },
    ]);
    expect(unreadOf(s.sessions.get('p2p-bob')!)).toBe(1);
  });
});

describe('what the owner sets on a session', () => {
  it('sets ext, once; refuses an unknown session', () => {
    const s = fresh();
    touch(s, 'bob', 1, 0, msg(1, 'bob', 10));
    const events = decideExt(s, 'p2p-bob', 'x', 100);
    expect(previewSession(s, 'p2p-bob', events).ext).toBe('x');
    apply(s, events);
    expect(sessionView(s.sessions.get('p2p-bob')!).ext).toBe('x');
    expect(decideExt(s, 'p2p-bob', 'x', 101)).toEqual([]);
    expect(() => decideExt(s, 'p2p-nobody', 'x', 100)).toThrow(expect.objectContaining({ name: 'NOT_FOUND' }));
  });

  it('pins, repeats a pin harmlessly, refuses another topCustom, updates, unpins', () => {
    const s = fresh();
    touch(s, 'bob', 1, 0, msg(1, 'bob', 10));
    apply(s, decideAddTop(s, 'p2p-bob', 'a', 100));
    expect(sessionView(s.sessions.get('p2p-bob')!)).toMatchObject({ isTop: true, topCustom: 'a' });
    expect(decideAddTop(s, 'p2p-bob', 'a', 101)).toEqual([]);
    expect(() => decideAddTop(s, 'p2p-bob', 'b', 101)).toThrow(expect.objectContaining({ name: 'CONFLICT' }));
    apply(s, decideUpdateTop(s, 'p2p-bob', undefined, 102));
    expect(sessionView(s.sessions.get('p2p-bob')!)).toMatchObject({ isTop: true });
    expect(sessionView(s.sessions.get('p2p-bob')!).topCustom).toBeUndefined();
    apply(s, decideDeleteTop(s, 'p2p-bob', 103));
    expect(sessionView(s.sessions.get('p2p-bob')!).isTop).toBe(false);
    expect(decideDeleteTop(s, 'p2p-bob', 104)).toEqual([]);
    expect(() => decideUpdateTop(s, 'p2p-bob', 'c', 105)).toThrow(/not pinned/);
    expect(() => decideAddTop(s, 'p2p-nobody', undefined, 105)).toThrow(expect.objectContaining({ name: 'NOT_FOUND' }));
  });

  it(`pins at most ${MAX_STICK_TOP_SESSIONS} sessions`, () => {
    const s = fresh();
    for (let i = 0; i <= MAX_STICK_TOP_SESSIONS; i++) touch(s, `u${i}`, 1, 0, msg(1, `u${i}`, i));
    for (let i = 0; i < MAX_STICK_TOP_SESSIONS; i++) apply(s, decideAddTop(s, `p2p-u${i}`, undefined, 100));
    expect(() => decideAddTop(s, `p2p-u${MAX_STICK_TOP_SESSIONS}`, undefined, 100)).toThrow(/at most/);
  });

  it('reads every session with anything unread in one event', () => {
    const s = fresh();
    touch(s, 'bob', 2, 0, msg(2, 'bob', 20));
    touch(s, 'carol', 1, 1, msg(1, 'me', 10));
    touch(s, 'dave', 1, 0, msg(1, 'dave', 30));
    const events = decideReadAll(s, 100);
    expect(events).toEqual([{ t: 'readAll', ids: ['p2p-bob', 'p2p-dave'], time: 100 }]);
    apply(s, events);
    expect([...s.sessions.values()].map(unreadOf)).toEqual([0, 0, 0]);
    expect(decideReadAll(s, 101)).toEqual([]);
  });
});

describe('deleting sessions', () => {
  it('hides them, ignores stale touches, and a later message brings one back with only itself unread', () => {
    const s = fresh();
    touch(s, 'bob', 3, 0, msg(3, 'bob', 30));
    touch(s, 'carol', 1, 0, msg(1, 'carol', 10));
    apply(s, decideAddTop(s, 'p2p-bob', 'pin', 40));
    apply(s, decideExt(s, 'p2p-bob', 'e', 40));
    const { ids, events } = decideDelete(s, ['p2p-bob', 'p2p-nobody', 'p2p-bob'], 50);
    expect(ids).toEqual(['p2p-bob']);
    apply(s, events);
    expect(page(s).sessionList.map((x) => x.id)).toEqual(['p2p-carol']);
    expect(decideDelete(s, ['p2p-bob'], 51).events).toEqual([]);
    expect(() => decideExt(s, 'p2p-bob', 'x', 52)).toThrow(/no session/);
    // A repeated touch of an old message does not bring it back.
    expect(touch(s, 'bob', 3, 0, msg(3, 'bob', 30))).toBeUndefined();
    touch(s, 'bob', 4, 0, msg(4, 'bob', 60));
    const back = sessionView(s.sessions.get('p2p-bob')!);
    expect(back).toMatchObject({ id: 'p2p-bob', unread: 1, isTop: false });
    expect(back.ext).toBeUndefined();
    expect(back.topCustom).toBeUndefined();
  });

  it("asks a fresh device for a supergroup's newest messages up to the supergroup limit, and for others' up to the general one", () => {
    const s = fresh();
    touch(s, 'bob', 40, 0, msg(40, 'bob', 10));
    const t = { id: 'superTeam-7', scene: 'superTeam' as const, to: '7', address: 'superTeam:7', seq: 40, own: 0, msg: { ...msg(40, 'bob', 20), to: '7' } };
    applyUserEvent(s, decideTouch(s, t)!);
    const fromSeqs = (limit: Parameters<typeof syncPlan>[2]) => Object.fromEntries(syncPlan(s, undefined, limit).fetch.map((f) => [f.sessionId, f.fromSeq]));
    expect(fromSeqs({ all: 30, superTeam: 5 })).toEqual({ 'p2p-bob': 11, 'superTeam-7': 36 });
    expect(fromSeqs(30)).toEqual({ 'p2p-bob': 11, 'superTeam-7': 11 });
    // A device that has seen past the limit asks only for what follows.
    expect(Object.fromEntries(syncPlan(s, { seqs: { 'superTeam-7': 38 } }, { all: 30, superTeam: 5 }).fetch.map((f) => [f.sessionId, f.fromSeq]))['superTeam-7']).toBe(39);
  });

  it('tells a device with a cursor at login, and a new device nothing of it', () => {
    const s = fresh();
    touch(s, 'bob', 1, 0, msg(1, 'bob', 10));
    touch(s, 'carol', 1, 0, msg(1, 'carol', 20));
    apply(s, decideDelete(s, ['p2p-bob'], 100).events);
    const seqs = { 'p2p-carol': 1 };
    expect(syncPlan(s, { sessions: 20, seqs }, 100)).toEqual({ sessions: [], fetch: [], deleted: ['p2p-bob'] });
    expect(syncPlan(s, { sessions: 100, seqs }, 100)).toEqual({ sessions: [], fetch: [] });
    const plan = syncPlan(s, undefined, 100);
    expect(plan.sessions.map((x) => x.id)).toEqual(['p2p-carol']);
    expect(plan.deleted).toBeUndefined();
    // Paged: a deletion counts as an item of the page.
    const first = syncPlan(s, { sessions: 1 }, 100, { maxSessions: 1 });
    expect(first).toMatchObject({ deleted: ['p2p-bob'], next: 'p2p-bob', sessions: [] });
    expect(syncPlan(s, { sessions: 1 }, 100, { maxSessions: 1, after: 'p2p-bob' }).sessions.map((x) => x.id)).toEqual(['p2p-carol']);
  });
});

describe('read receipts', () => {
  it('moves the read pointer and the receipt pointer forward only, with the stored time of the last message', () => {
    const s = fresh();
    touch(s, 'bob', 1, 0, msg(1, 'bob', 10));
    touch(s, 'bob', 2, 0, msg(2, 'bob', 20));
    const { id, events } = decideReceipt(s, { scene: 'p2p', from: 'bob', to: 'me', seq: 2, time: 999 }, 50);
    expect(id).toBe('p2p-bob');
    expect(events).toEqual([
      { t: 'read', id: 'p2p-bob', seq: 2, own: 0, time: 50 },
      { t: 'receiptSent', id: 'p2p-bob', msgTime: 20, time: 50 },
    ]);
    apply(s, events);
    expect(unreadOf(s.sessions.get('p2p-bob')!)).toBe(0);
    // The same receipt again, or an older one: nothing.
    expect(decideReceipt(s, { scene: 'p2p', from: 'bob', to: 'me', seq: 2, time: 20 }, 51).events).toEqual([]);
    expect(decideReceipt(s, { scene: 'p2p', from: 'bob', to: 'me', seq: 1, time: 10 }, 51).events).toEqual([]);
  });

  it('a receipt for an older message counts every later message as unread, never fewer than before', () => {
    const s = fresh();
    for (let i = 1; i <= 4; i++) touch(s, 'bob', i, 0, msg(i, 'bob', i * 10));
    apply(s, decideReceipt(s, { scene: 'p2p', from: 'bob', to: 'me', seq: 2, time: 20 }, 50).events);
    const row = s.sessions.get('p2p-bob')!;
    expect(unreadOf(row)).toBe(2);
    expect(row.sentReceiptTime).toBe(20);
  });

  it('refuses team messages, own messages, and messages of sessions it does not have', () => {
    const s = fresh();
    touch(s, 'bob', 1, 0, msg(1, 'bob', 10));
    expect(() => decideReceipt(s, { scene: 'team', from: 'bob', to: 'me', seq: 1, time: 1 }, 5)).toThrow(/p2p/);
    expect(() => decideReceipt(s, { scene: 'p2p', from: 'me', to: 'bob', seq: 1, time: 1 }, 5)).toThrow(/received/);
    expect(() => decideReceipt(s, { scene: 'p2p', from: 'carol', to: 'me', seq: 1, time: 1 }, 5)).toThrow(expect.objectContaining({ name: 'NOT_FOUND' }));
    expect(() => decideReceipt(s, { scene: 'p2p', from: 'bob', to: 'carol', seq: 1, time: 1 }, 5)).toThrow(expect.objectContaining({ name: 'NOT_FOUND' }));
  });

  it('the sender keeps the newest receipt, even one that arrives before its session, and sends it at login', () => {
    const s = fresh();
    const a = { sessionId: 'p2p-bob', to: 'bob', address: 'conv:bob|me', time: 30 };
    apply(s, decideReceived(s, a, 100));
    // A hidden row until a message arrives.
    expect(page(s).sessionList).toEqual([]);
    expect(decideReceived(s, { ...a, time: 20 }, 101)).toEqual([]);
    touch(s, 'bob', 1, 1, msg(1, 'me', 30));
    expect(sessionView(s.sessions.get('p2p-bob')!).msgReceiptTime).toBe(30);
    apply(s, decideReceived(s, { ...a, time: 40 }, 200));
    // A device that saw everything up to time 150 hears of the newer receipt.
    expect(syncPlan(s, { sessions: 150 }, 100).sessions).toEqual([expect.objectContaining({ id: 'p2p-bob', msgReceiptTime: 40 })]);
  });
});

describe('the login sync plan', () => {
  it('carries pins and ext changes since the cursor, and the pin on every session it sends', () => {
    const s = fresh();
    touch(s, 'bob', 1, 0, msg(1, 'bob', 10));
    touch(s, 'carol', 1, 0, msg(1, 'carol', 20));
    apply(s, decideAddTop(s, 'p2p-bob', 'fav', 100));
    const plan = syncPlan(s, { sessions: 50, seqs: { 'p2p-bob': 1, 'p2p-carol': 1 } }, 100);
    expect(plan.sessions).toEqual([expect.objectContaining({ id: 'p2p-bob', isTop: true, topCustom: 'fav' })]);
    apply(s, decideExt(s, 'p2p-carol', 'x', 200));
    expect(syncPlan(s, { sessions: 150, seqs: { 'p2p-bob': 1, 'p2p-carol': 1 } }, 100).sessions).toEqual([
      expect.objectContaining({ id: 'p2p-carol', ext: 'x' }),
    ]);
  });
});
