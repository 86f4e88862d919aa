/**
 * The presence actor's state and decisions, without I/O: which of an
 * account's devices are online, and which ones a new login displaces under
 * the login policy. A device is one entry however often it reconnects; an
 * entry held by an edge that stopped answering (see `EdgeLiveness`) no
 * longer counts and is dropped by the next decision.
 */
import type { DeviceEntry, DeviceLimit, OnlineArgs, OnlineDevice, PushTarget, PushTokenEntry } from './calls.ts';
import { MAX_PUSH_TOKENS } from '../../engine/protocol/methods/push.ts';
import type { PushProvider, PushRegistration } from '../../engine/protocol/methods/push.ts';
import type { SignalingNotify } from '../../engine/protocol/methods/signaling.ts';
import type { EventsEvent, EventsState } from './events.ts';

export interface PresenceState {
  account: string;
  /** By device id. */
  devices: Map<string, DeviceEntry>;
  /** Signals kept for the next logins, by msgid, oldest first. */
  signals: Map<string, SignalingNotify>;
  /** Channels the account joined and did not leave, with the join time (a channel that closed by expiry stays until a login sync finds it gone). */
  channels: Map<string, number>;
  /** Published events and held subscriptions (events.ts). */
  events: EventsState;
  /** Push tokens by device id, oldest registration first; a device keeps its token offline, not past its logout. */
  tokens: Map<string, PushTokenEntry>;
}

export type PresenceEvent =
  | { t: 'online'; device: DeviceEntry }
  | { t: 'offline'; deviceId: string; conn: string }
  | { t: 'signal'; notify: SignalingNotify }
  | { t: 'signalsRead'; msgids: string[] }
  | { t: 'channelIn'; channelId: string; in: boolean; at: number }
  /** A device registered a push token (`entry`), or its token is forgotten (no `entry`). */
  | { t: 'pushToken'; deviceId: string; entry?: PushTokenEntry }
  | EventsEvent;

/** Most signals kept per account: the oldest go first. */
export const MAX_STORED_SIGNALS = 200;
/** Most channels listed per account: the oldest joins go first. */
export const MAX_LISTED_CHANNELS = 100;

/** Whether the edge instance `edge` still answers. */
export type IsEdgeAlive = (edge: string) => boolean;

/** Offline events for the entries whose edge stopped answering, sparing device `except`. */
function dropDead(state: PresenceState, alive: IsEdgeAlive, except?: string): PresenceEvent[] {
  const events: PresenceEvent[] = [];
  for (const d of state.devices.values()) {
    if (d.deviceId !== except && !alive(d.edge)) events.push({ t: 'offline', deviceId: d.deviceId, conn: d.conn });
  }
  return events;
}

/**
 * A device logged in at `now`. Each rule of the policy that covers its type keeps
 * at most `max` devices of its types: the oldest logins beyond that are
 * displaced. The device itself never counts against itself (a reconnect of
 * the same device replaces its entry).
 */
export function decideOnline(state: PresenceState, a: OnlineArgs, alive: IsEdgeAlive, now: number): { events: PresenceEvent[]; evict: string[] } {
  const events = dropDead(state, alive, a.device.deviceId);
  const dead = new Set(events.map((e) => (e.t === 'offline' ? e.deviceId : '')));
  const others = [...state.devices.values()]
    .filter((d) => d.deviceId !== a.device.deviceId && !dead.has(d.deviceId))
    .sort((x, y) => x.at - y.at || (x.deviceId < y.deviceId ? -1 : 1));
  const evict = new Set<string>();
  for (const rule of a.limits) {
    if (!rule.types.includes(a.device.deviceType)) continue;
    const covered = others.filter((d) => !evict.has(d.deviceId) && rule.types.includes(d.deviceType));
    for (let i = 0; covered.length - i + 1 > rule.max && i < covered.length; i++) evict.add(covered[i]!.deviceId);
  }
  for (const id of evict) events.push({ t: 'offline', deviceId: id, conn: state.devices.get(id)!.conn });
  // Logins are ordered by this actor's clock, not the edges': a repeat of the same report keeps its time.
  const held = state.devices.get(a.device.deviceId);
  const at = held !== undefined && held.conn === a.device.conn ? held.at : now;
  events.push({ t: 'online', device: { ...a.device, at } });
  return { events, evict: [...evict] };
}

/** A socket closed: its device goes offline unless a newer socket holds it now. */
export function decideOffline(state: PresenceState, deviceId: string, conn: string): PresenceEvent[] {
  const d = state.devices.get(deviceId);
  return d !== undefined && d.conn === conn ? [{ t: 'offline', deviceId, conn }] : [];
}

/** The devices online now (on edges that answer), oldest login first; and the events dropping the others. */
export function onlineDevices(state: PresenceState, alive: IsEdgeAlive): { devices: OnlineDevice[]; events: PresenceEvent[] } {
  const devices = [...state.devices.values()]
    .filter((d) => alive(d.edge))
    .sort((x, y) => x.at - y.at)
    .map((d) => ({ deviceId: d.deviceId, deviceType: d.deviceType, loginTime: d.at }));
  return { devices, events: dropDead(state, alive) };
}

/** The live edge instances holding the account's devices, each once. */
export function deviceEdges(state: PresenceState, alive: IsEdgeAlive): string[] {
  const edges = new Set<string>();
  for (const d of state.devices.values()) if (alive(d.edge)) edges.add(d.edge);
  return [...edges];
}

/**
 * A device registers a push token at `now`: an event unless it holds that
 * very token already (a repeat). The answer is the registration as it stands.
 */
export function decideRegisterToken(state: PresenceState, device: { deviceId: string; deviceType: DeviceEntry['deviceType'] }, token: string, provider: PushProvider, now: number): { reply: PushRegistration; events: PresenceEvent[] } {
  const held = state.tokens.get(device.deviceId);
  if (held !== undefined && held.token === token && held.provider === provider) return { reply: { deviceId: held.deviceId, provider, updateTime: held.time }, events: [] };
  const entry: PushTokenEntry = { deviceId: device.deviceId, deviceType: device.deviceType, token, provider, time: now };
  return { reply: { deviceId: device.deviceId, provider, updateTime: now }, events: [{ t: 'pushToken', deviceId: device.deviceId, entry }] };
}

/** A device logged out: its token goes with it (a device that only disconnected keeps it). */
export function decideForgetToken(state: PresenceState, deviceId: string): PresenceEvent[] {
  return state.tokens.has(deviceId) ? [{ t: 'pushToken', deviceId }] : [];
}

/** The devices with a token that no socket on a live edge holds now, by device id. */
export function pushTargets(state: PresenceState, alive: IsEdgeAlive): PushTarget[] {
  const targets: PushTarget[] = [];
  for (const t of state.tokens.values()) {
    const d = state.devices.get(t.deviceId);
    if (d !== undefined && alive(d.edge)) continue;
    targets.push({ deviceId: t.deviceId, token: t.token, provider: t.provider });
  }
  return targets.sort((x, y) => (x.deviceId < y.deviceId ? -1 : x.deviceId > y.deviceId ? 1 : 0));
}

export const PRESENCE_EVENT_APPLY = {
  pushToken(state: PresenceState, e: Extract<PresenceEvent, { t: 'pushToken' }>): void {
    state.tokens.delete(e.deviceId);
    if (e.entry === undefined) return;
    state.tokens.set(e.deviceId, e.entry);
    for (const id of state.tokens.keys()) {
      if (state.tokens.size <= MAX_PUSH_TOKENS) break;
      state.tokens.delete(id);
    }
  },
  signal(state: PresenceState, e: Extract<PresenceEvent, { t: 'signal' }>): void {
    state.signals.set(e.notify.msgid, e.notify);
    for (const id of state.signals.keys()) {
      if (state.signals.size <= MAX_STORED_SIGNALS) break;
      state.signals.delete(id);
    }
  },
  signalsRead(state: PresenceState, e: Extract<PresenceEvent, { t: 'signalsRead' }>): void {
    for (const id of e.msgids) state.signals.delete(id);
  },
  channelIn(state: PresenceState, e: Extract<PresenceEvent, { t: 'channelIn' }>): void {
    if (!e.in) {
      state.channels.delete(e.channelId);
      return;
    }
    state.channels.set(e.channelId, e.at);
    for (const id of state.channels.keys()) {
      if (state.channels.size <= MAX_LISTED_CHANNELS) break;
      state.channels.delete(id);
    }
  },
  online(state: PresenceState, e: Extract<PresenceEvent, { t: 'online' }>): void {
    state.devices.set(e.device.deviceId, e.device);
  },
  offline(state: PresenceState, e: Extract<PresenceEvent, { t: 'offline' }>): void {
    if (state.devices.get(e.deviceId)?.conn === e.conn) state.devices.delete(e.deviceId);
  },
};

/** A rule of the login policy: which device types it covers. */
export const DEVICE_GROUPS: Readonly<Record<string, readonly DeviceLimit['types'][number][]>> = {
  web: ['web'],
  ios: ['ios'],
  android: ['android'],
  pc: ['pc'],
  mac: ['mac'],
  server: ['server'],
  mobile: ['ios', 'android'],
  desktop: ['pc', 'mac'],
  '*': ['web', 'ios', 'android', 'pc', 'mac', 'server'],
};

/**
 * Parses a login policy: comma-separated `group=max` rules, a group being a
 * device type, `mobile` (ios and android), `desktop` (pc and mac) or `*`
 * (every device), `max` at least 1. Throws an Error naming what is wrong.
 */
export function parseDeviceLimits(text: string): DeviceLimit[] {
  const rules: DeviceLimit[] = [];
  for (const part of text.split(',')) {
    const rule = part.trim();
    if (rule === '') continue;
    const m = /^([^=\s]+)\s*=\s*(\d+)$/.exec(rule);
    if (m === null) throw new Error(`'${rule}' is not group=max`);
    const types = DEVICE_GROUPS[m[1]!];
    if (types === undefined) throw new Error(`'${m[1]}' is no device group (one of ${Object.keys(DEVICE_GROUPS).join(', ')})`);
    const max = Number(m[2]);
    if (!Number.isSafeInteger(max) || max < 1) throw new Error(`the most devices of '${m[1]}' must be at least 1`);
    if (rules.some((r) => r.name === m[1])) throw new Error(`'${m[1]}' is given twice`);
    rules.push({ name: m[1]!, types: [...types], max });
  }
  return rules;
}
