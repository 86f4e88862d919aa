/** The system notification store's rules, without servers: numbering, times, the bound, acknowledgements and unread counts. */
import { afterEach, describe, expect, it } from 'vitest';
import { applyPost, applyRead, decideMarkRead, decidePost, sysMsgSettings, unreadOf, type SysMsgEvent, type WithSysMsgs } from '../../actors/user/sysmsgs.ts';
import type { PostSysMsgArgs } from '../../actors/user/calls.ts';
import type { SysMsg } from '../../engine/protocol/objects.ts';

const fresh = (): WithSysMsgs => ({ account: 'bob', sysmsgs: { next: 0, lastTime: 0, entries: [] } });

function apply(state: WithSysMsgs, events: SysMsgEvent[]): void {
  for (const e of events) {
    if (e.t === 'sysmsgPost') applyPost(state, e);
    else applyRead(state, e);
  }
}

function post(state: WithSysMsgs, msg: PostSysMsgArgs['msg'], now: number) {
  const out = decidePost(state, { msg }, now);
  apply(state, out.events);
  return out;
}

const friend = (idServer: string, from = 'carol'): Omit<SysMsg, 'time'> & { time?: number } => ({ type: 'applyFriend', scene: 'p2p', from, to: 'bob', idServer, time: 10 });
const custom = (idServer: string): PostSysMsgArgs['msg'] => ({
  type: 'custom', scene: 'p2p', from: 'carol', to: 'bob', idServer, content: 'c', sendToOnlineUsersOnly: false, isPushable: true, needPushNick: false, cc: true,
});

describe('system notification store', () => {
  afterEach(() => {
    sysMsgSettings.maxStored = 1000;
  });

  it('numbers posts, counts what others caused per type, and skips a repeated idServer', () => {
    const s = fresh();
    post(s, friend('a'), 100);
    post(s, { type: 'deleteMsg', scene: 'p2p', from: 'bob', to: 'carol', idServer: 'own', time: 11 }, 100);
    expect(s.sysmsgs.entries.map((e) => [e.n, e.idServer, e.counted])).toEqual([[1, 'a', true], [2, 'own', false]]);
    expect(unreadOf(s)).toMatchObject({ applyFriend: 1, deleteMsg: 0, total: 1 });
    expect(decidePost(s, { msg: { ...friend('a'), ps: 'again' } }, 200).events).toEqual([]);
    expect(s.sysmsgs.entries.filter((e) => e.idServer === 'a')).toHaveLength(1);
  });

  it('gives stored custom notifications strictly increasing times, and never counts them', () => {
    const s = fresh();
    const one = post(s, custom('c1'), 500).msg;
    const two = post(s, custom('c2'), 500).msg;
    const three = post(s, custom('c3'), 400).msg;
    expect([one.time, two.time, three.time]).toEqual([500, 501, 502]);
    expect(unreadOf(s).total).toBe(0);
  });

  it('drops the oldest past the bound, counts included', () => {
    sysMsgSettings.maxStored = 2;
    const s = fresh();
    post(s, friend('a'), 1);
    post(s, friend('b'), 2);
    const { events } = post(s, friend('c'), 3);
    expect(events[0]).toMatchObject({ t: 'sysmsgPost', n: 3, drop: [1] });
    expect(s.sysmsgs.entries.map((e) => e.idServer)).toEqual(['b', 'c']);
    expect(unreadOf(s).applyFriend).toBe(2);
    // Custom ones count apart: they push out only older custom ones.
    post(s, custom('x'), 4);
    post(s, custom('y'), 5);
    post(s, custom('z'), 6);
    expect(s.sysmsgs.entries.map((e) => e.idServer)).toEqual(['b', 'c', 'y', 'z']);
  });

  it('acknowledges by idServer, skipping unknown ones, and replays to the same state', () => {
    const s = fresh();
    const events: SysMsgEvent[] = [];
    for (const id of ['a', 'b', 'c']) events.push(...post(s, friend(id), 1).events);
    const marked = decideMarkRead(s, ['b', 'zz', 'b'], 9);
    expect(marked.idServers).toEqual(['b']);
    apply(s, marked.events);
    expect(s.sysmsgs.entries.map((e) => e.idServer)).toEqual(['a', 'c']);
    expect(decideMarkRead(s, ['b'], 10)).toEqual({ idServers: [], events: [] });
    // The Log replayed from the start rebuilds the same index; an event applied twice changes nothing.
    const replay = fresh();
    apply(replay, [...events, ...events, ...marked.events]);
    expect(replay.sysmsgs).toEqual(s.sysmsgs);
  });
});
