/**
 * The presence actor's event decisions without I/O: subscriptions within
 * the per-account limit (renewals always fit, oneself never), lapsed ones
 * freeing room; the latest events kept per slot, expired ones left out and
 * only `broadcastType` 2 at login; the node's index of devices by edge.
 */
import { describe, expect, it } from 'vitest';
import { DeviceIndex, EVENTS_APPLY, MAX_KEPT_EVENTS, decideSubscribe, emptyEventsState, liveEvents, liveSubscriptions, publishing } from '../../actors/presence/events.ts';
import type { EventsEvent, EventsState } from '../../actors/presence/events.ts';

function apply(state: EventsState, events: EventsEvent[]): void {
  for (const e of events) {
    if (e.t === 'evPublished') EVENTS_APPLY.evPublished(state, e);
    else if (e.t === 'evSubscribed') EVENTS_APPLY.evSubscribed(state, e);
    else EVENTS_APPLY.evUnsubscribed(state, e);
  }
}

describe('event subscriptions', () => {
  it('fit within the limit; renewals fit; oneself fails; a full account is refused', () => {
    const s = emptyEventsState();
    const r = decideSubscribe(s, 'me', ['me', 'a', 'b', 'c'], 60, 1000, 2);
    expect(r.failed).toEqual(['me', 'c']);
    expect(r.ok).toEqual([
      ['a', 61_000],
      ['b', 61_000],
    ]);
    apply(s, r.events);
    expect(decideSubscribe(s, 'me', ['a'], 120, 2000, 2).failed).toEqual([]);
    expect(() => decideSubscribe(s, 'me', ['c'], 60, 2000, 2)).toThrow(/2 event subscriptions/);
  });

  it('lapse: no longer listed, and their room is free again', () => {
    const s = emptyEventsState();
    apply(s, decideSubscribe(s, 'me', ['a', 'b'], 60, 0, 2, 10).events);
    expect(liveSubscriptions(s, 599).map((x) => x.account)).toEqual(['a', 'b']);
    expect(liveSubscriptions(s, 600)).toEqual([]);
    const r = decideSubscribe(s, 'me', ['c'], 60, 600, 2, 10);
    expect(r.events[0]).toEqual({ t: 'evUnsubscribed', pubs: ['a', 'b'] });
    apply(s, r.events);
    expect([...s.subs.keys()]).toEqual(['c']);
  });
});

describe('published events', () => {
  const pub = (value: number, now: number, validMs: number, broadcastType = 2) =>
    publishing('p', { value, validMs, broadcastType, clientType: 'web', idServer: `id${value}-${now}`, now }, `v:${value}`);

  it('keep the latest of each slot; expired ones and, at login, broadcastType 1 are left out', () => {
    const s = emptyEventsState();
    apply(s, [pub(10001, 0, 100), pub(10002, 10, 1000, 1), pub(10001, 20, 1000)]);
    expect(liveEvents(s, 30, false).map((e) => [e.value, e.time])).toEqual([
      [10002, 10],
      [10001, 20],
    ]);
    expect(liveEvents(s, 30, true).map((e) => e.value)).toEqual([10001]);
    expect(liveEvents(s, 1020, false)).toEqual([]);
  });

  it('keep at most MAX_KEPT_EVENTS slots', () => {
    const s = emptyEventsState();
    apply(s, Array.from({ length: MAX_KEPT_EVENTS + 5 }, (_, i) => pub(10001 + i, i, 10_000)));
    expect(s.latest.size).toBe(MAX_KEPT_EVENTS);
    expect(liveEvents(s, 100, false)[0]!.value).toBe(10006);
  });
});

describe('device index', () => {
  it('answers the accounts with devices on an edge, once each', () => {
    const index = new DeviceIndex();
    index.add('e1', 'a', 'd1');
    index.add('e1', 'a', 'd2');
    index.add('e1', 'b', 'd1');
    index.add('e2', 'c', 'd1');
    index.remove('e1', 'b', 'd1');
    expect(index.edges().sort()).toEqual(['e1', 'e2']);
    expect(index.take('e1')).toEqual(['a']);
    expect(index.edges()).toEqual(['e2']);
  });
});
