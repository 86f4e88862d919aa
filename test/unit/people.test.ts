/**
 * The pure rules of people, without servers: the friend list's limits and
 * paging at their real sizes (10,000 friends, 3000 a page), the replicas of
 * relation marks taking only newer marks, and the peer side of friend
 * actions being free to repeat.
 */
import { describe, expect, it } from 'vitest';
import {
  applyFriendship,
  decideAddFriend,
  decideFriendEvent,
  emptyFriends,
  friendSettings,
  friendsSince,
  type FriendsState,
} from '../../actors/user/friends.ts';
import { applyBlockedBy, applyMark, decideBlockedBy, decideMark, emptyRelations, isBlockedBy } from '../../actors/user/relations.ts';
import { applyRelation, decideRelation, refuseBlocked } from '../../actors/conversation/relations.ts';
import { initialState } from '../../actors/conversation/logic.ts';
import { MAX_FRIENDS, MAX_FRIENDS_PER_GET } from '../../engine/protocol/methods/people.ts';

function add(state: FriendsState, account: string, now: number): void {
  const { events } = decideAddFriend(state, { account }, { me: 'me', now, idServer: `id-${account}`, conn: undefined, blocked: false });
  for (const e of events) applyFriendship(state, e);
}

describe('friends', () => {
  it('holds at most 10,000 friends by default, then refuses with CONFLICT', () => {
    expect(friendSettings.maxFriends).toBe(MAX_FRIENDS);
    expect(MAX_FRIENDS).toBe(10_000);
    const state = emptyFriends();
    for (let i = 0; i < MAX_FRIENDS; i++) add(state, `f${i}`, 1000);
    expect(state.count).toBe(MAX_FRIENDS);
    expect(() => add(state, 'one-more', 1000)).toThrow(expect.objectContaining({ name: 'CONFLICT' }));
  });

  it('pages by timetag at most 3000 at a time, with distinct ascending update times even within one ms', () => {
    const state = emptyFriends();
    for (let i = 0; i < 3001; i++) add(state, `f${i}`, 5000);
    const first = friendsSince(state, 0);
    expect(first).toHaveLength(MAX_FRIENDS_PER_GET);
    expect(MAX_FRIENDS_PER_GET).toBe(3000);
    const times = first.map((f) => f.updateTime);
    expect(new Set(times).size).toBe(3000);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const rest = friendsSince(state, times.at(-1)!);
    expect(rest.map((f) => f.account)).toEqual(['f3000']);
  });

  it("applies the peer's side once, however often the call repeats", () => {
    const bob = emptyFriends();
    const call = { type: 'addFriend' as const, from: 'me', idServer: 'x1', time: 10 };
    const first = decideFriendEvent(bob, 'bob', call, 10, false);
    expect(first).toHaveLength(1);
    expect(first[0]!.sysmsg).toMatchObject({ type: 'addFriend', from: 'me', to: 'bob' });
    for (const e of first) applyFriendship(bob, e);
    expect(decideFriendEvent(bob, 'bob', call, 11, false)).toEqual([]);
    // A blocked requester gets no friendship and no notification.
    expect(decideFriendEvent(emptyFriends(), 'bob', call, 10, true)).toEqual([]);
  });
});

describe('received friend requests', () => {
  it('keeps at most maxRequestsKept, forgetting the oldest answered ones first', () => {
    const kept = friendSettings.maxRequestsKept;
    friendSettings.maxRequestsKept = 2;
    try {
      const me = emptyFriends();
      const ask = (from: string, idServer: string, time: number) => {
        for (const e of decideFriendEvent(me, 'me', { type: 'applyFriend', from, idServer, time }, time, false)) applyFriendship(me, e);
      };
      ask('a', 'r1', 1);
      ask('b', 'r2', 2);
      applyFriendship(me, { t: 'friendship', peer: 'b', applyIn: { ...me.applyIn.get('r2')!, state: 'rejected' } });
      ask('c', 'r3', 3);
      expect([...me.applyIn.keys()]).toEqual(['r1', 'r3']);
      ask('d', 'r4', 4);
      expect([...me.applyIn.keys()]).toEqual(['r3', 'r4']);
    } finally {
      friendSettings.maxRequestsKept = kept;
    }
  });
});

describe('relation replicas', () => {
  it('take a mark only when newer, so a late older block cannot undo an unblock', () => {
    const r = emptyRelations();
    for (const e of decideBlockedBy(r, 'bob', false, 20)) applyBlockedBy(r, e);
    expect(decideBlockedBy(r, 'bob', true, 10)).toEqual([]);
    expect(isBlockedBy(r, 'bob')).toBe(false);
    for (const e of decideBlockedBy(r, 'bob', true, 30)) applyBlockedBy(r, e);
    expect(isBlockedBy(r, 'bob')).toBe(true);
    expect(decideBlockedBy(r, 'bob', true, 30)).toEqual([]);
  });

  it("the conversation refuses a blocked member's sends and takes only its members' newer marks", () => {
    const conv = initialState('alice|bob');
    expect(decideRelation(conv, { owner: 'mallory', peer: 'alice', blocked: true, muted: false, time: 5 })).toEqual([]);
    for (const e of decideRelation(conv, { owner: 'alice', peer: 'bob', blocked: true, muted: false, time: 5 })) applyRelation(conv, e);
    expect(() => refuseBlocked(conv, 'bob')).toThrow(expect.objectContaining({ name: 'BLOCKED' }));
    expect(() => refuseBlocked(conv, 'alice')).not.toThrow();
    expect(decideRelation(conv, { owner: 'alice', peer: 'bob', blocked: false, muted: false, time: 4 })).toEqual([]);
    for (const e of decideRelation(conv, { owner: 'alice', peer: 'bob', blocked: false, muted: true, time: 6 })) applyRelation(conv, e);
    expect(() => refuseBlocked(conv, 'bob')).not.toThrow();
  });

  it('a list write that changes nothing has no event', () => {
    const r = emptyRelations();
    const added = decideMark(r, 'me', 'blacklist', 'bob', true, 10, undefined);
    for (const e of added.events) applyMark(r, e);
    expect(decideMark(r, 'me', 'blacklist', 'bob', true, 20, undefined)).toEqual({ reply: { isAdd: true, record: { account: 'bob', updateTime: 10 } }, events: [] });
    expect(decideMark(r, 'me', 'mutelist', 'bob', false, 20, undefined).events).toEqual([]);
  });
});

describe('refuseIfBlocked (for senders outside the conversation)', () => {
  it("asks the recipient's user actor and refuses with BLOCKED when it blocked the sender", async () => {
    const { refuseIfBlocked } = await import('../../edge/people.ts');
    const asked: Array<[string, string, unknown]> = [];
    const services = (reply: { blocked: boolean; muted: boolean }) => ({
      call: async (_conn: unknown, to: string, m: string, a: unknown) => {
        asked.push([to, m, a]);
        return reply;
      },
    });
    const conn = { account: 'bob' } as never;
    await expect(refuseIfBlocked(services({ blocked: true, muted: false }), conn, 'alice')).rejects.toMatchObject({ name: 'BLOCKED' });
    expect(asked).toEqual([['user:alice', 'relationTo', { account: 'bob' }]]);
    expect(await refuseIfBlocked(services({ blocked: false, muted: true }), conn, 'alice')).toEqual({ muted: true });
  });
});
