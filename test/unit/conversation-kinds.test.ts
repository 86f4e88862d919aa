/**
 * The conversation's rules for the other message kinds, forwarding, recall,
 * delete-for-self and locating messages, on the pure decide functions with an
 * in-memory view standing in for the LMDB rows.
 */
import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  applyRowChange,
  decideHide,
  decideRecall,
  decideSend,
  fileBody,
  forwardedBody,
  historyPage,
  initialState,
  lastVisible,
  locate,
  markSaved,
  messagesByRef,
  viewOf,
  type ConversationEvent,
  type ConversationState,
  type ConversationView,
  type MessageBody,
  type StoredMessage,
} from '../../actors/conversation/logic.ts';
import { parseRequest } from '../../engine/protocol/methods.ts';
import type { MsgRef, MsgType } from '../../engine/protocol/methods.ts';

function memoryView() {
  const bySeq = new Map<number, StoredMessage>();
  const view: ConversationView = { bySeq: (seq) => bySeq.get(seq), seqOfIdClient: () => undefined };
  return { view, store: (m: StoredMessage) => bySeq.set(m.seq, m) };
}

/** Applies and stores an event the way the actor's batch does. */
function commit(state: ConversationState, store: (m: StoredMessage) => void, event: ConversationEvent): void {
  if (event.t === 'msg') applyEvent(state, event);
  else if (event.t === 'recall' || event.t === 'hide') applyRowChange(state, event);
  else return;
  for (const row of event.t === 'hide' ? event.msgs : [event.msg]) store(row);
  markSaved(state, [event]);
}

function send(state: ConversationState, store: (m: StoredMessage) => void, from: string, now: number, type: MsgType = 'text', body: MessageBody = { text: 'hi' }) {
  const event = decideSend(state, {
    from,
    fromDeviceId: 'd1',
    fromClientType: 'web',
    idClient: `c${state.lastSeq + 1}`,
    now,
    idServer: `id-${state.lastSeq + 1}`,
    type,
    body,
    args: { needPushNick: true, env: 'prod' },
  });
  commit(state, store, event);
  return event.msg;
}

const refOf = (m: StoredMessage): MsgRef => ({ scene: 'p2p', from: m.from, to: m.to, time: m.time, idServer: m.idServer });
const file = { url: 'https://files.example/a.jpg', name: 'a.jpg', size: 10, md5: '0123456789abcdef0123456789abcdef', ext: 'jpg' };

describe('message kinds', () => {
  it('stores each kind with its body and the push nickname and environment options', () => {
    const state = initialState('alice|bob');
    const { store } = memoryView();
    const geo = send(state, store, 'alice', 1000, 'geo', { geo: { lng: 116.38, lat: 39.91, title: 'Beijing' } });
    expect(geo).toMatchObject({ type: 'geo', geo: { lng: 116.38, lat: 39.91, title: 'Beijing' }, needPushNick: true, env: 'prod', seq: 1 });
    const img = send(state, store, 'bob', 1001, 'image', fileBody('image', { ...file, w: 10, h: 20 }));
    expect(img).toMatchObject({ type: 'image', file: { w: 10, h: 20, md5: file.md5 }, seq: 2 });
  });

  it('requires w/h for images and videos and dur for audio and video, naming the field', () => {
    expect(() => fileBody('image', { ...file, w: 1 })).toThrow(/`file.h` is required for a message of type 'image'/);
    expect(() => fileBody('audio', file)).toThrow(/`file.dur` is required/);
    expect(() => fileBody('video', { ...file, w: 1, h: 1 })).toThrow(/`file.dur`/);
    expect(fileBody('file', file)).toEqual({ file });
  });

  it('forwards the body of the type, refusing a message without it', () => {
    expect(forwardedBody({ type: 'tip', tip: 'hello' })).toEqual({ tip: 'hello' });
    expect(forwardedBody({ type: 'custom', content: '{}', text: 'ignored' })).toEqual({ content: '{}' });
    expect(() => forwardedBody({ type: 'geo', text: 'x' })).toThrow(/`msg.geo` is required to forward a message of type 'geo'/);
    expect(() => forwardedBody({ type: 'audio', file })).toThrow(/`msg.file.dur` is required/);
  });

  it('validates descriptors and limits at the schema, naming the argument and its limit', () => {
    const base = { scene: 'p2p', to: 'bob' };
    expect(() => parseRequest('sendFile', { ...base, type: 'image', file: { ...file, md5: 'xyz' } })).toThrow(/`file.md5` must be at least 32/);
    expect(() => parseRequest('sendFile', { ...base, type: 'doc', file })).toThrow(/`type` must be one of/);
    expect(() => parseRequest('sendFile', { ...base, type: 'file', file: { ...file, url: 'ftp://x' } })).toThrow(/`file.url` must be an http\(s\) URL/);
    expect(() => parseRequest('sendFile', { ...base, type: 'file', file: { ...file, size: 2 ** 40 } })).toThrow(/`file.size` must be between 0 and 104857600/);
    expect(() => parseRequest('sendGeo', { ...base, geo: { lng: 200, lat: 0, title: '' } })).toThrow(/`geo.lng` must be at most 180/);
    expect(() => parseRequest('sendCustomMsg', { ...base, content: 'x'.repeat(10_001) })).toThrow(/`content` must be at most 10000 characters/);
    expect(() => parseRequest('sendTipMsg', { ...base, tip: 5 })).toThrow(/`tip` must be a string/);
    expect(() => parseRequest('sendText', { ...base, text: 'x', env: 'e'.repeat(33) })).toThrow(/`env` must be at most 32/);
  });
});

describe('recall', () => {
  function setup() {
    const state = initialState('alice|bob');
    const { view, store } = memoryView();
    const m1 = send(state, store, 'alice', 1000);
    const m2 = send(state, store, 'bob', 1000);
    const m3 = send(state, store, 'alice', 2000);
    return { state, view, store, m1, m2, m3 };
  }
  const input = (by: string, ref: MsgRef, now: number) => ({ by, ref, now, idServer: 'n1', windowMs: 120_000, options: { ps: 'oops', attach: '{"a":1}' } });

  it('marks the message recalled with a deleteMsg notice; history, lookups and the last message leave it out', () => {
    const { state, view, store, m1, m3 } = setup();
    const { notice, event } = decideRecall(state, view, input('alice', refOf(m3), 5000));
    expect(notice).toMatchObject({ type: 'deleteMsg', from: 'alice', to: 'bob', time: 5000, ps: 'oops', attach: '{"a":1}', msg: { idServer: m3.idServer, idClient: m3.idClient } });
    commit(state, store, event!);
    const page = historyPage(state, view, { beginTime: 0, endTime: 0, limit: 100, reverse: false, asc: false }, 'bob');
    expect(page.map((m) => m.seq)).toEqual([2, 1]);
    expect(messagesByRef(state, view, [refOf(m3), refOf(m1)], 'bob').map((m) => m.seq)).toEqual([1]);
    expect(lastVisible(state, view)?.seq).toBe(2);
    // A second recall answers the same notice and changes nothing.
    expect(decideRecall(state, view, input('alice', refOf(m3), 6000))).toEqual({ notice });
    expect(viewOf(view.bySeq(3)!, 'alice')).not.toHaveProperty('recalled');
  });

  it('refuses somebody else\'s message, an unknown one, and one past the window', () => {
    const { state, view, m1, m2 } = setup();
    expect(() => decideRecall(state, view, input('alice', refOf(m2), 1500))).toThrow(expect.objectContaining({ name: 'FORBIDDEN' }));
    expect(() => decideRecall(state, view, input('alice', { ...refOf(m1), idServer: 'nope' }, 1500))).toThrow(expect.objectContaining({ name: 'NOT_FOUND' }));
    expect(() => decideRecall(state, view, input('alice', { ...refOf(m1), to: 'carol' }, 1500))).toThrow(expect.objectContaining({ name: 'NOT_FOUND' }));
    expect(() => decideRecall(state, view, input('alice', refOf(m1), 1000 + 120_001))).toThrow(expect.objectContaining({ name: 'EXPIRED', message: expect.stringMatching(/120000 ms/) }));
    expect(decideRecall(state, view, input('alice', refOf(m1), 1000 + 120_000)).event?.t).toBe('recall');
  });

  it('finds a message among several of the same time, and one recalled in the same batch before its row is written', () => {
    const { state, view, m1, m2 } = setup();
    expect(locate(state, view, refOf(m2))?.seq).toBe(2);
    expect(locate(state, view, refOf(m1))?.seq).toBe(1);
    const { event } = decideRecall(state, view, input('alice', refOf(m1), 1500));
    applyRowChange(state, event as ConversationEvent & { t: 'recall' });
    expect(locate(state, view, refOf(m1))?.recalled).toBeDefined();
  });
});

describe('delete for self', () => {
  it('hides messages from the viewer only, answers repeats without a change, refuses unknown and recalled ones', () => {
    const state = initialState('alice|bob');
    const { view, store } = memoryView();
    const m1 = send(state, store, 'alice', 1000);
    const m2 = send(state, store, 'bob', 1100);
    const { deleted, event } = decideHide(state, view, { viewer: 'bob', refs: [refOf(m1), refOf(m2), refOf(m1)], now: 3000, custom: 'c' });
    expect(deleted).toEqual([
      expect.objectContaining({ idServer: m1.idServer, sessionId: 'p2p-alice', deletedTime: 3000, custom: 'c' }),
      expect.objectContaining({ idServer: m2.idServer, sessionId: 'p2p-alice' }),
    ]);
    commit(state, store, event!);
    const q = { beginTime: 0, endTime: 0, limit: 100, reverse: false, asc: true };
    expect(historyPage(state, view, q, 'bob')).toEqual([]);
    expect(historyPage(state, view, q, 'alice').map((m) => m.seq)).toEqual([1, 2]);
    expect(historyPage(state, view, { ...q, msgTypes: ['geo'] }, 'alice')).toEqual([]);
    expect(decideHide(state, view, { viewer: 'bob', refs: [refOf(m1)], now: 4000 }).event).toBeUndefined();
    expect(() => decideHide(state, view, { viewer: 'bob', refs: [refOf(m1), { ...refOf(m1), idServer: 'x' }], now: 4000 })).toThrow(
      expect.objectContaining({ name: 'NOT_FOUND', message: expect.stringMatching(/^message 1 /) }),
    );
    const recalled = decideRecall(state, view, { by: 'alice', ref: refOf(m1), now: 1500, idServer: 'n', windowMs: 1000, options: {} });
    commit(state, store, recalled.event!);
    expect(() => decideHide(state, view, { viewer: 'alice', refs: [refOf(m1)], now: 5000 })).toThrow(expect.objectContaining({ name: 'NOT_FOUND' }));
  });
});
