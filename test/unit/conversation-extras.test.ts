/**
 * The pure rules of threads (paging replies that share a timestamp), clears
 * (marks that only move forward, the history they hide) and the unread
 * count a recall corrects on the recipient's session, without servers.
 */
import { describe, expect, it } from 'vitest';
import { applyEvent, decideSend, historyPage, initialState, markSaved, type ConversationState, type ConversationView, type StoredMessage } from '../../actors/conversation/logic.ts';
import { applyClear, decideClear, threadPage } from '../../actors/conversation/threads.ts';
import { applyUserEvent, decideRecalled, decideTouch, unreadOf, type UserState } from '../../actors/user/logic.ts';
import type { Message } from '../../engine/protocol/methods.ts';

function conversation() {
  const state = initialState('alice|bob');
  const rows = new Map<number, StoredMessage>();
  const view: ConversationView = { bySeq: (seq) => rows.get(seq), seqOfIdClient: () => undefined };
  const send = (from: string, now: number): StoredMessage => {
    const event = decideSend(state, { from, fromDeviceId: 'd', fromClientType: 'web', idClient: `c${state.lastSeq + 1}`, now, idServer: `id${state.lastSeq + 1}`, type: 'text', body: { text: 't' }, args: {} });
    applyEvent(state, event);
    rows.set(event.msg.seq, event.msg);
    markSaved(state, [event]);
    return event.msg;
  };
  return { state, view, send };
}

const page = (state: ConversationState, replies: StoredMessage[], q: Partial<Parameters<typeof threadPage>[2]>) =>
  threadPage(state, q.reverse === true ? replies : [...replies].reverse(), { beginTime: 0, endTime: 0, limit: 100, reverse: false, ...q }, 'alice').map((m) => m.idServer);

describe('thread pages', () => {
  it('neither repeats nor skips replies sharing the boundary time, either way', () => {
    const { state, send } = conversation();
    const replies = [send('alice', 10), send('bob', 20), send('alice', 20), send('bob', 20), send('alice', 30)];
    const all = replies.map((m) => m.idServer);
    expect(page(state, replies, {})).toEqual([...all].reverse());
    const first = page(state, replies, { limit: 2 });
    expect(first).toEqual(['id5', 'id4']);
    const second = page(state, replies, { limit: 2, endTime: 20, lastMsgId: 'id4' });
    expect(second).toEqual(['id3', 'id2']);
    expect(page(state, replies, { limit: 2, endTime: 20, lastMsgId: 'id2' })).toEqual(['id1']);
    const forward = page(state, replies, { limit: 2, reverse: true, beginTime: 20, lastMsgId: 'id2' });
    expect(forward).toEqual(['id4', 'id3']);
    // A lastMsgId not among the boundary's replies skips nothing.
    expect(page(state, replies, { endTime: 20, lastMsgId: 'elsewhere' })).toEqual(['id4', 'id3', 'id2', 'id1']);
    expect(page(state, replies, { beginTime: 20, endTime: 20 })).toEqual(['id4', 'id3', 'id2']);
  });
});

describe('clearing history', () => {
  it('hides what was there for the clearer only, moves marks forward only, and is no change when nothing is new', () => {
    const { state, view, send } = conversation();
    send('bob', 1);
    send('alice', 2);
    const first = decideClear(state, { viewer: 'alice', isDeleteRoam: false, isSyncSelf: true, now: 5 });
    expect(first.cleared).toMatchObject({ sessionId: 'p2p-bob', to: 'bob', isDeleteRoam: false });
    applyClear(state, first.event!);
    expect(state.cleared.get('alice')).toEqual({ seq: 2, roamSeq: 0 });
    send('bob', 6);
    const q = { beginTime: 0, endTime: 0, limit: 100, reverse: false, asc: false };
    expect(historyPage(state, view, q, 'alice').map((m) => m.seq)).toEqual([3]);
    expect(historyPage(state, view, { ...q, reverse: true }, 'alice').map((m) => m.seq)).toEqual([3]);
    expect(historyPage(state, view, q, 'bob').map((m) => m.seq)).toEqual([3, 2, 1]);
    // An older event replayed moves nothing back; the same clear again is no change.
    applyClear(state, { ...first.event!, seq: 1, roam: true });
    expect(state.cleared.get('alice')).toEqual({ seq: 2, roamSeq: 1 });
    const again = decideClear(state, { viewer: 'alice', isDeleteRoam: true, isSyncSelf: false, now: 7 });
    applyClear(state, again.event!);
    expect(decideClear(state, { viewer: 'alice', isDeleteRoam: true, isSyncSelf: false, now: 8 }).event).toBeUndefined();
    expect(decideClear(state, { viewer: 'alice', isDeleteRoam: false, isSyncSelf: false, now: 8 }).event).toBeUndefined();
  });
});

describe('unread after a recall', () => {
  const msg = (seq: number, from = 'bob'): Message =>
    ({ scene: 'p2p', from, to: 'alice', seq, time: seq, idServer: `m${seq}`, isUnreadable: true }) as Message;
  function session(): UserState {
    const state: UserState = { account: 'alice', sessions: new Map() };
    for (let seq = 1; seq <= 3; seq++) {
      const e = decideTouch(state, { id: 'p2p-bob', scene: 'p2p', to: 'bob', address: 'conv:alice|bob', seq, own: 0, msg: msg(seq) });
      applyUserEvent(state, e!);
    }
    return state;
  }

  it('takes a recalled unread message out of the count once, leaves read, own and quiet ones alone', () => {
    const state = session();
    const row = () => state.sessions.get('p2p-bob')!;
    expect(unreadOf(row())).toBe(3);
    const recall = { sessionId: 'p2p-bob', seq: 2, from: 'bob', counted: true };
    for (const e of decideRecalled(state, recall, 10)) applyUserEvent(state, e);
    expect(unreadOf(row())).toBe(2);
    expect(decideRecalled(state, recall, 11)).toEqual([]);
    expect(decideRecalled(state, { ...recall, seq: 3, from: 'alice' }, 11)).toEqual([]);
    expect(decideRecalled(state, { ...recall, seq: 3, counted: false }, 11)).toEqual([]);
    // Reading to the end forgets it; a repeat after that changes nothing; new messages count again.
    applyUserEvent(state, { t: 'read', id: 'p2p-bob', seq: 3, own: 0, time: 12 });
    expect(unreadOf(row())).toBe(0);
    expect(row().recalledUnread).toBeUndefined();
    expect(decideRecalled(state, recall, 13)).toEqual([]);
    applyUserEvent(state, decideTouch(state, { id: 'p2p-bob', scene: 'p2p', to: 'bob', address: 'conv:alice|bob', seq: 4, own: 0, msg: msg(4) })!);
    expect(unreadOf(row())).toBe(1);
  });
});
