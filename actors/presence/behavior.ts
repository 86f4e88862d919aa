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
import { defineActor } from '../../engine/actor/define.ts';
import type { ActorDefinition, DefinedActor } from '../../engine/actor/define.ts';
import type { DeviceEntry } from './calls.ts';
import { presenceCalls } from './calls.ts';
import { PRESENCE_EVENT_APPLY, decideOffline, decideOnline, onlineDevices } from './logic.ts';
import type { IsEdgeAlive, PresenceEvent, PresenceState } from './logic.ts';

interface PresenceSnapshot {
  logSeq: number;
  devices?: DeviceEntry[];
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
      return { state: { account: ctx.id, devices }, logSeq: snap?.logSeq ?? 0 };
    },

    methods: {},

    callHandlers: {
      online(state, a, _caller, ctx) {
        const { events, evict } = decideOnline(state, a, alive, ctx.now());
        return { reply: { evict }, events };
      },
      offline: (state, a) => ({ reply: true, events: decideOffline(state, a.deviceId, a.conn) }),
      devices(state) {
        const { devices, events } = onlineDevices(state, alive);
        return { reply: devices, events };
      },
    },

    events: {
      online: { apply: PRESENCE_EVENT_APPLY.online },
      offline: { apply: PRESENCE_EVENT_APPLY.offline },
    },

    persistBatch(state, _events, logSeq, ctx) {
      ctx.store.putSnapshot(ctx.address, { logSeq, devices: [...state.devices.values()] } satisfies PresenceSnapshot);
    },

    effects: () => [],
  } satisfies ActorDefinition<'presence', PresenceState, PresenceEvent, typeof presenceCalls>;
}

export function presenceBehavior(alive: IsEdgeAlive): DefinedActor<PresenceState, PresenceEvent> {
  return defineActor(presenceActor(alive));
}
