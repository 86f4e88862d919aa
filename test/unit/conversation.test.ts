import { describe, expect, it } from 'vitest';
import {
  applyEvent,
  decideSend,
  findResend,
  historyPage,
  initialState,
  membersOf,
  viewOf,
  type ConversationState,
  type ConversationView,
  type StoredMessage,
} from '../../actors/conversation/logic.ts';
import { parseRequest } from '../../engine/protocol/methods.ts';

/** An in-memory view standing in for the LMDB rows. */
function memoryView() {
  const bySeq = new Map<number, StoredMessage>();
  const idc = new Map<string, number>();
  const view: ConversationView = {
    bySeq: (seq) => bySeq.get(seq),
    seqOfIdClient: (from, idClient) => idc.get(`${from}/${idClient}`),
  };
  const store = (m: StoredMessage) => {
    bySeq.set(m.seq, m);
    idc.set(`${m.from}/${m.idClient}`, m.seq);
  };
  return { view, store };
}

function send(state: ConversationState, store: (m: StoredMessage) => void, from: string, text: string, now: number, idClient = `${from}-${text}`) {
  const args = parseRequest('sendText', { scene: 'p2p', to: from === 'alice' ? 'bob' : 'alice', text, idClient });
  const event = decideSend(state, {
    from,
    fromDeviceId: 'd1',
    fromClientType: 'web',
    idClient,
    now,
    idServer: `id-${state.lastSeq + 1}`,
    type: 'text',
    body: { text },
    args,
  });
  applyEvent(state, event);
  store(event.msg);
  return event.msg;
}

describe('p2p conversation rules', () => {
  it('sorts the members of the address', () => {
    expect(membersOf('bob|alice')).toEqual(['alice', 'bob']);
    expect(() => membersOf('alice')).toThrow(/malformed/);
  });

  it('numbers messages 1, 2, 3 without gaps and never lets time go back', () => {
    const state = initialState('alice|bob');
    const { store } = memoryView();
    const a = send(state, store, 'alice', 'one', 1000);
    const b = send(state, store, 'bob', 'two', 900);
    const c = send(state, store, 'alice', 'three', 1100);
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
    expect([a.time, b.time, c.time]).toEqual([1000, 1000, 1100]);
    expect(Object.fromEntries(state.sent)).toEqual({ alice: 2, bob: 1 });
  });

  it('finds a resend by (from, idClient) and replays idempotently', () => {
    const state = initialState('alice|bob');
    const { view, store } = memoryView();
    const first = send(state, store, 'alice', 'hi', 1000, 'c1');
    expect(findResend(state, view, 'alice', 'c1')).toEqual(first);
    expect(findResend(state, view, 'bob', 'c1')).toBeUndefined();
    applyEvent(state, { t: 'msg', msg: first });
    expect(state.lastSeq).toBe(1);
    expect(state.sent.get('alice')).toBe(1);
  });

  it('finds a resend decided earlier in the same batch, before its row is stored', () => {
    // A retry queued behind its original (a slow activation, a held request) is decided in the
    // same batch: the original is applied to the state but not yet in LMDB.
    const state = initialState('alice|bob');
    const { view } = memoryView();
    const first = send(state, () => {}, 'alice', 'hi', 1000, 'c1');
    expect(findResend(state, view, 'alice', 'c1')).toEqual(first);
  });

  it('refuses senders outside the pair', () => {
    const state = initialState('alice|bob');
    const args = parseRequest('sendText', { scene: 'p2p', to: 'bob', text: 'x' });
    expect(() =>
      decideSend(state, { from: 'eve', fromDeviceId: 'd', fromClientType: 'web', idClient: 'x', now: 1, idServer: '1', type: 'text', body: { text: 'x' }, args }),
    ).toThrow(/not a member/);
  });

  it('shows flow, session id and target relative to the viewer', () => {
    const state = initialState('alice|bob');
    const { store } = memoryView();
    const m = send(state, store, 'alice', 'hi', 1);
    expect(viewOf(m, 'alice')).toMatchObject({ flow: 'out', sessionId: 'p2p-bob', target: 'bob', from: 'alice', to: 'bob' });
    expect(viewOf(m, 'bob')).toMatchObject({ flow: 'in', sessionId: 'p2p-alice', target: 'alice' });
  });

  describe('history paging', () => {
    // Ten messages; times 100, 100, 200, 200, 200, 300, 400, 400, 500, 600.
    const times = [100, 100, 200, 200, 200, 300, 400, 400, 500, 600];
    const state = initialState('alice|bob');
    const { view, store } = memoryView();
    times.forEach((t, i) => send(state, store, i % 2 === 0 ? 'alice' : 'bob', `m${i + 1}`, t));
    const q = (over: Record<string, unknown>) =>
      historyPage(state, view, parseRequest('getHistoryMsgs', { scene: 'p2p', to: 'bob', ...over })).map((m) => m.seq);

    it('defaults to the newest first, all of them', () => {
      expect(q({})).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      expect(q({ asc: true })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('walks back from endTime, inclusive', () => {
      expect(q({ endTime: 400, limit: 3 })).toEqual([8, 7, 6]);
      expect(q({ endTime: 399, limit: 3 })).toEqual([6, 5, 4]);
    });

    it('walks forward from beginTime with reverse', () => {
      expect(q({ beginTime: 200, reverse: true, limit: 2 })).toEqual([4, 3]);
      expect(q({ beginTime: 200, reverse: true, limit: 2, asc: true })).toEqual([3, 4]);
    });

    it('pages through equal timestamps without repeating or skipping', () => {
      const seen: number[] = [];
      let page = historyPage(state, view, parseRequest('getHistoryMsgs', { scene: 'p2p', to: 'bob', limit: 2 }));
      while (page.length > 0) {
        seen.push(...page.map((m) => m.seq));
        const last = page[page.length - 1]!;
        page = historyPage(state, view, parseRequest('getHistoryMsgs', { scene: 'p2p', to: 'bob', limit: 2, endTime: last.time, lastMsgId: last.idServer }));
      }
      expect(seen).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);

      const forward: number[] = [];
      page = historyPage(state, view, parseRequest('getHistoryMsgs', { scene: 'p2p', to: 'bob', limit: 3, reverse: true, asc: true }));
      while (page.length > 0) {
        forward.push(...page.map((m) => m.seq));
        const last = page[page.length - 1]!;
        page = historyPage(state, view, parseRequest('getHistoryMsgs', { scene: 'p2p', to: 'bob', limit: 3, reverse: true, asc: true, beginTime: last.time, lastMsgId: last.idServer }));
      }
      expect(forward).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('bounds by both times and filters types', () => {
      expect(q({ beginTime: 200, endTime: 300 })).toEqual([6, 5, 4, 3]);
      expect(q({ msgTypes: ['image'] })).toEqual([]);
      expect(q({ msgTypes: ['text'], limit: 1 })).toEqual([10]);
      expect(q({ beginTime: 700 })).toEqual([]);
    });
  });

  it('keeps messages with isHistoryable false out of history', () => {
    const state = initialState('alice|bob');
    const { view, store } = memoryView();
    send(state, store, 'alice', 'kept', 1);
    const args = parseRequest('sendText', { scene: 'p2p', to: 'bob', text: 'hidden', isHistoryable: false });
    const ev = decideSend(state, { from: 'alice', fromDeviceId: 'd', fromClientType: 'web', idClient: 'h', now: 2, idServer: 'h', type: 'text', body: { text: 'hidden' }, args });
    applyEvent(state, ev);
    store(ev.msg);
    expect(historyPage(state, view, parseRequest('getHistoryMsgs', { scene: 'p2p', to: 'bob' })).map((m) => m.text)).toEqual(['kept']);
  });
});
