/**
 * Event subscription: an account publishes events (type 1, the online-state
 * family) and the accounts that subscribed to it get them as `pushevents`.
 * Values 1–10000 are the engine's own (1 online, 2 logged out, 3
 * disconnected, with the device type), published when the account's
 * devices come and go; custom values are above 10000. Both the published
 * events and the subscriptions live in the presence actors
 * (`presence:<account>`); the edges fan events out to their own sockets.
 * Also `logout`, which ends a device's session cleanly (status 2).
 * Browser-safe.
 */
import * as s from '../schema.ts';
import { MAX_EXT_CHARS } from '../objects.ts';
import { actorMethod, edgeMethod, returns } from '../registry.ts';
import { id } from './common.ts';
import { presenceAddress } from '../../subjects.ts';

/** The only event type. */
export const EVENT_TYPE = 1;
/** Built-in online status values. */
export const EVENT_ONLINE = 1;
export const EVENT_LOGGED_OUT = 2;
export const EVENT_DISCONNECTED = 3;
/** Values up to this one are reserved for the engine; custom values are above it. */
export const MAX_RESERVED_EVENT_VALUE = 10_000;
/** Bounds and default of `validTime`, seconds. */
export const MIN_EVENT_VALID_SEC = 60;
export const MAX_EVENT_VALID_SEC = 604_800;
/** Bounds and default of `subscribeTime`, seconds. */
export const MIN_SUBSCRIBE_SEC = 60;
export const MAX_SUBSCRIBE_SEC = 2_592_000;
/** Most accounts one subscribe, unsubscribe or query call names. */
export const MAX_EVENT_ACCOUNTS_PER_CALL = 100;
/** Default of the most subscriptions one account holds (PARLEY_EVENT_MAX_SUBSCRIPTIONS). */
export const DEFAULT_MAX_SUBSCRIPTIONS = 3000;

/** An event as subscribers get it in `pushevents`. */
export interface PushEvent {
  /** The publisher. */
  account: string;
  type: 1;
  value: number;
  custom?: string;
  /** Publish time, ms. */
  time: number;
  /** The device type that published it (the one that came or went, for the built-in values). */
  clientType: string;
  /** Unique id of this event. */
  idServer: string;
}

/** One subscription of the calling account. */
export interface EventSubscription {
  /** The account watched. */
  account: string;
  type: 1;
  /** When it was made (or last renewed), ms. */
  time: number;
  /** Its lifetime, seconds. */
  subscribeTime: number;
  /** When it lapses, ms. */
  expireTime: number;
}

const eventType = () => s.int({ min: EVENT_TYPE, max: EVENT_TYPE });
const accounts = () => s.array(id(), { min: 1, max: MAX_EVENT_ACCOUNTS_PER_CALL });

export const eventMethods = {
  publishEvent: actorMethod({
    doc: 'Publishes an event of the account: `type` 1, a custom `value` above 10000 (1–10000 are reserved), `custom`, `validTime` 60..604800 s (default 604800), `broadcastType` 1 online subscribers only or 2 (default) also offline ones at their next login, `sync` to the account\'s other devices too. Answers the event.',
    owner: 'presence',
    address: (account) => presenceAddress(account),
    args: s.object({
      type: eventType(),
      value: s.int({ min: 1, max: 2 ** 31 - 1 }),
      custom: s.optional(s.string({ max: MAX_EXT_CHARS })),
      validTime: s.optional(s.int({ min: MIN_EVENT_VALID_SEC, max: MAX_EVENT_VALID_SEC }), MAX_EVENT_VALID_SEC),
      broadcastType: s.optional(s.int({ min: 1, max: 2 }), 2),
      sync: s.optional(s.boolean(), false),
    }),
    result: returns<PushEvent>(),
    retry: 'never',
    errors: [],
  }),
  subscribeEvent: edgeMethod({
    doc: 'Subscribes to the events of `accounts` (at most 100) for `subscribeTime` seconds (60..2592000, default 2592000); renewing one restarts it. With `sync` the accounts\' current events are pushed at once. Answers the accounts that could not be subscribed (oneself, or past the most subscriptions an account holds, 3000 by default); BAD_REQUEST when none could.',
    args: s.object({
      type: eventType(),
      accounts: accounts(),
      subscribeTime: s.optional(s.int({ min: MIN_SUBSCRIBE_SEC, max: MAX_SUBSCRIBE_SEC }), MAX_SUBSCRIBE_SEC),
      sync: s.optional(s.boolean(), false),
    }),
    result: returns<{ failedAccounts: string[] }>(),
    retry: 'idempotent',
    errors: [],
  }),
  unSubscribeEventsByAccounts: edgeMethod({
    doc: 'Cancels the subscriptions to `accounts` (at most 100); accounts not subscribed are ignored.',
    args: s.object({ type: eventType(), accounts: accounts() }),
    result: returns<{ failedAccounts: string[] }>(),
    retry: 'idempotent',
    errors: [],
  }),
  unSubscribeEventsByType: edgeMethod({
    doc: 'Cancels every subscription of `type`.',
    args: s.object({ type: eventType() }),
    result: returns<{ type: number }>(),
    retry: 'idempotent',
    errors: [],
  }),
  querySubscribeEventsByAccounts: actorMethod({
    doc: 'The account\'s live subscriptions to `accounts` (at most 100).',
    owner: 'presence',
    address: (account) => presenceAddress(account),
    args: s.object({ type: eventType(), accounts: accounts() }),
    result: returns<EventSubscription[]>(),
    retry: 'idempotent',
    errors: [],
  }),
  querySubscribeEventsByType: actorMethod({
    doc: 'Every live subscription of the account of `type`, oldest first.',
    owner: 'presence',
    address: (account) => presenceAddress(account),
    args: s.object({ type: eventType() }),
    result: returns<EventSubscription[]>(),
    retry: 'idempotent',
    errors: [],
  }),
  logout: edgeMethod({
    doc: "Ends this device's session: the account's subscribers get online status 2 (logged out) for it, and the socket closes (1000) after the answer.",
    args: s.object({}),
    result: returns<{ account: string; deviceId: string }>(),
    retry: 'idempotent',
    errors: [],
  }),
};
