/**
 * The account's friends, kept by its user actor, and the friend requests
 * it sent and received. Pure: no I/O.
 *
 * A friendship is recorded on both sides. The account that acts decides
 * (refusing a repeat, a full list, or a peer that blocked it, from its
 * `blockedBy` replica, see relations.ts), records its side, tells its other
 * devices (`syncfriendaction`) and calls the peer's user actor
 * (`friendEvent`, a durable call effect), which records the peer's side and
 * posts the peer its system notification. `friendEvent` is idempotent: the
 * request's `idServer` and the sides' current records tell a repeat.
 *
 * Friend records are never removed: an ended friendship stays as
 * `valid: false` so incremental reads (`getFriends` with a `timetag`, the
 * login sync) carry the removal. `updateTime` is unique and increasing
 * within one account's list, so a page ending at an `updateTime` resumes
 * exactly after it.
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Args } from '../../engine/protocol/methods.ts';
import { MAX_FRIENDS, MAX_FRIENDS_PER_GET } from '../../engine/protocol/methods/people.ts';
import type { Friend, FriendAction, FriendSysMsgType, SysMsg } from '../../engine/protocol/objects.ts';

/**
 * What the friend rules read besides the state: the most friends an
 * account may have (default MAX_FRIENDS). One value per process; a test
 * may lower it.
 */
export const friendSettings = {
  maxFriends: MAX_FRIENDS,
  /** Most received requests kept (default 1000); past it the oldest answered ones go first, then the oldest pending. */
  maxRequestsKept: 1000,
};

/** A friend request the account received, by its `idServer`. */
export interface ApplyIn {
  idServer: string;
  from: string;
  ps?: string;
  time: number;
  state: 'pending' | 'passed' | 'rejected';
}

/** A friend request the account sent and that is not answered yet. */
export interface ApplyOut {
  idServer: string;
  time: number;
}

export interface FriendsState {
  /** Every account ever befriended, current ones `valid`. */
  friends: Map<string, Friend>;
  /** Current friends. */
  count: number;
  /** Newest `updateTime` in `friends`. */
  clock: number;
  /** Pending requests sent, by the account asked. */
  applyOut: Map<string, ApplyOut>;
  /** Requests received, by `idServer`. */
  applyIn: Map<string, ApplyIn>;
}

/** What the acting account's user actor tells the peer's (`friendEvent`). */
export interface FriendCall {
  type: FriendSysMsgType;
  /** The acting account. */
  from: string;
  idServer: string;
  ps?: string;
  time: number;
}

/**
 * One change of the friend side of the account with `peer`: a record to
 * set, a sent request set (or cleared, `null`), a received request set;
 * and what to tell: the account's other devices (`action`), the account
 * itself (`sysmsg`), the peer's user actor (`call`).
 */
export interface FriendshipEvent {
  t: 'friendship';
  peer: string;
  friend?: Friend;
  applyOut?: ApplyOut | null;
  applyIn?: ApplyIn;
  /** Received requests forgotten to stay within `maxRequestsKept`, by idServer. */
  dropApplyIn?: string[];
  action?: FriendAction;
  sysmsg?: SysMsg;
  call?: FriendCall;
  /** The socket that acted: its own device learns from the reply. */
  conn?: string;
}

export function emptyFriends(): FriendsState {
  return { friends: new Map(), count: 0, clock: 0, applyOut: new Map(), applyIn: new Map() };
}

/** The next `updateTime` of the list: now, or just after the newest when the clock has not moved past it. */
function tick(state: FriendsState, now: number): number {
  return Math.max(now, state.clock + 1);
}

function isFriend(state: FriendsState, account: string): boolean {
  return state.friends.get(account)?.valid === true;
}

/** The record of a friendship starting (or going on) now; an alias and custom set earlier are kept. */
function befriend(state: FriendsState, account: string, now: number): Friend {
  const old = state.friends.get(account);
  const f: Friend = { account, valid: true, createTime: old?.valid === true ? old.createTime : now, updateTime: tick(state, now) };
  if (old?.alias !== undefined) f.alias = old.alias;
  if (old?.custom !== undefined) f.custom = old.custom;
  return f;
}

/** The record of a friendship ending; `dropAlias` forgets the alias too. */
function unfriend(state: FriendsState, old: Friend, now: number, dropAlias: boolean): Friend {
  const f: Friend = { ...old, valid: false, updateTime: tick(state, now) };
  if (dropAlias) delete f.alias;
  return f;
}

function withOptional<T extends object>(o: T, key: string, v: unknown): T {
  if (v !== undefined) (o as Record<string, unknown>)[key] = v;
  return o;
}

function event(e: Omit<FriendshipEvent, 't' | 'conn'>, conn: string | undefined): FriendshipEvent {
  const out: FriendshipEvent = { t: 'friendship', ...e };
  if (conn !== undefined) out.conn = conn;
  return out;
}

function notOneself(me: string, account: string): void {
  if (account === me) throw new ParleyError('BAD_REQUEST', '`account` must be another account, not the caller');
}

function refuseFull(state: FriendsState): void {
  const max = friendSettings.maxFriends;
  if (state.count >= max) throw new ParleyError('CONFLICT', `the account has ${max} friends already, the most it may`);
}

function refuseBlocked(account: string, blocked: boolean): void {
  if (blocked) throw new ParleyError('BLOCKED', `\`account\` ${account} has blocked the caller`);
}

export interface Acting {
  me: string;
  now: number;
  idServer: string;
  conn: string | undefined;
  /** The peer has blocked `me` (the `blockedBy` replica). */
  blocked: boolean;
}

export function decideAddFriend(state: FriendsState, a: Args<'addFriend'>, x: Acting): { reply: { account: string; ps?: string; friend: Friend }; events: FriendshipEvent[] } {
  notOneself(x.me, a.account);
  refuseBlocked(a.account, x.blocked);
  if (isFriend(state, a.account)) throw new ParleyError('CONFLICT', `\`account\` ${a.account} is a friend already`);
  refuseFull(state);
  const friend = befriend(state, a.account, x.now);
  const action = withOptional<FriendAction>({ type: 'addFriend', account: a.account, friend, time: x.now }, 'ps', a.ps);
  const call = withOptional<FriendCall>({ type: 'addFriend', from: x.me, idServer: x.idServer, time: x.now }, 'ps', a.ps);
  const e = event({ peer: a.account, friend, action, call }, x.conn);
  if (state.applyOut.has(a.account)) e.applyOut = null;
  return { reply: withOptional({ account: a.account, friend }, 'ps', a.ps), events: [e] };
}

export function decideApplyFriend(state: FriendsState, a: Args<'applyFriend'>, x: Acting): { reply: { account: string; ps?: string; idServer: string }; events: FriendshipEvent[] } {
  notOneself(x.me, a.account);
  refuseBlocked(a.account, x.blocked);
  if (isFriend(state, a.account)) throw new ParleyError('CONFLICT', `\`account\` ${a.account} is a friend already`);
  const pending = state.applyOut.get(a.account);
  if (pending !== undefined) throw new ParleyError('CONFLICT', `a friend request to \`account\` ${a.account} is pending already (idServer ${pending.idServer})`);
  refuseFull(state);
  const action = withOptional<FriendAction>({ type: 'applyFriend', account: a.account, idServer: x.idServer, time: x.now }, 'ps', a.ps);
  const call = withOptional<FriendCall>({ type: 'applyFriend', from: x.me, idServer: x.idServer, time: x.now }, 'ps', a.ps);
  const e = event({ peer: a.account, applyOut: { idServer: x.idServer, time: x.now }, action, call }, x.conn);
  return { reply: withOptional({ account: a.account, idServer: x.idServer }, 'ps', a.ps), events: [e] };
}

/** The pending request `idServer` from `account`: NOT_FOUND when there is none, CONFLICT when it was answered. */
function pendingRequest(state: FriendsState, idServer: string, account: string): ApplyIn {
  const req = state.applyIn.get(idServer);
  if (req === undefined || req.from !== account) throw new ParleyError('NOT_FOUND', `no friend request \`idServer\` ${idServer} from \`account\` ${account}`);
  if (req.state !== 'pending') throw new ParleyError('CONFLICT', `friend request \`idServer\` ${idServer} was ${req.state} already`);
  return req;
}

export function decidePassFriendApply(state: FriendsState, a: Args<'passFriendApply'>, x: Omit<Acting, 'idServer' | 'blocked'>): { reply: { account: string; friend: Friend }; events: FriendshipEvent[] } {
  const req = pendingRequest(state, a.idServer, a.account);
  const already = isFriend(state, a.account);
  if (!already) refuseFull(state);
  const friend = already ? state.friends.get(a.account)! : befriend(state, a.account, x.now);
  const action = withOptional<FriendAction>({ type: 'passFriendApply', account: a.account, friend, idServer: a.idServer, time: x.now }, 'ps', a.ps);
  const call = withOptional<FriendCall>({ type: 'passFriendApply', from: x.me, idServer: a.idServer, time: x.now }, 'ps', a.ps);
  const e = event({ peer: a.account, applyIn: { ...req, state: 'passed' }, action, call }, x.conn);
  if (!already) e.friend = friend;
  return { reply: { account: a.account, friend }, events: [e] };
}

export function decideRejectFriendApply(state: FriendsState, a: Args<'rejectFriendApply'>, x: Omit<Acting, 'idServer' | 'blocked'>): { reply: { account: string }; events: FriendshipEvent[] } {
  const req = pendingRequest(state, a.idServer, a.account);
  const action = withOptional<FriendAction>({ type: 'rejectFriendApply', account: a.account, idServer: a.idServer, time: x.now }, 'ps', a.ps);
  const call = withOptional<FriendCall>({ type: 'rejectFriendApply', from: x.me, idServer: a.idServer, time: x.now }, 'ps', a.ps);
  return { reply: { account: a.account }, events: [event({ peer: a.account, applyIn: { ...req, state: 'rejected' }, action, call }, x.conn)] };
}

export function decideDeleteFriend(state: FriendsState, a: Args<'deleteFriend'>, x: Omit<Acting, 'blocked'>): { reply: { account: string }; events: FriendshipEvent[] } {
  const old = state.friends.get(a.account);
  if (old?.valid !== true) throw new ParleyError('NOT_FOUND', `\`account\` ${a.account} is not a friend`);
  const friend = unfriend(state, old, x.now, a.delAlias);
  const action: FriendAction = { type: 'deleteFriend', account: a.account, friend, time: x.now };
  const call: FriendCall = { type: 'deleteFriend', from: x.me, idServer: x.idServer, time: x.now };
  return { reply: { account: a.account }, events: [event({ peer: a.account, friend, action, call }, x.conn)] };
}

export function decideUpdateFriend(state: FriendsState, a: Args<'updateFriend'>, x: Omit<Acting, 'idServer' | 'blocked'>): { reply: Friend; events: FriendshipEvent[] } {
  const old = state.friends.get(a.account);
  if (old?.valid !== true) throw new ParleyError('NOT_FOUND', `\`account\` ${a.account} is not a friend`);
  const next: Friend = { ...old };
  for (const key of ['alias', 'custom'] as const) {
    const v = a[key];
    if (v === undefined) continue;
    if (v === '') delete next[key];
    else next[key] = v;
  }
  if (next.alias === old.alias && next.custom === old.custom) return { reply: old, events: [] };
  next.updateTime = tick(state, x.now);
  const action: FriendAction = { type: 'updateFriend', account: a.account, friend: next, time: x.now };
  return { reply: next, events: [event({ peer: a.account, friend: next, action }, x.conn)] };
}

/** The peer's side of a friend action: an event only when it changes something (so a repeated call is free). */
export function decideFriendEvent(state: FriendsState, me: string, c: FriendCall, now: number, blacklisted: boolean): FriendshipEvent[] {
  const sysmsg = withOptional<SysMsg>({ type: c.type, scene: 'p2p', from: c.from, to: me, idServer: c.idServer, time: c.time }, 'ps', c.ps);
  const peer = c.from;
  switch (c.type) {
    case 'addFriend': {
      if (blacklisted || isFriend(state, peer)) return [];
      const e: FriendshipEvent = { t: 'friendship', peer, friend: befriend(state, peer, now), sysmsg };
      if (state.applyOut.has(peer)) e.applyOut = null;
      return [e];
    }
    case 'applyFriend': {
      if (blacklisted || state.applyIn.has(c.idServer)) return [];
      const e: FriendshipEvent = { t: 'friendship', peer, applyIn: withOptional<ApplyIn>({ idServer: c.idServer, from: peer, time: c.time, state: 'pending' }, 'ps', c.ps), sysmsg };
      const drop = requestsToDrop(state);
      if (drop.length > 0) e.dropApplyIn = drop;
      return [e];
    }
    case 'passFriendApply': {
      if (state.applyOut.get(peer)?.idServer !== c.idServer) return [];
      const e: FriendshipEvent = { t: 'friendship', peer, applyOut: null, sysmsg };
      if (!isFriend(state, peer)) e.friend = befriend(state, peer, now);
      return [e];
    }
    case 'rejectFriendApply':
      return state.applyOut.get(peer)?.idServer === c.idServer ? [{ t: 'friendship', peer, applyOut: null, sysmsg }] : [];
    case 'deleteFriend': {
      const old = state.friends.get(peer);
      return old?.valid === true ? [{ t: 'friendship', peer, friend: unfriend(state, old, now, false), sysmsg }] : [];
    }
  }
}

/** The received requests to forget so that one more fits: oldest answered first, then oldest pending. */
function requestsToDrop(state: FriendsState): string[] {
  const excess = state.applyIn.size + 1 - Math.max(1, friendSettings.maxRequestsKept);
  if (excess <= 0) return [];
  const answered: string[] = [];
  const pending: string[] = [];
  // A Map keeps insertion order: oldest first.
  for (const [id, req] of state.applyIn) (req.state === 'pending' ? pending : answered).push(id);
  return [...answered, ...pending].slice(0, excess);
}

export function applyFriendship(state: FriendsState, e: FriendshipEvent): void {
  if (e.dropApplyIn !== undefined) for (const id of e.dropApplyIn) state.applyIn.delete(id);
  if (e.friend !== undefined) {
    const was = state.friends.get(e.peer)?.valid === true;
    state.friends.set(e.peer, e.friend);
    state.count += (e.friend.valid ? 1 : 0) - (was ? 1 : 0);
    if (e.friend.updateTime > state.clock) state.clock = e.friend.updateTime;
  }
  if (e.applyOut === null) state.applyOut.delete(e.peer);
  else if (e.applyOut !== undefined) state.applyOut.set(e.peer, e.applyOut);
  if (e.applyIn !== undefined) state.applyIn.set(e.applyIn.idServer, e.applyIn);
}

/** Friends changed after `timetag`, ascending by `updateTime`, at most `limit`; ended ones only with `withEnded` (default: when `timetag` > 0). */
export function friendsSince(state: FriendsState, timetag: number, limit = MAX_FRIENDS_PER_GET, withEnded = timetag > 0): Friend[] {
  const out: Friend[] = [];
  for (const f of state.friends.values()) if (f.updateTime > timetag && (withEnded || f.valid)) out.push(f);
  out.sort((a, b) => a.updateTime - b.updateTime);
  return out.length > limit ? out.slice(0, limit) : out;
}

export function isMyFriend(state: FriendsState, account: string): boolean {
  return isFriend(state, account);
}
