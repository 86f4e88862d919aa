/**
 * The calls the presence actor (`presence:<account>`) receives: an edge
 * reporting one of the account's devices online (`online`) or gone
 * (`offline`), and the admin API listing them (`devices`). Declared here, by
 * the receiver.
 */
import type { DeviceType } from '../../engine/protocol/objects.ts';
import type { SignalingNotify } from '../../engine/protocol/methods/signaling.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import type { PushEvent } from '../../engine/protocol/methods/events.ts';
import type { PushProvider } from '../../engine/protocol/methods/push.ts';

/** One logged-in socket of the account, as the edge that holds it reported it. */
export interface DeviceEntry {
  deviceId: string;
  deviceType: DeviceType;
  /** The edge instance holding the socket (see `edgeInstanceId`). */
  edge: string;
  /** The socket's `ref` on that edge. */
  conn: string;
  /** Login time, ms. */
  at: number;
}

/** At most `max` devices of `types` online at once (one rule of the login policy). */
export interface DeviceLimit {
  /** The rule as configured (`ios`, `mobile`, `*`), for logs and errors. */
  name: string;
  types: DeviceType[];
  max: number;
}

export interface OnlineArgs {
  /** The device; its login time is the presence actor's. */
  device: Omit<DeviceEntry, 'at'>;
  /** The login policy of the edge that logged the device in. */
  limits: DeviceLimit[];
}

export interface OnlineReply {
  /** Devices the new one displaces under the policy; the caller kicks them (`samePlatformKick`). */
  evict: string[];
}

export interface OfflineArgs {
  deviceId: string;
  /** The socket that closed: a newer socket of the same device is left alone. */
  conn: string;
  /** The online status the account's subscribers get: 2 logged out (`logout`), 3 disconnected (default). */
  value?: 2 | 3;
}

/** A device as the admin API lists it. */
export interface OnlineDevice {
  deviceId: string;
  deviceType: DeviceType;
  loginTime: number;
}

/** A device's push token (`registerPushToken`), kept until the device logs out or registers another. */
export interface PushTokenEntry {
  deviceId: string;
  deviceType: DeviceType;
  token: string;
  provider: PushProvider;
  /** When it was registered, ms. */
  time: number;
}

/** A device to alert: it has a push token and is not logged in now. */
export interface PushTarget {
  deviceId: string;
  token: string;
  provider: PushProvider;
}

/** What the login sync sends of signaling: the channels the account is in, and the signals stored for it. */
export interface SignalingSyncReply {
  /** On the first page only. */
  channels: string[];
  signals: SignalingNotify[];
  /** Where the next page starts; absent on the last page. */
  next?: number;
}

export const presenceCalls = {
  eventSubscribe: internal({
    doc: 'The account subscribes to the events of `pubs` for `sec` seconds; answers the accounts that failed, for the others when they lapse (ms), and the live edge instances holding the account\'s devices.',
    args: takes<{ pubs: string[]; sec: number }>(),
    result: returns<{ failed: string[]; ok: Array<[string, number]>; edges?: string[] }>(),
    retry: 'idempotent',
  }),
  eventUnsubscribe: internal({
    doc: 'The account cancels its subscriptions to `pubs` (every one when absent).',
    args: takes<{ pubs?: string[] }>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  eventSubs: internal({
    doc: "The account's live subscriptions: the account watched and when it lapses (ms); read by the edge at login.",
    args: takes<Record<string, never>>(),
    result: returns<Array<[string, number]>>(),
    retry: 'idempotent',
  }),
  latestEvents: internal({
    doc: "The account's live published events, oldest first; with `atLogin` only those meant for offline subscribers too (`broadcastType` 2).",
    args: takes<{ atLogin: boolean }>(),
    result: returns<PushEvent[]>(),
    retry: 'idempotent',
  }),
  sweep: internal({
    doc: "Drops the account's devices held by edges that stopped answering; its subscribers get status 3 for each. Answers how many.",
    args: takes<Record<string, never>>(),
    result: returns<number>(),
    retry: 'idempotent',
  }),
  storeSignal: internal({
    doc: 'Keeps a signal sent with `offlineEnabled` for the account\'s next logins, until `signalingMarkMsgRead`. Repeats (same `msgid`) change nothing.',
    args: takes<{ notify: SignalingNotify }>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  channelIn: internal({
    doc: 'The account joined (`in`) or left a channel; the login sync lists the channels it is in.',
    args: takes<{ channelId: string; in: boolean; at: number }>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  signalingSync: internal({
    doc: 'The channels the account is in and a page of the signals stored for it (from `from`, within `maxBytes`), for the login sync.',
    args: takes<{ from: number; maxBytes?: number }>(),
    result: returns<SignalingSyncReply>(),
    retry: 'idempotent',
  }),
  online: internal({
    doc: 'A device of the account logged in: recorded (replacing an older socket of the same device), and the devices it displaces under the login policy named.',
    args: takes<OnlineArgs>(),
    result: returns<OnlineReply>(),
    retry: 'idempotent',
  }),
  offline: internal({
    doc: "A device's socket closed: forgotten unless a newer socket of the device replaced it.",
    args: takes<OfflineArgs>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  pushTargets: internal({
    doc: "The account's devices with a push token that are not logged in now, by device id; a read.",
    args: takes<Record<string, never>>(),
    result: returns<PushTarget[]>(),
    retry: 'idempotent',
  }),
  releaseToken: internal({
    doc: 'Another registration took the push token of `deviceId` (named by its SHA-256 `digest`): the device forgets it, unless it registered another since.',
    args: takes<{ deviceId: string; digest: string }>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  devices: internal({
    doc: "The account's devices online now, oldest login first.",
    args: takes<Record<string, never>>(),
    result: returns<OnlineDevice[]>(),
    retry: 'idempotent',
  }),
};
