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
import { defineActor } from '../../engine/actor/define.ts';
import { encode } from '../../engine/protocol/codec.ts';
import type { ActorDefinition, DefinedActor } from '../../engine/actor/define.ts';
import type { DeviceEntry, SignalingSyncReply } from './calls.ts';
import type { SignalingNotify } from '../../engine/protocol/methods/signaling.ts';
import { presenceCalls } from './calls.ts';
import { PRESENCE_EVENT_APPLY, decideOffline, decideOnline, onlineDevices } from './logic.ts';
import type { IsEdgeAlive, PresenceEvent, PresenceState } from './logic.ts';

interface PresenceSnapshot {
  logSeq: number;
  devices?: DeviceEntry[];
  signals?: SignalingNotify[];
  channels?: Array<[string, number]>;
}

/** The presence actor's tables, reading edge liveness from `alive`. */
export function presenceActor(alive: IsEdgeAlive) {
  return {
    kind: 'presence' as const,
    calls: presenceCalls,

    load(ctx) {
      const snap = ctx.store.snapshot<PresenceSnapshot>(ctx.address);
      const devices = new Map<string, DeviceEntry>();
      for (const d of snap?.devices ?? []) devices.set(d.deviceId, d);
      const signals = new Map((snap?.signals ?? []).map((n) => [n.msgid, n]));
      return { state: { account: ctx.id, devices, signals, channels: new Map(snap?.channels ?? []) }, logSeq: snap?.logSeq ?? 0 };
    },

    methods: {
      signalingMarkMsgRead(state, a) {
        const msgids = a.msgid.filter((id) => state.signals.has(id));
        return { reply: { count: msgids.length }, events: msgids.length === 0 ? [] : [{ t: 'signalsRead', msgids }] };
      },
    },

    callHandlers: {
      online(state, a, _caller, ctx) {
        const { events, evict } = decideOnline(state, a, alive, ctx.now());
        return { reply: { evict }, events };
      },
      offline: (state, a) => ({ reply: true, events: decideOffline(state, a.deviceId, a.conn) }),
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
      devices(state) {
        const { devices, events } = onlineDevices(state, alive);
        return { reply: devices, events };
      },
    },

    events: {
      online: { apply: PRESENCE_EVENT_APPLY.online },
      offline: { apply: PRESENCE_EVENT_APPLY.offline },
      signal: { apply: PRESENCE_EVENT_APPLY.signal },
      signalsRead: { apply: PRESENCE_EVENT_APPLY.signalsRead },
      channelIn: { apply: PRESENCE_EVENT_APPLY.channelIn },
    },

    persistBatch(state, _events, logSeq, ctx) {
      const snap: PresenceSnapshot = { logSeq, devices: [...state.devices.values()], signals: [...state.signals.values()], channels: [...state.channels] };
      ctx.store.putSnapshot(ctx.address, snap);
    },

    effects: () => [],
  } satisfies ActorDefinition<'presence', PresenceState, PresenceEvent, typeof presenceCalls>;
}

export function presenceBehavior(alive: IsEdgeAlive): DefinedActor<PresenceState, PresenceEvent> {
  return defineActor(presenceActor(alive));
}
