/**
 * The presence actor (`presence:<account>`): the account's devices online
 * now, across edges, and the login policy applied to each new one. Its state
 * is small (a few devices), so it lives in the actor's snapshot; the Log
 * replays the logins and logouts since.
 *
 * Edges come and go without telling: an entry whose edge stopped sending
 * its heartbeat (`EdgeLiveness`) is not counted and is dropped by the next
 * decision. Liveness is read only by handlers, never by `apply`, so a replay
 * reaches the same state.
 */
import { pageBudget } from '../../engine/actor/behavior.ts';
import type { ActorContext, Effect } from '../../engine/actor/behavior.ts';
import { DEFAULT_MAX_SUBSCRIPTIONS, EVENT_DISCONNECTED, EVENT_LOGGED_OUT, EVENT_ONLINE, MAX_EVENT_VALID_SEC } from '../../engine/protocol/methods/events.ts';
import { EVENTS_APPLY, checkCustomValue, decideSubscribe, eventsSubject, liveEvents, liveSubscriptions, publishing } from './events.ts';
import type { DeviceIndex, EventsEvent, EventsState, HeldSubscription, StoredEvent } from './events.ts';
import { defineActor } from '../../engine/actor/define.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { callEffect, callerOf } from '../../engine/actor/define.ts';
import { tokenDigest, tokenHolderAddress, tokenHolderCalls } from './token-holders.ts';
import type { ActorDefinition, DefinedActor } from '../../engine/actor/define.ts';
import type { DeviceEntry, PushTokenEntry, SignalingSyncReply } from './calls.ts';
import type { SignalingNotify } from '../../engine/protocol/methods/signaling.ts';
import { presenceCalls } from './calls.ts';
import { PRESENCE_EVENT_APPLY, decideForgetToken, decideOffline, decideOnline, decideRegisterToken, deviceEdges, onlineDevices, pushTargets } from './logic.ts';
import type { IsEdgeAlive, PresenceEvent, PresenceState } from './logic.ts';

interface PresenceSnapshot {
  logSeq: number;
  devices?: DeviceEntry[];
  signals?: SignalingNotify[];
  channels?: Array<[string, number]>;
  subs?: Array<[string, HeldSubscription]>;
  latest?: Array<[string, StoredEvent]>;
  tokens?: PushTokenEntry[];
}

/** What the presence actor is built with besides edge liveness. */
export interface PresenceOptions {
  /** Most event subscriptions one account holds. */
  maxSubscriptions?: number;
  /** How long one second of `validTime` and `subscribeTime` lasts, ms (1000; shortened in tests). */
  secondMs?: number;
  /** This node's index of devices by edge, for `PresenceSweeper`. */
  index?: DeviceIndex;
}

/** Online status events for devices that go (`offline` events in `events`) and come (`online`), published to the account's subscribers. */
function withStatus(state: PresenceState, events: PresenceEvent[], ctx: ActorContext, valueOf: (deviceId: string) => number): PresenceEvent[] {
  const out: PresenceEvent[] = [];
  const now = ctx.now();
  for (const e of events) {
    out.push(e);
    let value: number;
    let deviceType: string;
    if (e.t === 'offline') {
      const d = state.devices.get(e.deviceId);
      if (d === undefined || d.conn !== e.conn) continue;
      value = valueOf(e.deviceId);
      deviceType = d.deviceType;
    } else if (e.t === 'online') {
      // A repeated report of the same socket is no new login.
      if (state.devices.get(e.device.deviceId)?.conn === e.device.conn) continue;
      value = EVENT_ONLINE;
      deviceType = e.device.deviceType;
    } else continue;
    out.push(publishing(state.account, { value, validMs: MAX_EVENT_VALID_SEC * 1000, broadcastType: 2, clientType: deviceType, idServer: ctx.nextIdServer(now), now }, `s:${deviceType}`));
  }
  return out;
}

/** The presence actor's tables, reading edge liveness from `alive`. */
export function presenceActor(alive: IsEdgeAlive, options: PresenceOptions = {}) {
  const maxSubscriptions = options.maxSubscriptions ?? DEFAULT_MAX_SUBSCRIPTIONS;
  const index = options.index;
  const secondMs = options.secondMs ?? 1000;
  return {
    kind: 'presence' as const,
    calls: presenceCalls,

    load(ctx) {
      const snap = ctx.store.snapshot<PresenceSnapshot>(ctx.address);
      const devices = new Map<string, DeviceEntry>();
      for (const d of snap?.devices ?? []) devices.set(d.deviceId, d);
      const signals = new Map((snap?.signals ?? []).map((n) => [n.msgid, n]));
      const events: EventsState = { subs: new Map(snap?.subs ?? []), latest: new Map(snap?.latest ?? []) };
      if (index !== undefined) for (const d of devices.values()) index.add(d.edge, ctx.id, d.deviceId);
      const tokens = new Map((snap?.tokens ?? []).map((t) => [t.deviceId, t]));
      return { state: { account: ctx.id, devices, signals, channels: new Map(snap?.channels ?? []), events, tokens }, logSeq: snap?.logSeq ?? 0 };
    },

    methods: {
      publishEvent(state, a, caller, ctx) {
        checkCustomValue(a.value);
        const now = ctx.now();
        const sync = a.sync ? (caller === undefined ? {} : { exclude: caller.conn }) : undefined;
        const p = { value: a.value, custom: a.custom, validMs: a.validTime * secondMs, broadcastType: a.broadcastType, clientType: caller?.deviceType ?? 'server', idServer: ctx.nextIdServer(now), now };
        const e = publishing(state.account, p, `v:${a.value}`, sync);
        return { reply: (e as Extract<EventsEvent, { t: 'evPublished' }>).stored.ev, events: [e] };
      },
      querySubscribeEventsByAccounts: (state, a, _c, ctx) => ({ reply: liveSubscriptions(state.events, ctx.now(), a.accounts) }),
      querySubscribeEventsByType: (state, _a, _c, ctx) => ({ reply: liveSubscriptions(state.events, ctx.now()) }),
      registerPushToken(state, a, c, ctx) {
        const caller = callerOf(c, 'registerPushToken');
        return decideRegisterToken(state, caller, a.token, a.provider, ctx.now());
      },
      signalingMarkMsgRead(state, a) {
        const msgids = a.msgid.filter((id) => state.signals.has(id));
        return { reply: { count: msgids.length }, events: msgids.length === 0 ? [] : [{ t: 'signalsRead', msgids }] };
      },
    },

    callHandlers: {
      online(state, a, _caller, ctx) {
        const { events, evict } = decideOnline(state, a, alive, ctx.now());
        const evicted = new Set(evict);
        // A device displaced by another login is logged out of the account: it gets no more pushes either.
        const forget = evict.flatMap((id) => decideForgetToken(state, id));
        return { reply: { evict }, events: [...withStatus(state, events, ctx, (id) => (evicted.has(id) ? EVENT_LOGGED_OUT : EVENT_DISCONNECTED)), ...forget] };
      },
      offline(state, a, _c, ctx) {
        const events = decideOffline(state, a.deviceId, a.conn);
        // An explicit logout means the device wants no more pushes; a dropped socket keeps its token.
        const forget = events.length > 0 && a.value === EVENT_LOGGED_OUT ? decideForgetToken(state, a.deviceId) : [];
        return { reply: true, events: [...withStatus(state, events, ctx, () => a.value ?? EVENT_DISCONNECTED), ...forget] };
      },
      pushTargets: (state) => ({ reply: pushTargets(state, alive) }),
      releaseToken(state, a) {
        const held = state.tokens.get(a.deviceId);
        return { reply: true, events: held !== undefined && tokenDigest(held.token) === a.digest ? decideForgetToken(state, a.deviceId) : [] };
      },
      eventSubscribe(state, a, _c, ctx) {
        const { events, failed, ok } = decideSubscribe(state.events, state.account, a.pubs, a.sec, ctx.now(), maxSubscriptions, secondMs);
        return { reply: { failed, ok, edges: deviceEdges(state, alive) }, events };
      },
      eventUnsubscribe(state, a) {
        if (a.pubs === undefined) return { reply: true, events: state.events.subs.size === 0 ? [] : [{ t: 'evUnsubscribed' }] };
        const pubs = a.pubs.filter((p) => state.events.subs.has(p));
        return { reply: true, events: pubs.length === 0 ? [] : [{ t: 'evUnsubscribed', pubs }] };
      },
      eventSubs: (state, _a, _c, ctx) => ({ reply: liveSubscriptions(state.events, ctx.now()).map((s): [string, number] => [s.account, s.expireTime]) }),
      latestEvents: (state, a, _c, ctx) => ({ reply: liveEvents(state.events, ctx.now(), a.atLogin) }),
      sweep(state, _a, _c, ctx) {
        const { events } = onlineDevices(state, alive);
        return { reply: events.length, events: withStatus(state, events, ctx, () => EVENT_DISCONNECTED) };
      },
      storeSignal: (state, a) => ({ reply: true, events: state.signals.has(a.notify.msgid) ? [] : [{ t: 'signal', notify: a.notify }] }),
      channelIn: (state, a) => ({ reply: true, events: state.channels.has(a.channelId) === a.in ? [] : [{ t: 'channelIn', channelId: a.channelId, in: a.in, at: a.at }] }),
      signalingSync(state, a, _c, ctx) {
        const budget = pageBudget(ctx, a.maxBytes);
        const all = [...state.signals.values()];
        const reply: SignalingSyncReply = { channels: a.from === 0 ? [...state.channels.keys()] : [], signals: [] };
        let bytes = 0;
        for (let i = a.from; i < all.length; i++) {
          const size = encode(all[i]).byteLength;
          if (reply.signals.length > 0 && bytes + size > budget) {
            reply.next = i;
            break;
          }
          reply.signals.push(all[i]!);
          bytes += size;
        }
        return { reply };
      },
      devices(state, _a, _c, ctx) {
        const { devices, events } = onlineDevices(state, alive);
        return { reply: devices, events: withStatus(state, events, ctx, () => EVENT_DISCONNECTED) };
      },
    },

    events: {
      online: {
        apply(state, e) {
          const held = state.devices.get(e.device.deviceId);
          if (held !== undefined) index?.remove(held.edge, state.account, held.deviceId);
          PRESENCE_EVENT_APPLY.online(state, e);
          index?.add(e.device.edge, state.account, e.device.deviceId);
        },
      },
      offline: {
        apply(state, e) {
          const held = state.devices.get(e.deviceId);
          if (held !== undefined && held.conn === e.conn) index?.remove(held.edge, state.account, held.deviceId);
          PRESENCE_EVENT_APPLY.offline(state, e);
        },
      },
      evPublished: { apply: (state, e) => EVENTS_APPLY.evPublished(state.events, e) },
      evSubscribed: { apply: (state, e) => EVENTS_APPLY.evSubscribed(state.events, e) },
      evUnsubscribed: { apply: (state, e) => EVENTS_APPLY.evUnsubscribed(state.events, e) },
      signal: { apply: PRESENCE_EVENT_APPLY.signal },
      signalsRead: { apply: PRESENCE_EVENT_APPLY.signalsRead },
      channelIn: { apply: PRESENCE_EVENT_APPLY.channelIn },
      pushToken: { apply: PRESENCE_EVENT_APPLY.pushToken },
    },

    persistBatch(state, _events, logSeq, ctx) {
      const snap: PresenceSnapshot = {
        logSeq,
        devices: [...state.devices.values()],
        signals: [...state.signals.values()],
        channels: [...state.channels],
        subs: [...state.events.subs],
        latest: [...state.events.latest],
        tokens: [...state.tokens.values()],
      };
      ctx.store.putSnapshot(ctx.address, snap);
    },

    effects(state, events) {
      const out: Effect[] = [];
      for (const e of events) {
        if (e.t === 'pushToken' && e.entry !== undefined) {
          out.push(callEffect(tokenHolderCalls, 'claim', tokenHolderAddress(e.entry.token), { account: state.account, deviceId: e.entry.deviceId, time: e.entry.time }));
        }
        if (e.t !== 'evPublished') continue;
        const frame = encode({ ev: 'pushevents', d: { msgEvents: [e.stored.ev] } });
        out.push({ kind: 'publish', subject: eventsSubject(state.account), data: frame });
        if (e.sync !== undefined) out.push(e.sync.exclude === undefined ? { kind: 'deliver', account: state.account, frame } : { kind: 'deliver', account: state.account, frame, exclude: e.sync.exclude });
      }
      return out;
    },
  } satisfies ActorDefinition<'presence', PresenceState, PresenceEvent, typeof presenceCalls>;
}

export function presenceBehavior(alive: IsEdgeAlive, options: PresenceOptions = {}): DefinedActor<PresenceState, PresenceEvent> {
  return defineActor(presenceActor(alive, options));
}
