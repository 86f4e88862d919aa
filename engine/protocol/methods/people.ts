/**
 * People: profiles, the blocklist and the mutelist, and friends, each kept
 * by the account's user actor. Profile changes reach the account's other
 * devices as `updatemyinfo`, relation changes as `syncmarkinblacklist` /
 * `syncmarkinmutelist`, friend actions as `syncfriendaction`; the other
 * party of a friend action gets a `sysmsg`. The login sync carries
 * `myinfo`, `blacklist`, `mutelist` and the friends changed since the
 * device's `cursors.friends`. Browser-safe.
 */
import * as s from '../schema.ts';
import {
  GENDERS,
  MAX_ALIAS_CHARS,
  MAX_ANTISPAM_ID_CHARS,
  MAX_AVATAR_CHARS,
  MAX_EMAIL_CHARS,
  MAX_EXT_CHARS,
  MAX_FRIEND_PS_CHARS,
  MAX_NICK_CHARS,
  MAX_SIGN_CHARS,
  MAX_TEL_CHARS,
} from '../objects.ts';
import type { Friend, RelationChange, RelationRecord, UserProfile } from '../objects.ts';
import { actorMethod, edgeMethod, returns } from '../registry.ts';
import { userAddress } from '../../subjects.ts';
import { id, time, toSelf } from './common.ts';

/** Most accounts one `getUsers` names. */
export const MAX_USERS_PER_GET = 150;
/** Most friends one `getFriends` returns. */
export const MAX_FRIENDS_PER_GET = 3000;
/** Most friends an account may have (CONFLICT past it). */
export const MAX_FRIENDS = 10_000;
/** Most accounts one account may hold in its blocklist, and in its mutelist. */
export const MAX_RELATIONS = 10_000;

const toAccount = (_account: string, a: { account: string }): string => userAddress(a.account);

/** The profile fields `updateMyInfo` sets; each one given replaces the stored value (an empty string clears it). */
export const profileFields = {
  nick: s.optional(s.string({ max: MAX_NICK_CHARS })),
  avatar: s.optional(s.string({ max: MAX_AVATAR_CHARS })),
  sign: s.optional(s.string({ max: MAX_SIGN_CHARS })),
  gender: s.optional(s.literal(GENDERS)),
  email: s.optional(s.string({ max: MAX_EMAIL_CHARS, pattern: /^$|^[^\s@]+@[^\s@]+$/, patternText: 'an email address such as a@b.example' })),
  birth: s.optional(s.string({ max: 10, pattern: /^$|^\d{4}-\d{2}-\d{2}$/, patternText: 'a date as YYYY-MM-DD' })),
  tel: s.optional(s.string({ max: MAX_TEL_CHARS, pattern: /^$|^[0-9+\-() ]+$/, patternText: 'a phone number (digits, spaces, + - ( ))' })),
  custom: s.optional(s.string({ max: MAX_EXT_CHARS })),
};

const relationArgs = () => s.object({ account: id() });
const ps = () => s.optional(s.string({ max: MAX_FRIEND_PS_CHARS }));
/** A friend request's answer: the request's `idServer` (from its `applyFriend` sysmsg) and the requester. */
const answerArgs = () => s.object({ idServer: s.string({ min: 1, max: 64 }), account: id(), ps: ps() });

export const peopleMethods = {
  getUser: actorMethod({
    doc: "An account's profile, with its `updateTime` for caching; an account that never set one has an empty profile (`updateTime` 0).",
    owner: 'user',
    address: toAccount,
    positional: 'account',
    args: s.object({ account: id(), sync: s.optional(s.boolean()) }),
    result: returns<UserProfile>(),
    retry: 'idempotent',
    errors: [],
  }),
  getUsers: edgeMethod({
    doc: `Profiles of several accounts (at most ${MAX_USERS_PER_GET}; more is BAD_REQUEST), in the order named, each once.`,
    positional: 'accounts',
    args: s.object({ accounts: s.array(id(), { min: 1, max: MAX_USERS_PER_GET }), sync: s.optional(s.boolean()) }),
    result: returns<UserProfile[]>(),
    retry: 'idempotent',
    errors: [],
  }),
  updateMyInfo: actorMethod({
    doc: "Sets fields of the caller's profile (`nick` <= 64, `avatar` <= 1024, `sign` <= 256, `gender`, `email` <= 64, `birth` YYYY-MM-DD, `tel` <= 32, `custom` <= 4096 characters; `antispamBusinessId` is accepted and not stored); other devices get `updatemyinfo`.",
    owner: 'user',
    address: toSelf,
    args: s.object({ ...profileFields, antispamBusinessId: s.optional(s.string({ max: MAX_ANTISPAM_ID_CHARS })) }),
    result: returns<UserProfile>(),
    retry: 'idempotent',
    errors: [],
  }),
  addToBlacklist: edgeMethod({
    doc: "Blocks an account: its p2p messages, friend requests and notifications to the caller are refused with BLOCKED. Answers once the block is enforced; other devices get `syncmarkinblacklist`.",
    positional: 'account',
    args: relationArgs(),
    result: returns<RelationChange>(),
    retry: 'idempotent',
    errors: ['CONFLICT'],
  }),
  removeFromBlacklist: edgeMethod({
    doc: 'Unblocks an account (one not blocked is no change, `isAdd: false`); other devices get `syncmarkinblacklist`.',
    positional: 'account',
    args: relationArgs(),
    result: returns<RelationChange>(),
    retry: 'idempotent',
    errors: [],
  }),
  addToMutelist: edgeMethod({
    doc: "Mutes an account: its messages still arrive and count as unread, marked `isMuted` so no push alert is raised. Other devices get `syncmarkinmutelist`.",
    positional: 'account',
    args: relationArgs(),
    result: returns<RelationChange>(),
    retry: 'idempotent',
    errors: ['CONFLICT'],
  }),
  removeFromMutelist: edgeMethod({
    doc: 'Un-mutes an account (one not muted is no change, `isAdd: false`); other devices get `syncmarkinmutelist`.',
    positional: 'account',
    args: relationArgs(),
    result: returns<RelationChange>(),
    retry: 'idempotent',
    errors: [],
  }),
  getRelations: actorMethod({
    doc: "The caller's blocklist and mutelist, oldest entry first.",
    owner: 'user',
    address: toSelf,
    args: s.object({}),
    result: returns<{ blacklist: RelationRecord[]; mutelist: RelationRecord[] }>(),
    retry: 'idempotent',
    errors: [],
  }),
  isUserInBlackList: actorMethod({
    doc: "Whether the caller has blocked `account`.",
    owner: 'user',
    address: toSelf,
    positional: 'account',
    args: s.object({ account: id() }),
    result: returns<boolean>(),
    retry: 'idempotent',
    errors: [],
  }),
  addFriend: actorMethod({
    doc: `Befriends an account at once, without its consent; it gets a \`sysmsg\` of type \`addFriend\` with the \`ps\`. CONFLICT when already friends or at ${MAX_FRIENDS} friends; BLOCKED when it blocked the caller.`,
    owner: 'user',
    address: toSelf,
    args: s.object({ account: id(), ps: ps() }),
    result: returns<{ account: string; ps?: string; friend: Friend }>(),
    retry: 'never',
    errors: ['CONFLICT', 'BLOCKED'],
  }),
  applyFriend: actorMethod({
    doc: 'Asks an account to become friends; it gets a `sysmsg` of type `applyFriend` (answer with its `idServer`). Nothing changes until it is answered; CONFLICT when already friends or a request to it is pending; BLOCKED when it blocked the caller.',
    owner: 'user',
    address: toSelf,
    args: s.object({ account: id(), ps: ps() }),
    result: returns<{ account: string; ps?: string; idServer: string }>(),
    retry: 'never',
    errors: ['CONFLICT', 'BLOCKED'],
  }),
  passFriendApply: actorMethod({
    doc: 'Accepts a friend request (once): both become friends and the requester gets a `sysmsg` of type `passFriendApply`. NOT_FOUND for no such request, CONFLICT when it was answered already.',
    owner: 'user',
    address: toSelf,
    args: answerArgs(),
    result: returns<{ account: string; friend: Friend }>(),
    retry: 'never',
    errors: ['NOT_FOUND', 'CONFLICT'],
  }),
  rejectFriendApply: actorMethod({
    doc: 'Declines a friend request (once): the requester gets a `sysmsg` of type `rejectFriendApply`. NOT_FOUND for no such request, CONFLICT when it was answered already.',
    owner: 'user',
    address: toSelf,
    args: answerArgs(),
    result: returns<{ account: string }>(),
    retry: 'never',
    errors: ['NOT_FOUND', 'CONFLICT'],
  }),
  deleteFriend: actorMethod({
    doc: 'Ends a friendship on both sides; the other account gets a `sysmsg` of type `deleteFriend`. `delAlias` (default false) also drops the alias set for it. NOT_FOUND when not friends.',
    owner: 'user',
    address: toSelf,
    args: s.object({ account: id(), delAlias: s.optional(s.boolean(), false) }),
    result: returns<{ account: string }>(),
    retry: 'never',
    errors: ['NOT_FOUND'],
  }),
  updateFriend: actorMethod({
    doc: "Sets a friend's `alias` (<= 64 characters) and `custom` (<= 4096), seen only by the caller; NOT_FOUND when not friends.",
    owner: 'user',
    address: toSelf,
    args: s.object({ account: id(), alias: s.optional(s.string({ max: MAX_ALIAS_CHARS })), custom: s.optional(s.string({ max: MAX_EXT_CHARS })) }),
    result: returns<Friend>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND'],
  }),
  getFriends: actorMethod({
    doc: `Friends changed after \`timetag\` (default 0: every current friend), ascending by \`updateTime\`, at most ${MAX_FRIENDS_PER_GET}; page on with the last one's \`updateTime\`. With a \`timetag\`, ended friendships come as \`valid: false\`.`,
    owner: 'user',
    address: toSelf,
    args: s.object({ timetag: s.optional(time(), 0) }),
    result: returns<Friend[]>(),
    retry: 'idempotent',
    errors: [],
  }),
  isMyFriend: actorMethod({
    doc: 'Whether `account` is a friend of the caller.',
    owner: 'user',
    address: toSelf,
    positional: 'account',
    args: s.object({ account: id() }),
    result: returns<boolean>(),
    retry: 'idempotent',
    errors: [],
  }),
};
