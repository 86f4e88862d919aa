/**
 * A channel actor's state and decisions, without I/O. The actor is named by
 * the channel name and holds at most one open channel of that name at a
 * time; each creation gets the next generation, and the channel id
 * (`<name>.<generation>`) names that one channel only. A channel past its
 * expiry time counts as closed. Decisions return events; the signals they
 * send travel in `notify` and `sync` events, so what a batch tells whom is
 * in the Log with the change itself.
 */
import type { Caller } from '../../engine/envelope.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Args } from '../../engine/protocol/methods.ts';
import { MAX_CHANNEL_MEMBERS } from '../../engine/protocol/methods/signaling.ts';
import type { ChannelInfo, ChannelMember, ChannelType, SignalingEventType, SignalingMultiClientSync, SignalingNotify } from '../../engine/protocol/methods/signaling.ts';

export interface Invite {
  inviter: string;
  invitee: string;
  requestId: string;
  state: 'pending' | 'accepted' | 'rejected' | 'cancelled';
  at: number;
}

export interface OpenChannel {
  channelId: string;
  type: ChannelType;
  ext: string;
  creator: string;
  createTime: number;
  expireTime: number;
  members: Map<string, ChannelMember>;
  /** By `inviteKey`. */
  invites: Map<string, Invite>;
}

export interface ChannelState {
  name: string;
  /** Creations so far. */
  generation: number;
  open: OpenChannel | undefined;
}

export type ChannelEvent =
  | { t: 'created'; channelId: string; type: ChannelType; ext: string; creator: string; time: number; expireTime: number }
  | { t: 'joined'; channelId: string; member: ChannelMember }
  | { t: 'left'; channelId: string; account: string }
  | { t: 'closed'; channelId: string; members: string[] }
  | { t: 'delayed'; expireTime: number }
  | { t: 'invited'; invite: Invite }
  | { t: 'answered'; key: string; state: Invite['state'] }
  /** A signal to an account's devices (`signalingNotify`), stored for its next logins with `store`. */
  | { t: 'notify'; notify: SignalingNotify; store: boolean }
  /** The invitee's other devices hear that one of them answered. */
  | { t: 'sync'; account: string; sync: SignalingMultiClientSync; exclude: string };

/** Settings of every channel of a node. */
export interface ChannelSettings {
  /** How long a channel stays open without `signalingDelay`, ms. */
  ttlMs: number;
}

/** Answered invitations kept per channel (pending ones are always kept), so a late second answer still meets CONFLICT. */
const ANSWERED_INVITES_KEPT = 500;

export function inviteKey(inviter: string, invitee: string, requestId: string): string {
  return `${inviter}\u0000${invitee}\u0000${requestId}`;
}

/** The open channel, unless it expired. */
export function liveChannel(state: ChannelState, now: number): OpenChannel | undefined {
  const open = state.open;
  return open !== undefined && open.expireTime > now ? open : undefined;
}

export function infoOf(state: ChannelState, open: OpenChannel): ChannelInfo {
  return {
    channelId: open.channelId,
    channelName: state.name,
    type: open.type,
    ext: open.ext,
    creator: open.creator,
    createTime: open.createTime,
    expireTime: open.expireTime,
    members: [...open.members.values()],
  };
}

/** The open channel a request names by id: NOT_FOUND for a closed, expired or unknown one. */
export function channelById(state: ChannelState, channelId: string, now: number): OpenChannel {
  const open = liveChannel(state, now);
  if (open === undefined || open.channelId !== channelId) throw new ParleyError('NOT_FOUND', `channel ${channelId} is not open (closed, expired or never created)`);
  return open;
}

/** The events `decide` has made so far, applied to a working copy so later steps of one command see earlier ones. */
export class Draft {
  readonly events: ChannelEvent[] = [];
  readonly state: ChannelState;
  private readonly nextId: () => string;
  readonly now: number;

  constructor(state: ChannelState, now: number, nextId: () => string) {
    this.state = { name: state.name, generation: state.generation, open: state.open === undefined ? undefined : copyOpen(state.open) };
    this.now = now;
    this.nextId = nextId;
  }

  push(e: ChannelEvent): void {
    this.events.push(e);
    applyChannelEvent(this.state, e);
  }

  /** Tells `to` of `eventType` on `open`. */
  notify(open: OpenChannel, eventType: SignalingEventType, from: string, to: string, store: boolean, extra: Partial<SignalingNotify> = {}): void {
    const notify: SignalingNotify = {
      eventType,
      channelId: open.channelId,
      channelName: this.state.name,
      channelType: open.type,
      from,
      to,
      time: this.now,
      msgid: this.nextId(),
    };
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) (notify as unknown as Record<string, unknown>)[k] = v;
    this.push({ t: 'notify', notify, store });
  }
}

function copyOpen(o: OpenChannel): OpenChannel {
  return { ...o, members: new Map(o.members), invites: new Map(o.invites) };
}

/** Closes an expired channel, then creates one. */
export function create(d: Draft, caller: Caller, a: { type: number; ext: string }, settings: ChannelSettings): OpenChannel {
  if (liveChannel(d.state, d.now) !== undefined) throw new ParleyError('CONFLICT', `a channel named ${d.state.name} is open`);
  if (d.state.open !== undefined) d.push({ t: 'closed', channelId: d.state.open.channelId, members: [...d.state.open.members.keys()] });
  d.push({
    t: 'created',
    channelId: `${d.state.name}.${(d.state.generation + 1).toString(36)}`,
    type: a.type as ChannelType,
    ext: a.ext,
    creator: caller.account,
    time: d.now,
    expireTime: d.now + settings.ttlMs,
  });
  return d.state.open!;
}

/** A random uid not taken in `open`. */
function freshUid(open: OpenChannel): number {
  const taken = new Set([...open.members.values()].map((m) => m.uid));
  for (;;) {
    const uid = 1 + Math.floor(Math.random() * (2 ** 31 - 2));
    if (!taken.has(uid)) return uid;
  }
}

/** `caller` joins `open` (again: nothing changes); the other members get ROOM_JOIN. */
export function join(d: Draft, open: OpenChannel, caller: Caller, a: { uid?: number | undefined; attachExt?: string | undefined; offlineEnabled: boolean }): void {
  if (open.members.has(caller.account)) return;
  if (open.members.size >= MAX_CHANNEL_MEMBERS) throw new ParleyError('CONFLICT', `channel ${open.channelId} has the most members it may (${MAX_CHANNEL_MEMBERS})`);
  const wanted = a.uid !== undefined && a.uid > 0 && ![...open.members.values()].some((m) => m.uid === a.uid) ? a.uid : undefined;
  const member: ChannelMember = { account: caller.account, uid: wanted ?? freshUid(open), joinTime: d.now, deviceId: caller.deviceId };
  const others = [...open.members.keys()];
  d.push({ t: 'joined', channelId: open.channelId, member });
  for (const to of others) d.notify(open, 'ROOM_JOIN', caller.account, to, a.offlineEnabled, { attachExt: a.attachExt, member });
}

export function requireMember(open: OpenChannel, account: string, what: string): void {
  if (!open.members.has(account)) throw new ParleyError('FORBIDDEN', `${account} is not a member of channel ${open.channelId}, so it cannot ${what}`);
}

/** A member invites `a.account`; repeating the same invitation changes nothing. */
export function invite(d: Draft, open: OpenChannel, caller: Caller, a: Args<'signalingInvite'>): void {
  requireMember(open, caller.account, 'invite');
  if (a.account === caller.account) throw new ParleyError('BAD_REQUEST', '`account` is the inviter itself');
  const key = inviteKey(caller.account, a.account, a.requestId);
  const held = open.invites.get(key);
  if (held !== undefined) {
    if (held.state === 'pending') return;
    throw new ParleyError('CONFLICT', `invitation ${a.requestId} of ${a.account} was already ${held.state}`);
  }
  d.push({ t: 'invited', invite: { inviter: caller.account, invitee: a.account, requestId: a.requestId, state: 'pending', at: d.now } });
  d.notify(open, 'INVITE', caller.account, a.account, a.offlineEnabled, { requestId: a.requestId, attachExt: a.attachExt, pushInfo: a.pushInfo });
}

/** The pending invitation `key`, or the error saying why it cannot be answered. */
function pending(open: OpenChannel, key: string, requestId: string): Invite {
  const held = open.invites.get(key);
  if (held === undefined) throw new ParleyError('NOT_FOUND', `no invitation ${requestId} in channel ${open.channelId} for this pair`);
  if (held.state !== 'pending') throw new ParleyError('CONFLICT', `invitation ${requestId} was already ${held.state}`);
  return held;
}

export function cancel(d: Draft, open: OpenChannel, caller: Caller, a: Args<'signalingCancel'>): void {
  const key = inviteKey(caller.account, a.account, a.requestId);
  pending(open, key, a.requestId);
  d.push({ t: 'answered', key, state: 'cancelled' });
  d.notify(open, 'CANCEL_INVITE', caller.account, a.account, a.offlineEnabled, { requestId: a.requestId, attachExt: a.attachExt });
}

/** The invitee answers inviter `inviter`'s invitation: once, from whichever device answers first. */
export function answer(d: Draft, open: OpenChannel, caller: Caller, inviter: string, requestId: string, accept: boolean, a: { attachExt?: string | undefined; offlineEnabled: boolean }): void {
  const key = inviteKey(inviter, caller.account, requestId);
  pending(open, key, requestId);
  d.push({ t: 'answered', key, state: accept ? 'accepted' : 'rejected' });
  d.notify(open, accept ? 'ACCEPT' : 'REJECT', caller.account, inviter, a.offlineEnabled, { requestId, attachExt: a.attachExt });
  d.push({
    t: 'sync',
    account: caller.account,
    sync: { eventType: accept ? 'ACCEPT' : 'REJECT', channelId: open.channelId, requestId, fromDeviceId: caller.deviceId, fromClientType: caller.deviceType },
    exclude: caller.conn,
  });
}

export function leave(d: Draft, open: OpenChannel, caller: Caller, a: { attachExt?: string | undefined; offlineEnabled: boolean }): void {
  requireMember(open, caller.account, 'leave');
  d.push({ t: 'left', channelId: open.channelId, account: caller.account });
  for (const to of open.members.keys()) if (to !== caller.account) d.notify(open, 'LEAVE', caller.account, to, a.offlineEnabled, { attachExt: a.attachExt });
}

export function mayManage(open: OpenChannel, account: string, what: string): void {
  if (open.creator !== account) requireMember(open, account, what);
}

export function close(d: Draft, open: OpenChannel, caller: Caller, a: { attachExt?: string | undefined; offlineEnabled: boolean }): void {
  mayManage(open, caller.account, 'close it');
  const members = [...open.members.keys()];
  d.push({ t: 'closed', channelId: open.channelId, members });
  for (const to of members) if (to !== caller.account) d.notify(open, 'ROOM_CLOSE', caller.account, to, a.offlineEnabled, { attachExt: a.attachExt });
}

export function control(d: Draft, open: OpenChannel, caller: Caller, a: Args<'signalingControl'>): void {
  requireMember(open, caller.account, 'send a control signal');
  if (a.account !== undefined) {
    if (!open.members.has(a.account)) throw new ParleyError('FORBIDDEN', `${a.account} is not a member of channel ${open.channelId}`);
    d.notify(open, 'CONTROL', caller.account, a.account, false, { attachExt: a.attachExt });
    return;
  }
  for (const to of open.members.keys()) if (to !== caller.account) d.notify(open, 'CONTROL', caller.account, to, false, { attachExt: a.attachExt });
}

/** Drops the oldest answered invitations beyond ANSWERED_INVITES_KEPT. */
function trimInvites(open: OpenChannel): void {
  let answered = 0;
  for (const i of open.invites.values()) if (i.state !== 'pending') answered++;
  for (const [key, i] of open.invites) {
    if (answered <= ANSWERED_INVITES_KEPT) break;
    if (i.state !== 'pending') {
      open.invites.delete(key);
      answered--;
    }
  }
}

export function applyChannelEvent(state: ChannelState, e: ChannelEvent): void {
  switch (e.t) {
    case 'created':
      state.generation++;
      state.open = { channelId: e.channelId, type: e.type, ext: e.ext, creator: e.creator, createTime: e.time, expireTime: e.expireTime, members: new Map(), invites: new Map() };
      return;
    case 'joined':
      state.open?.members.set(e.member.account, e.member);
      return;
    case 'left':
      state.open?.members.delete(e.account);
      return;
    case 'closed':
      state.open = undefined;
      return;
    case 'delayed':
      if (state.open !== undefined) state.open.expireTime = e.expireTime;
      return;
    case 'invited':
      state.open?.invites.set(inviteKey(e.invite.inviter, e.invite.invitee, e.invite.requestId), e.invite);
      return;
    case 'answered': {
      const held = state.open?.invites.get(e.key);
      if (held !== undefined) {
        state.open!.invites.delete(e.key);
        state.open!.invites.set(e.key, { ...held, state: e.state });
        trimInvites(state.open!);
      }
      return;
    }
    case 'notify':
    case 'sync':
      return;
  }
}
