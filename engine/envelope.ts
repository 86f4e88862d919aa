/**
 * Internal frames between edges and actor hosts, carried msgpack-encoded on
 * the Bus. Clients never see these.
 */
import type { WireError } from './protocol/errors.ts';
import type { DeviceType } from './protocol/methods.ts';

/** Who sent a request: the logged-in account and device, and the socket it came from. */
export interface Caller {
  account: string;
  deviceId: string;
  deviceType: DeviceType;
  /** `<edgeNodeId>/<connectionId>`: the originating socket, excluded from its own delivery echo. */
  conn: string;
}

/** Edge → actor (on `parley.p.<partition>`), or actor → actor. */
export interface ActorRequest {
  /** Actor address, `kind:id`. */
  to: string;
  /** Wire method (`sendText`, …) or internal method (`sync`, `range`, `touch`, …). */
  m: string;
  /** Arguments, already validated against the method's schema for wire methods. */
  a: unknown;
  /** Absent for system-originated requests (actor → actor). */
  caller?: Caller;
  /** The client's request id: with `caller.conn`, the request's correlation id (engine/correlation.ts). */
  q?: number;
}

/** Actor → requester. Exactly one of `r` / `e`. */
export interface ActorReply {
  r?: unknown;
  e?: WireError;
}

/** Actor → edge on `parley.dlv.<account>`: one client frame, already encoded. */
export interface Delivery {
  /** Connection ref (`Caller.conn`) that must not get this frame (it got the reply instead). */
  x?: string;
  /** The encoded client frame `{ev, d}`. */
  f: Uint8Array;
  /**
   * A control message instead of a delivery: the frame `f` goes only to the
   * sockets the control names, which the edge then closes.
   */
  c?: DeliveryControl;
}

/** A control message on an account's delivery subject. */
export interface DeliveryControl {
  /** Close the account's sockets of these devices after sending them `f` (a `kicked` frame). */
  kick?: KickControl;
  /** The account's event subscriptions changed: edges holding its sockets update their fan-out (edge/events.ts). */
  events?: EventsControl;
  /** The account joined or left supergroups: edges holding its sockets change their group subscriptions (edge/groups.ts). */
  groups?: GroupsControl;
}

/**
 * A change to the supergroups an account is in. `add` pairs a group id with
 * the seq of the first message the account gets (its join notice); `remove`
 * names groups it is no longer in.
 */
export interface GroupsControl {
  add?: Array<[string, number]>;
  remove?: string[];
}

/**
 * One supergroup message or notice on the group's subject (`groupSubject`),
 * published once for every edge: each writes `f` to the group's member
 * sockets, `o` to the sender's own other devices instead, and nothing to
 * the accounts in `n` or to socket `x` (which got the reply).
 */
export interface GroupDelivery {
  /** The message's seq; absent for a notice that is not a message (a recall). */
  s?: number;
  /** The frame members get. */
  f: Uint8Array;
  /** The frame the sender's account gets (flow `out`); absent: the sender's devices get `f`. */
  o?: Uint8Array;
  /** The sender's account. */
  a: string;
  /** Connection ref (`Caller.conn`) that gets nothing (it got the reply). */
  x?: string;
  /** Accounts that get nothing of it on this subject. */
  n?: string[];
  /** Members whose alert setting silences it: they get `fq` (the message marked `isMuted`) instead of `f`. */
  q?: string[];
  /** The frame of the members in `q`. */
  fq?: Uint8Array;
}

/** A change to an account's event subscriptions: publishers added (with their lapse time, ms), removed, or all removed. */
export interface EventsControl {
  add?: Array<[string, number]>;
  remove?: string[];
  all?: boolean;
  /** A subject each edge that applied the change publishes its instance id to, once its new Bus subscriptions are in place. */
  ack?: string;
}

export interface KickControl {
  /** The devices to close; absent: every device of the account. */
  deviceIds?: string[];
  /** A device spared even when named: the kicking one. */
  spare?: string;
}

/**
 * `Caller.conn` of a request of the admin API, which acts for the host's
 * backend. No socket has it: a socket's ref is `<nodeId>/<n>`.
 */
export const ADMIN_CONN = 'admin';
