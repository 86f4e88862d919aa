/**
 * Signaling: channels for setting up calls and passing custom signals,
 * each one a channel actor (`channel:<channelName>`). A channel has a type
 * (1 audio, 2 video, 3 other), a name unique while it is open, and an id
 * fresh at each creation (`<channelName>.<generation>`), so a request
 * naming a closed channel's id never reaches the next channel of that name.
 * Invitations are answered once, whichever of the invitee's devices
 * answers first. Browser-safe.
 */
import * as s from '../schema.ts';
import { MAX_EXT_CHARS } from '../objects.ts';
import { actorMethod, edgeMethod, returns } from '../registry.ts';
import { id } from './common.ts';
import { presenceAddress } from '../../subjects.ts';

/** Longest channel name, characters. */
export const MAX_CHANNEL_NAME_CHARS = 64;
/** Most members of one channel. */
export const MAX_CHANNEL_MEMBERS = 100;
/** Most signal ids one `signalingMarkMsgRead` names. */
export const MAX_SIGNALS_PER_MARK = 100;
/** Default and bounds of an RTC token's lifetime, seconds. */
export const DEFAULT_RTC_TOKEN_TTL_SEC = 600;

/** A channel's type: 1 audio, 2 video, 3 other. */
export type ChannelType = 1 | 2 | 3;

/** A member of a channel. */
export interface ChannelMember {
  account: string;
  /** The member's number inside the channel, > 0. */
  uid: number;
  joinTime: number;
  /** The device that joined. */
  deviceId: string;
}

/** A channel as methods answer it. */
export interface ChannelInfo {
  channelId: string;
  channelName: string;
  type: ChannelType;
  ext: string;
  creator: string;
  createTime: number;
  /** When the channel closes by itself unless `signalingDelay` extends it, ms. */
  expireTime: number;
  members: ChannelMember[];
}

export const SIGNALING_EVENT_TYPES = ['ROOM_CLOSE', 'ROOM_JOIN', 'INVITE', 'CANCEL_INVITE', 'REJECT', 'ACCEPT', 'LEAVE', 'CONTROL'] as const;
export type SignalingEventType = (typeof SIGNALING_EVENT_TYPES)[number];

/** What a channel tells an account (`signalingNotify`, and stored for it with `offlineEnabled`). */
export interface SignalingNotify {
  eventType: SignalingEventType;
  channelId: string;
  channelName: string;
  channelType: ChannelType;
  /** Who acted. */
  from: string;
  /** Who is told. */
  to: string;
  requestId?: string;
  attachExt?: string;
  /** With INVITE: the push properties the inviter gave. */
  pushInfo?: string;
  /** With ROOM_JOIN (and ACCEPT that joined): the member who joined. */
  member?: ChannelMember;
  time: number;
  /** Unique id of this signal; `signalingMarkMsgRead` takes it. */
  msgid: string;
}

/** What the invitee's other devices hear when one of its devices answered an invitation. */
export interface SignalingMultiClientSync {
  eventType: 'ACCEPT' | 'REJECT';
  channelId: string;
  requestId: string;
  fromDeviceId: string;
  fromClientType: string;
}

/** The channel actor of a channel name, or of a channel id (`<name>.<generation>`). */
export function channelAddress(channelName: string): string {
  return `channel:${channelName}`;
}

/** The name part of a channel id; undefined when the id has no generation. */
export function channelNameOf(channelId: string): string | undefined {
  const dot = channelId.lastIndexOf('.');
  return dot <= 0 ? undefined : channelId.slice(0, dot);
}

/** Routes by `channelId`; an id without a generation goes to no channel that can exist (its actor answers NOT_FOUND). */
const toChannelId = (_account: string, a: { channelId: string }): string => channelAddress(channelNameOf(a.channelId) ?? a.channelId);
/**
 * Routes by `channelName`; without one, to a fresh name that becomes the
 * channel's. Chosen once per request, so these methods are never retried
 * after an unknown outcome.
 */
const toChannelName = (_account: string, a: { channelName?: string | undefined }): string => channelAddress(a.channelName ?? globalThis.crypto.randomUUID());

const channelName = () => s.identifier({ max: MAX_CHANNEL_NAME_CHARS });
const channelId = () => s.identifier({ max: MAX_CHANNEL_NAME_CHARS + 16 });
const attachExt = () => s.optional(s.string({ max: MAX_EXT_CHARS }));
const uid = () => s.optional(s.int({ min: 0, max: 2 ** 31 - 1 }));
const requestId = () => s.identifier({ max: 128 });

const createShape = {
  type: s.int({ min: 1, max: 3 }),
  channelName: s.optional(channelName()),
  ext: s.optional(s.string({ max: MAX_EXT_CHARS }), ''),
};
const offline = () => s.optional(s.boolean(), false);
/** A channel and what the operation passes on: leave, close. */
const channelOp = () => s.object({ channelId: channelId(), attachExt: attachExt(), offlineEnabled: offline() });
const joinShape = { attachExt: attachExt(), offlineEnabled: offline(), uid: uid() };
const inviteShape = { account: id(), requestId: requestId(), attachExt: attachExt(), offlineEnabled: offline(), pushInfo: s.optional(s.string({ max: MAX_EXT_CHARS })) };
const rtcShape = {
  nertcChannelName: s.optional(s.string({ min: 1, max: 256 })),
  nertcTokenTtl: s.optional(s.int({ min: 1, max: 86_400 }), DEFAULT_RTC_TOKEN_TTL_SEC),
  nertcJoinRoomQueryParamMap: s.optional(s.string({ max: MAX_EXT_CHARS })),
};

/** An answer with an RTC token for the channel's media room. */
export interface RtcToken {
  token: string;
  nertcChannelName: string;
  nertcTokenTtl: number;
}

const CHANNEL_ERRORS = ['NOT_FOUND', 'FORBIDDEN', 'CONFLICT'] as const;

export const signalingMethods = {
  signalingCreate: actorMethod({
    doc: 'Creates a channel: `type` 1 audio, 2 video, 3 other; a `channelName` (a fresh one when absent) that no other open channel has; its `ext`. Answers the channel, with a new `channelId`.',
    owner: 'channel',
    address: toChannelName,
    args: s.object(createShape),
    result: returns<ChannelInfo>(),
    retry: 'never',
    errors: ['CONFLICT'],
  }),
  signalingGetChannelInfo: actorMethod({
    doc: 'The open channel of `channelName`, with its members.',
    owner: 'channel',
    address: (_account, a) => channelAddress(a.channelName),
    positional: 'channelName',
    args: s.object({ channelName: channelName() }),
    result: returns<ChannelInfo>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND'],
  }),
  signalingJoin: actorMethod({
    doc: 'Joins a channel with `uid` (> 0; another value gets one assigned); the other members get `signalingNotify` ROOM_JOIN. Joining again changes nothing.',
    owner: 'channel',
    address: toChannelId,
    args: s.object({ channelId: channelId(), ...joinShape }),
    result: returns<ChannelInfo>(),
    retry: 'idempotent',
    errors: [...CHANNEL_ERRORS],
  }),
  signalingLeave: actorMethod({
    doc: 'Leaves a channel; the other members get LEAVE.',
    owner: 'channel',
    address: toChannelId,
    args: channelOp(),
    result: returns<{ channelId: string }>(),
    retry: 'idempotent',
    errors: [...CHANNEL_ERRORS],
  }),
  signalingCreateAndJoin: actorMethod({
    doc: 'Joins the open channel of `channelName`, creating it first when there is none.',
    owner: 'channel',
    address: toChannelName,
    args: s.object({ ...createShape, ...joinShape }),
    result: returns<ChannelInfo>(),
    retry: 'never',
    errors: [...CHANNEL_ERRORS],
  }),
  signalingClose: actorMethod({
    doc: 'Closes a channel (its creator or a member); every other member gets ROOM_CLOSE.',
    owner: 'channel',
    address: toChannelId,
    args: channelOp(),
    result: returns<{ channelId: string }>(),
    retry: 'idempotent',
    errors: [...CHANNEL_ERRORS],
  }),
  signalingDelay: actorMethod({
    doc: 'Extends a channel (its creator or a member) by the channel lifetime from now.',
    owner: 'channel',
    address: toChannelId,
    args: s.object({ channelId: channelId() }),
    result: returns<ChannelInfo>(),
    retry: 'idempotent',
    errors: [...CHANNEL_ERRORS],
  }),
  signalingInvite: actorMethod({
    doc: 'A member invites `account` under its own `requestId`; the invitee gets INVITE (stored for its next login too with `offlineEnabled`).',
    owner: 'channel',
    address: toChannelId,
    args: s.object({ channelId: channelId(), ...inviteShape }),
    result: returns<{ channelId: string; requestId: string; account: string }>(),
    retry: 'idempotent',
    errors: [...CHANNEL_ERRORS],
  }),
  signalingCancel: actorMethod({
    doc: 'The inviter withdraws its unanswered invitation of `account`; the invitee gets CANCEL_INVITE.',
    owner: 'channel',
    address: toChannelId,
    args: s.object({ channelId: channelId(), account: id(), requestId: requestId(), attachExt: attachExt(), offlineEnabled: offline() }),
    result: returns<{ channelId: string; requestId: string }>(),
    retry: 'idempotent',
    errors: [...CHANNEL_ERRORS],
  }),
  signalingReject: actorMethod({
    doc: "The invitee declines the invitation of inviter `account`; the inviter gets REJECT, the invitee's other devices `signalingMutilClientSyncNotify`. Answered once: a second answer, from any device, is CONFLICT.",
    owner: 'channel',
    address: toChannelId,
    args: s.object({ channelId: channelId(), account: id(), requestId: requestId(), attachExt: attachExt(), offlineEnabled: offline() }),
    result: returns<{ channelId: string; requestId: string }>(),
    retry: 'never',
    errors: [...CHANNEL_ERRORS],
  }),
  signalingAccept: actorMethod({
    doc: "The invitee accepts the invitation of inviter `account` and, unless `autoJoin` is false, joins (the other members get ROOM_JOIN with `joinAttachExt`); the inviter gets ACCEPT, the invitee's other devices `signalingMutilClientSyncNotify`. Answered once: a second answer, from any device, is CONFLICT.",
    owner: 'channel',
    address: toChannelId,
    args: s.object({
      channelId: channelId(),
      account: id(),
      requestId: requestId(),
      attachExt: attachExt(),
      offlineEnabled: offline(),
      autoJoin: s.optional(s.boolean(), true),
      joinAttachExt: attachExt(),
      uid: uid(),
    }),
    result: returns<ChannelInfo>(),
    retry: 'never',
    errors: [...CHANNEL_ERRORS],
  }),
  signalingControl: actorMethod({
    doc: 'A member sends a custom signal (CONTROL with `attachExt`) to member `account`, or to every other member when `account` is absent.',
    owner: 'channel',
    address: toChannelId,
    args: s.object({ channelId: channelId(), account: s.optional(id()), attachExt: attachExt() }),
    result: returns<{ channelId: string }>(),
    retry: 'never',
    errors: [...CHANNEL_ERRORS],
  }),
  signalingCall: actorMethod({
    doc: 'Places a call: creates the channel (or joins the open one of `channelName`), joins it and invites `account`.',
    owner: 'channel',
    address: toChannelName,
    args: s.object({ ...createShape, ...joinShape, ...inviteShape }),
    result: returns<ChannelInfo & { requestId: string }>(),
    retry: 'never',
    errors: [...CHANNEL_ERRORS],
  }),
  signalingCallEx: edgeMethod({
    doc: '`signalingCall`, answered with an RTC token for `nertcChannelName` (default: the channel id) valid `nertcTokenTtl` seconds (default 600); BAD_REQUEST when no token provider is configured.',
    args: s.object({ ...createShape, ...joinShape, ...inviteShape, ...rtcShape }),
    result: returns<ChannelInfo & { requestId: string } & RtcToken>(),
    retry: 'never',
    errors: [...CHANNEL_ERRORS, 'BAD_REQUEST'],
  }),
  signalingJoinAndAccept: edgeMethod({
    doc: '`signalingAccept` with `autoJoin`, answered with an RTC token as `signalingCallEx`.',
    args: s.object({ channelId: channelId(), account: id(), requestId: requestId(), attachExt: attachExt(), offlineEnabled: offline(), uid: uid(), ...rtcShape }),
    result: returns<ChannelInfo & RtcToken>(),
    retry: 'never',
    errors: [...CHANNEL_ERRORS, 'BAD_REQUEST'],
  }),
  signalingMarkMsgRead: actorMethod({
    doc: 'Acknowledges stored signals by `msgid`, so later logins no longer deliver them in `signalingUnreadMessageSyncNotify`.',
    owner: 'presence',
    address: (account) => presenceAddress(account),
    positional: 'msgid',
    args: s.object({ msgid: s.array(s.identifier({ max: 256 }), { min: 1, max: MAX_SIGNALS_PER_MARK }) }),
    result: returns<{ count: number }>(),
    retry: 'idempotent',
    errors: [],
  }),
};
