import { describe, expect, it } from 'vitest';
import { applyUserEvent, decideRead, decideReads, decideTouch, sessionsPage, syncPlan, unreadOf, type UserState } from '../../actors/user/logic.ts';
import type { Message } from '../../engine/protocol/methods.ts';

function msg(seq: number, from: string, time: number): Message {
  return { seq, from, time, text: `m${seq}` } as Message;
}

function touch(state: UserState, peer: string, seq: number, own: number, from: string, time: number) {
  const ev = decideTouch(state, { id: `p2p-${peer}`, scene: 'p2p', to: peer, address: `conv:${peer}|me`, seq, own, msg: msg(seq, from, time) });
  if (ev !== undefined) applyUserEvent(state, ev);
  return ev;
}

describe('sessions and unread counts', () => {
  it("counts the peer's messages past the read pointer, never one's own", () => {
    const state: UserState = { account: 'me', sessions: new Map() };
    touch(state, 'bob', 1, 0, 'bob', 10);
    touch(state, 'bob', 2, 0, 'bob', 20);
    touch(state, 'bob', 3, 1, 'me', 30);
    const row = state.sessions.get('p2p-bob')!;
    expect(unreadOf(row)).toBe(2);
    applyUserEvent(state, decideRead(state, 'p2p-bob'));
    expect(unreadOf(row)).toBe(0);
    touch(state, 'bob', 4, 1, 'bob', 40);
    expect(unreadOf(row)).toBe(1);
  });

  it('ignores stale or repeated updates whatever their order', () => {
    const state: UserState = { account: 'me', sessions: new Map() };
    touch(state, 'bob', 3, 0, 'bob', 30);
    expect(touch(state, 'bob', 2, 0, 'bob', 20)).toBeUndefined();
    expect(touch(state, 'bob', 3, 0, 'bob', 30)).toBeUndefined();
    const row = state.sessions.get('p2p-bob')!;
    expect(row.lastMsg?.seq).toBe(3);
    expect(unreadOf(row)).toBe(3);
  });

  it('refuses to reset an unknown session', () => {
    const state: UserState = { account: 'me', sessions: new Map() };
    expect(() => decideRead(state, 'p2p-nobody')).toThrow(/no session/);
  });

  it('pages sessions newest first within the time window', () => {
    const state: UserState = { account: 'me', sessions: new Map() };
    for (let i = 1; i <= 5; i++) touch(state, `u${i}`, 1, 0, `u${i}`, i * 100);
    const page = sessionsPage(state, { limit: 2, minTimestamp: 0, maxTimestamp: 0, needLastMsg: true }, 10_000);
    expect(page.sessionList.map((s) => s.id)).toEqual(['p2p-u5', 'p2p-u4']);
    expect(page.hasMore).toBe(true);
    expect(page.sessionList[0]!.lastMsg?.seq).toBe(1);
    const window = sessionsPage(state, { limit: 10, minTimestamp: 200, maxTimestamp: 400, needLastMsg: false }, 10_000);
    expect(window.sessionList.map((s) => s.id)).toEqual(['p2p-u4', 'p2p-u3', 'p2p-u2']);
    expect(window.hasMore).toBe(false);
    expect(window.sessionList[0]!.lastMsg).toBeUndefined();
  });

  it('plans the login sync from the cursors', () => {
    const state: UserState = { account: 'me', sessions: new Map() };
    for (let s = 1; s <= 5; s++) touch(state, 'bob', s, 0, 'bob', s * 10);
    touch(state, 'carol', 1, 0, 'carol', 5);
    applyUserEvent(state, decideRead(state, 'p2p-carol'));

    // A new device: unread messages only, and every session.
    let plan = syncPlan(state, undefined, 100);
    expect(plan.sessions.map((s) => s.id)).toEqual(['p2p-bob', 'p2p-carol']);
    expect(plan.fetch).toEqual([expect.objectContaining({ sessionId: 'p2p-bob', fromSeq: 1 })]);

    // A device that holds bob's messages up to 3 and saw sessions up to time 30.
    plan = syncPlan(state, { sessions: 30, seqs: { 'p2p-bob': 3, 'p2p-carol': 1 } }, 100);
    expect(plan.sessions.map((s) => s.id)).toEqual(['p2p-bob']);
    expect(plan.fetch).toEqual([expect.objectContaining({ sessionId: 'p2p-bob', fromSeq: 4 })]);

    // At most `limit` messages per session: the newest ones.
    plan = syncPlan(state, undefined, 2);
    expect(plan.fetch[0]!.fromSeq).toBe(4);

    // Up to date: nothing.
    plan = syncPlan(state, { sessions: 50, seqs: { 'p2p-bob': 5, 'p2p-carol': 1 } }, 100);
    expect(plan).toEqual({ sessions: [], fetch: [] });
  });

  it('pages the login sync by bytes and count, every session once, even when sessions change between pages', () => {
    const state: UserState = { account: 'me', sessions: new Map() };
    for (let i = 0; i < 40; i++) touch(state, `u${String(i).padStart(2, '0')}`, 3, 0, 'x', 100 + i);
    const seen: string[] = [];
    const fetched: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = syncPlan(state, undefined, 100, { after, maxBytes: 600, maxSessions: 7 });
      pages++;
      expect(page.sessions.length).toBeGreaterThan(0);
      expect(page.sessions.length).toBeLessThanOrEqual(7);
      // Within a page, newest first.
      const times = page.sessions.map((s) => s.updateTime);
      expect(times).toEqual([...times].sort((a, b) => b - a));
      seen.push(...page.sessions.map((s) => s.id));
      fetched.push(...page.fetch.map((f) => f.sessionId));
      // A session not yet sent moves to the top of the list meanwhile: it is still sent once.
      if (pages === 1) touch(state, 'u39', 4, 0, 'x', 10_000);
      if (page.next === undefined) break;
      after = page.next;
      expect(pages).toBeLessThan(100);
    }
    expect(pages).toBeGreaterThan(5);
    expect([...seen].sort()).toEqual([...state.sessions.keys()].sort());
    expect(new Set(seen).size).toBe(seen.length);
    expect([...fetched].sort()).toEqual([...seen].sort());
    // One session larger than the byte bound still makes a page on its own.
    const one = syncPlan(state, undefined, 100, { maxBytes: 1 });
    expect(one.sessions).toHaveLength(1);
    expect(one.next).toBe(one.sessions[0]!.id);
  });
});


describe('resetting several sessions', () => {
  it('reads each named session once, skips unknown ids, and writes nothing for one already read', () => {
    const state: UserState = { account: 'me', sessions: new Map() };
    touch(state, 'bob', 2, 0, 'bob', 20);
    touch(state, 'carol', 1, 0, 'carol', 10);
    touch(state, 'dave', 1, 1, 'me', 15);
    const { rows, events } = decideReads(state, ['p2p-carol', 'p2p-nobody', 'p2p-bob', 'p2p-carol', 'p2p-dave']);
    expect(rows.map((r) => r.id)).toEqual(['p2p-carol', 'p2p-bob', 'p2p-dave']);
    // dave's only message is the account's own: nothing unread, no event.
    expect(events).toEqual([
      { t: 'read', id: 'p2p-carol', seq: 1, own: 0 },
      { t: 'read', id: 'p2p-bob', seq: 2, own: 0 },
    ]);
    for (const e of events) applyUserEvent(state, e);
    expect([...state.sessions.values()].map(unreadOf)).toEqual([0, 0, 0]);
    expect(decideReads(state, ['p2p-bob', 'p2p-carol']).events).toEqual([]);
  });
});
