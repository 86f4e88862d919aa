/**
 * The presence actor's part of event subscription, without I/O: the events
 * the account published (the latest of each value, and the latest built-in
 * online status of each device type), and the subscriptions the account
 * holds to other accounts' events. Both expire by time; expiry is judged
 * against the clock when read, and expired entries are dropped by the next
 * change.
 *
 * Fan-out is not here: an event is published once on its publisher's
 * subject (`eventsSubject`), and each edge holding sockets of subscribers
 * writes it to them (see edge/events.ts).
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { EventSubscription, PushEvent } from '../../engine/protocol/methods/events.ts';
import { EVENT_TYPE, MAX_RESERVED_EVENT_VALUE } from '../../engine/protocol/methods/events.ts';
import { subjectToken } from '../../engine/subjects.ts';

/** An event kept by its publisher's presence actor. */
export interface StoredEvent {
  ev: PushEvent;
  /** When it lapses, ms. */
  expiresAt: number;
  /** 1: online subscribers only; 2: also at a subscriber's next login. */
  broadcastType: number;
}

/** One subscription held: the account watched → since when and for how long. */
export interface HeldSubscription {
  time: number;
  sec: number;
  /** When it lapses, ms. */
  expireAt: number;
}

export interface EventsState {
  /** Subscriptions this account holds, by the account watched. */
  subs: Map<string, HeldSubscription>;
  /** The latest events this account published, by slot (`v:<value>` or `s:<deviceType>`). */
  latest: Map<string, StoredEvent>;
}

export type EventsEvent =
  | { t: 'evPublished'; key: string; stored: StoredEvent; sync?: { exclude?: string } }
  | { t: 'evSubscribed'; pubs: string[]; time: number; sec: number; expireAt: number }
  | { t: 'evUnsubscribed'; pubs?: string[] };

/** Most events kept per publisher (slots): the oldest go first. */
export const MAX_KEPT_EVENTS = 32;

/** The subject a publisher's events travel on; an edge subscribes to it while it holds a subscriber. */
export function eventsSubject(publisher: string): string {
  return `parley.evt.${subjectToken(publisher)}`;
}

export function emptyEventsState(): EventsState {
  return { subs: new Map(), latest: new Map() };
}

/** Refuses reserved values with a message saying which are free. */
export function checkCustomValue(value: number): void {
  if (value <= MAX_RESERVED_EVENT_VALUE) {
    throw new ParleyError(
      'BAD_REQUEST',
      `\`value\` ${value} is reserved: 1–${MAX_RESERVED_EVENT_VALUE} are the engine's own (1 online, 2 logged out, 3 disconnected); custom values are above ${MAX_RESERVED_EVENT_VALUE}`,
    );
  }
}

/** A new event of `account` (custom or built-in) as the publish event. */
export function publishing(
  account: string,
  p: { value: number; custom?: string | undefined; validMs: number; broadcastType: number; clientType: string; idServer: string; now: number },
  key: string,
  sync?: { exclude?: string },
): EventsEvent {
  const ev: PushEvent = { account, type: EVENT_TYPE, value: p.value, time: p.now, clientType: p.clientType, idServer: p.idServer };
  if (p.custom !== undefined) ev.custom = p.custom;
  const e: EventsEvent = { t: 'evPublished', key, stored: { ev, expiresAt: p.now + p.validMs, broadcastType: p.broadcastType } };
  if (sync !== undefined) e.sync = sync;
  return e;
}

/** The live events of the publisher; with `atLogin`, only those meant for offline subscribers too. */
export function liveEvents(state: EventsState, now: number, atLogin: boolean): PushEvent[] {
  const out: PushEvent[] = [];
  for (const s of state.latest.values()) {
    if (s.expiresAt <= now) continue;
    if (atLogin && s.broadcastType !== 2) continue;
    out.push(s.ev);
  }
  return out.sort((a, b) => a.time - b.time);
}

function expireOf(h: HeldSubscription): number {
  return h.expireAt;
}

/** The live subscriptions held, oldest first; `only` narrows to those accounts. */
export function liveSubscriptions(state: EventsState, now: number, only?: readonly string[]): EventSubscription[] {
  const names = only === undefined ? [...state.subs.keys()] : only.filter((a) => state.subs.has(a));
  const out: EventSubscription[] = [];
  for (const account of names) {
    const h = state.subs.get(account)!;
    const expireTime = expireOf(h);
    if (expireTime <= now) continue;
    out.push({ account, type: EVENT_TYPE, time: h.time, subscribeTime: h.sec, expireTime });
  }
  return out.sort((a, b) => a.time - b.time);
}

/**
 * Subscribes to `pubs` for `sec` seconds (of `secondMs` each) at `now`, within `max` live
 * subscriptions: renewals always fit; new ones past the room fail, and so
 * does subscribing to oneself. BAD_REQUEST when none fit.
 */
export function decideSubscribe(
  state: EventsState,
  self: string,
  pubs: readonly string[],
  sec: number,
  now: number,
  max: number,
  secondMs = 1000,
): { events: EventsEvent[]; failed: string[]; ok: Array<[string, number]> } {
  const expired = [...state.subs].filter(([, h]) => expireOf(h) <= now).map(([a]) => a);
  let live = state.subs.size - expired.length;
  const dead = new Set(expired);
  const failed: string[] = [];
  const ok: string[] = [];
  for (const pub of new Set(pubs)) {
    if (pub === self) {
      failed.push(pub);
      continue;
    }
    const renewal = state.subs.has(pub) && !dead.has(pub);
    if (!renewal && live >= max) {
      failed.push(pub);
      continue;
    }
    if (!renewal) live++;
    ok.push(pub);
  }
  if (ok.length === 0 && failed.some((a) => a !== self)) {
    throw new ParleyError('BAD_REQUEST', `this account holds ${max} event subscriptions, the most allowed: cancel some first (unSubscribeEventsByAccounts)`);
  }
  const events: EventsEvent[] = [];
  if (expired.length > 0) events.push({ t: 'evUnsubscribed', pubs: expired });
  const expireAt = now + sec * secondMs;
  if (ok.length > 0) events.push({ t: 'evSubscribed', pubs: ok, time: now, sec, expireAt });
  return { events, failed, ok: ok.map((a) => [a, expireAt]) };
}

export const EVENTS_APPLY = {
  evPublished(state: EventsState, e: Extract<EventsEvent, { t: 'evPublished' }>): void {
    for (const [k, s] of state.latest) if (s.expiresAt <= e.stored.ev.time) state.latest.delete(k);
    state.latest.delete(e.key);
    state.latest.set(e.key, e.stored);
    for (const k of state.latest.keys()) {
      if (state.latest.size <= MAX_KEPT_EVENTS) break;
      state.latest.delete(k);
    }
  },
  evSubscribed(state: EventsState, e: Extract<EventsEvent, { t: 'evSubscribed' }>): void {
    for (const pub of e.pubs) {
      state.subs.delete(pub);
      state.subs.set(pub, { time: e.time, sec: e.sec, expireAt: e.expireAt });
    }
  },
  evUnsubscribed(state: EventsState, e: Extract<EventsEvent, { t: 'evUnsubscribed' }>): void {
    if (e.pubs === undefined) state.subs.clear();
    else for (const pub of e.pubs) state.subs.delete(pub);
  },
};

/**
 * Which accounts' presence actors on this node hold devices of each edge
 * instance: kept in memory as the actors load and apply, so a node can
 * find the devices of an edge whose heartbeat went silent and have their
 * actors report them disconnected (see `PresenceSweeper`).
 */
export class DeviceIndex {
  /** By edge: the account of each device held there, by `account` + NUL + `deviceId`. */
  private readonly byEdge = new Map<string, Map<string, string>>();

  add(edge: string, account: string, deviceId: string): void {
    let devices = this.byEdge.get(edge);
    if (devices === undefined) this.byEdge.set(edge, (devices = new Map()));
    devices.set(`${account}\u0000${deviceId}`, account);
  }

  remove(edge: string, account: string, deviceId: string): void {
    const devices = this.byEdge.get(edge);
    if (devices === undefined) return;
    devices.delete(`${account}\u0000${deviceId}`);
    if (devices.size === 0) this.byEdge.delete(edge);
  }

  edges(): string[] {
    return [...this.byEdge.keys()];
  }

  /** Forgets `edge` and answers the accounts that had devices on it. */
  take(edge: string): string[] {
    const devices = this.byEdge.get(edge);
    this.byEdge.delete(edge);
    return devices === undefined ? [] : [...new Set(devices.values())];
  }
}
