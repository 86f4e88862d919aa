/**
 * The social side of the user actor, gathered for its tables: the state of
 * profile.ts, relations.ts and friends.ts, their events with their rows,
 * the methods and calls that read and change them, and what a change
 * tells whom. LMDB rows (keys from engine/keys.ts):
 * `user-people userPeople(address, table, key)`, tables `profile` (key
 * ''), `blacklist` / `mutelist` / `blockedBy` (key: the account),
 * `friend` (the friend), `applyIn` (the request's idServer), `applyOut`
 * (the account asked).
 */
import { pageBudget } from '../../engine/actor/behavior.ts';
import type { ActorContext, Effect } from '../../engine/actor/behavior.ts';
import { callEffect, callerOf } from '../../engine/actor/define.ts';
import type { Handler } from '../../engine/actor/define.ts';
import type { Caller } from '../../engine/envelope.ts';
import { decodeKey, keyOf, rangeOf } from '../../engine/keys.ts';
import { encode } from '../../engine/protocol/codec.ts';
import type { Args, Results } from '../../engine/protocol/methods.ts';
import { MAX_FRIENDS_PER_GET } from '../../engine/protocol/methods/people.ts';
import type { Friend, RelationChange, RelationRecord, UserProfile } from '../../engine/protocol/objects.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import { p2pAddress, userAddress } from '../../engine/subjects.ts';
import { relationCalls } from '../conversation/relations.ts';
import {
  applyFriendship,
  decideAddFriend,
  decideApplyFriend,
  decideDeleteFriend,
  decideFriendEvent,
  decidePassFriendApply,
  decideRejectFriendApply,
  decideUpdateFriend,
  emptyFriends,
  friendsSince,
  isMyFriend,
  type ApplyIn,
  type ApplyOut,
  type FriendCall,
  type FriendsState,
  type FriendshipEvent,
} from './friends.ts';
import { postSysMsg } from './post-sysmsg.ts';
import { applyProfile, decideProfile, profileView, type ProfileEvent } from './profile.ts';
import {
  applyBlockedBy,
  applyMark,
  decideBlockedBy,
  decideMark,
  emptyRelations,
  isBlockedBy,
  markOf,
  recordsOf,
  type RelationEvent,
  type RelationList,
  type RelationMark,
  type RelationsState,
} from './relations.ts';

export interface PeopleState {
  profile: UserProfile | undefined;
  relations: RelationsState;
  friends: FriendsState;
}

export type PeopleEvent = ProfileEvent | RelationEvent | FriendshipEvent;

const PEOPLE_EVENT_TYPES: ReadonlySet<string> = new Set<PeopleEvent['t']>(['profile', 'mark', 'blockedBy', 'friendship']);

/** Whether a user event is one of this module's (it changes no session row). */
export function isPeopleEvent(e: { t: string }): e is PeopleEvent {
  return PEOPLE_EVENT_TYPES.has(e.t);
}

/** Arguments of the `mark` the edge calls for a blocklist or mutelist write. */
export interface MarkArgs {
  list: RelationList;
  account: string;
  isAdd: boolean;
}

/** What `mark` answers: the wire reply, and the owner's marks on the account for the edge to push to the replicas. */
export interface MarkReply extends RelationChange {
  mark: RelationMark;
}

/** Arguments of the login sync's `people` call. */
export interface PeopleSyncArgs {
  /** The device's `cursors.friends`: friends changed after it (0: every current friend). */
  friends: number;
  /** Resume the friends after this `updateTime` (the `next` of the previous page). */
  after?: number;
  maxBytes?: number;
}

/** One page of the login sync's people part: the first carries the profile and both lists. */
export interface PeopleSyncPage {
  myInfo?: UserProfile;
  blacklist?: RelationRecord[];
  mutelist?: RelationRecord[];
  friends: Friend[];
  /** Set when more friends follow: pass it back as `after`. */
  next?: number;
}

export const peopleCalls = {
  mark: internal({
    doc: 'Adds an account to the blocklist or mutelist, or removes it (the wire methods of relations, through the edge).',
    args: takes<MarkArgs>(),
    result: returns<MarkReply>(),
    retry: 'idempotent',
  }),
  blockedBy: internal({
    doc: "Another account's current marks on this one (the `blockedBy` replica); absolute, so repeats and reorders are harmless.",
    args: takes<RelationMark>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  friendEvent: internal({
    doc: "The other side of a friend action: records this account's side and posts its system notification; repeats change nothing.",
    args: takes<FriendCall>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  relationTo: internal({
    doc: "Whether this account has blocked or muted `account`: for senders that reach the account without its conversation (custom system notifications).",
    args: takes<{ account: string }>(),
    result: returns<{ blocked: boolean; muted: boolean }>(),
    retry: 'idempotent',
  }),
  people: internal({
    doc: "One page of the login sync's people part: the profile, both lists and the friends changed since the device's cursor.",
    args: takes<PeopleSyncArgs>(),
    result: returns<PeopleSyncPage>(),
    retry: 'idempotent',
  }),
};

/** The part of the user state this module reads. */
interface WithPeople {
  account: string;
  people?: PeopleState;
}

/** The people state of a user state, made empty when it has none yet. */
function peopleOf(state: WithPeople): PeopleState {
  return (state.people ??= emptyPeople());
}

const ROWS = 'user-people';

export function emptyPeople(): PeopleState {
  return { profile: undefined, relations: emptyRelations(), friends: emptyFriends() };
}

/** The people state from its rows. */
export function loadPeople(ctx: ActorContext): PeopleState {
  const p = emptyPeople();
  for (const { key, value } of ctx.store.db(ROWS).getRange(rangeOf('userPeople', ctx.address))) {
    const [, table, k] = decodeKey('userPeople', key);
    switch (table) {
      case 'profile':
        p.profile = value as UserProfile;
        break;
      case 'blacklist':
      case 'mutelist':
        p.relations[table].set(k, value as number);
        break;
      case 'blockedBy':
        p.relations.blockedBy.set(k, value as { blocked: boolean; time: number });
        break;
      case 'friend': {
        const f = value as Friend;
        p.friends.friends.set(k, f);
        if (f.valid) p.friends.count++;
        if (f.updateTime > p.friends.clock) p.friends.clock = f.updateTime;
        break;
      }
      case 'applyIn':
        p.friends.applyIn.set(k, value as ApplyIn);
        break;
      case 'applyOut':
        p.friends.applyOut.set(k, value as ApplyOut);
        break;
    }
  }
  // Rows come in key order: the lists are kept oldest first.
  for (const list of ['blacklist', 'mutelist'] as const) p.relations[list] = new Map([...p.relations[list]].sort((a, b) => a[1] - b[1]));
  p.friends.applyIn = new Map([...p.friends.applyIn].sort((a, b) => a[1].time - b[1].time));
  return p;
}

function put(ctx: ActorContext, table: string, key: string, value: unknown): void {
  void ctx.store.db(ROWS).put(keyOf('userPeople', ctx.address, table, key), value);
}
function remove(ctx: ActorContext, table: string, key: string): void {
  void ctx.store.db(ROWS).remove(keyOf('userPeople', ctx.address, table, key));
}

/** Each people event's apply and rows, for the user actor's event table. */
export const peopleEvents = {
  profile: {
    apply: (state: WithPeople, e: ProfileEvent) => {
      peopleOf(state).profile = applyProfile(state.account, peopleOf(state).profile, e);
    },
    persist: (state: WithPeople, _e: ProfileEvent, ctx: ActorContext) => put(ctx, 'profile', '', peopleOf(state).profile),
  },
  mark: {
    apply: (state: WithPeople, e: Extract<RelationEvent, { t: 'mark' }>) => applyMark(peopleOf(state).relations, e),
    persist: (state: WithPeople, e: Extract<RelationEvent, { t: 'mark' }>, ctx: ActorContext) => {
      const at = peopleOf(state).relations[e.list].get(e.account);
      if (at === undefined) remove(ctx, e.list, e.account);
      else put(ctx, e.list, e.account, at);
    },
  },
  blockedBy: {
    apply: (state: WithPeople, e: Extract<RelationEvent, { t: 'blockedBy' }>) => applyBlockedBy(peopleOf(state).relations, e),
    persist: (state: WithPeople, e: Extract<RelationEvent, { t: 'blockedBy' }>, ctx: ActorContext) => put(ctx, 'blockedBy', e.by, peopleOf(state).relations.blockedBy.get(e.by)),
  },
  friendship: {
    apply: (state: WithPeople, e: FriendshipEvent) => applyFriendship(peopleOf(state).friends, e),
    persist: (state: WithPeople, e: FriendshipEvent, ctx: ActorContext) => {
      const f = peopleOf(state).friends;
      if (e.friend !== undefined) put(ctx, 'friend', e.peer, f.friends.get(e.peer));
      if (e.applyOut !== undefined) {
        const out = f.applyOut.get(e.peer);
        if (out === undefined) remove(ctx, 'applyOut', e.peer);
        else put(ctx, 'applyOut', e.peer, out);
      }
      if (e.applyIn !== undefined) put(ctx, 'applyIn', e.applyIn.idServer, f.applyIn.get(e.applyIn.idServer));
      if (e.dropApplyIn !== undefined) for (const id of e.dropApplyIn) if (!f.applyIn.has(id)) remove(ctx, 'applyIn', id);
    },
  },
};

function frame(ev: string, d: unknown): Uint8Array {
  return encode({ ev, d });
}

/** Delivers to the account's devices but the socket `conn`. */
function toOthers(account: string, f: Uint8Array, conn: string | undefined): Effect {
  return conn === undefined ? { kind: 'deliver', account, frame: f } : { kind: 'deliver', account, frame: f, exclude: conn };
}

/**
 * What the batch's people events tell: profile and relation changes to the
 * account's other devices, relation marks to their replicas (the pair's
 * conversation and the marked account), friend actions to the other
 * devices, notifications to the account, and the peer's side to its actor.
 */
export function peopleEffects(state: WithPeople, events: readonly { t: string }[]): Effect[] {
  const out: Effect[] = [];
  for (const e of events) {
    if (!isPeopleEvent(e)) continue;
    switch (e.t) {
      case 'profile':
        out.push(toOthers(state.account, frame('updatemyinfo', profileView(state.account, peopleOf(state).profile)), e.conn));
        break;
      case 'mark': {
        const record = { account: e.account, updateTime: e.time };
        const ev = e.list === 'blacklist' ? 'syncmarkinblacklist' : 'syncmarkinmutelist';
        out.push(toOthers(state.account, frame(ev, { account: e.account, isAdd: e.isAdd, record }), e.conn));
        const mark = markOf(peopleOf(state).relations, state.account, e.account, e.time);
        out.push(callEffect(relationCalls, 'relation', p2pAddress(state.account, e.account), mark));
        out.push(callEffect(peopleCalls, 'blockedBy', userAddress(e.account), mark));
        break;
      }
      case 'blockedBy':
        break;
      case 'friendship':
        if (e.action !== undefined) out.push(toOthers(state.account, frame('syncfriendaction', e.action), e.conn));
        if (e.sysmsg !== undefined) out.push(postSysMsg(state.account, e.sysmsg));
        if (e.call !== undefined) out.push(callEffect(peopleCalls, 'friendEvent', userAddress(e.peer), e.call));
        break;
    }
  }
  return out;
}

type PeopleMethod =
  | 'getUser'
  | 'updateMyInfo'
  | 'getRelations'
  | 'isUserInBlackList'
  | 'addFriend'
  | 'applyFriend'
  | 'passFriendApply'
  | 'rejectFriendApply'
  | 'deleteFriend'
  | 'updateFriend'
  | 'getFriends'
  | 'isMyFriend';

function acting(state: WithPeople, c: Caller | undefined, m: string, peer: string, ctx: ActorContext) {
  const caller = callerOf(c, m);
  const now = ctx.now();
  return { me: state.account, now, idServer: ctx.nextIdServer(now), conn: caller.conn, blocked: isBlockedBy(peopleOf(state).relations, peer) };
}

/** The wire methods of people the user actor answers. */
export const peopleMethodHandlers: { readonly [M in PeopleMethod]: Handler<WithPeople, PeopleEvent, Args<M>, Results[M]> } = {
  getUser: (state) => ({ reply: profileView(state.account, peopleOf(state).profile) }),
  updateMyInfo(state, a, c, ctx) {
    const caller = callerOf(c, 'updateMyInfo');
    const events = decideProfile(peopleOf(state).profile, a, ctx.now(), caller.conn);
    const reply = events.length === 0 ? profileView(state.account, peopleOf(state).profile) : applyProfile(state.account, peopleOf(state).profile, events[0]!);
    return { reply, events };
  },
  getRelations: (state) => ({ reply: { blacklist: recordsOf(peopleOf(state).relations.blacklist), mutelist: recordsOf(peopleOf(state).relations.mutelist) } }),
  isUserInBlackList: (state, a) => ({ reply: peopleOf(state).relations.blacklist.has(a.account) }),
  addFriend: (state, a, c, ctx) => decideAddFriend(peopleOf(state).friends, a, acting(state, c, 'addFriend', a.account, ctx)),
  applyFriend: (state, a, c, ctx) => decideApplyFriend(peopleOf(state).friends, a, acting(state, c, 'applyFriend', a.account, ctx)),
  passFriendApply: (state, a, c, ctx) => decidePassFriendApply(peopleOf(state).friends, a, { me: state.account, now: ctx.now(), conn: callerOf(c, 'passFriendApply').conn }),
  rejectFriendApply: (state, a, c, ctx) => decideRejectFriendApply(peopleOf(state).friends, a, { me: state.account, now: ctx.now(), conn: callerOf(c, 'rejectFriendApply').conn }),
  deleteFriend: (state, a, c, ctx) => decideDeleteFriend(peopleOf(state).friends, a, acting(state, c, 'deleteFriend', a.account, ctx)),
  updateFriend: (state, a, c, ctx) => decideUpdateFriend(peopleOf(state).friends, a, { me: state.account, now: ctx.now(), conn: callerOf(c, 'updateFriend').conn }),
  getFriends: (state, a) => ({ reply: friendsSince(peopleOf(state).friends, a.timetag) }),
  isMyFriend: (state, a) => ({ reply: isMyFriend(peopleOf(state).friends, a.account) }),
};

/** The internal calls of people the user actor answers. */
export const peopleCallHandlers: { readonly [N in keyof typeof peopleCalls]: Handler<WithPeople, PeopleEvent, ArgsOfCall<N>, ResultOfCall<N>> } = {
  mark(state, a, c, ctx) {
    const caller = callerOf(c, `${a.isAdd ? 'addTo' : 'removeFrom'}${a.list === 'blacklist' ? 'Blacklist' : 'Mutelist'}`);
    const now = ctx.now();
    const { reply, events } = decideMark(peopleOf(state).relations, state.account, a.list, a.account, a.isAdd, now, caller.conn);
    // The marks as the events leave them, for the edge to push to the replicas whether or not this changed anything.
    const scratch: RelationsState = { ...peopleOf(state).relations, [a.list]: new Map(peopleOf(state).relations[a.list]) };
    for (const e of events) if (e.t === 'mark') applyMark(scratch, e);
    return { reply: { ...reply, mark: markOf(scratch, state.account, a.account, now) }, events };
  },
  blockedBy: (state, a) => ({ reply: true, events: a.peer === state.account ? decideBlockedBy(peopleOf(state).relations, a.owner, a.blocked, a.time) : [] }),
  relationTo: (state, a) => ({
    reply: { blocked: peopleOf(state).relations.blacklist.has(a.account), muted: peopleOf(state).relations.mutelist.has(a.account) },
  }),
  friendEvent: (state, a, _c, ctx) => ({
    reply: true,
    events: decideFriendEvent(peopleOf(state).friends, state.account, a, ctx.now(), peopleOf(state).relations.blacklist.has(a.from)),
  }),
  people(state, a, _c, ctx) {
    const budget = pageBudget(ctx, a.maxBytes);
    const page: PeopleSyncPage = { friends: [] };
    let bytes = 0;
    if (a.after === undefined) {
      page.myInfo = profileView(state.account, peopleOf(state).profile);
      page.blacklist = recordsOf(peopleOf(state).relations.blacklist);
      page.mutelist = recordsOf(peopleOf(state).relations.mutelist);
      bytes = encode(page).byteLength;
    }
    // A fresh device (cursor 0) needs no ended friendships, on any page.
    const wanted = friendsSince(peopleOf(state).friends, Math.max(a.friends, a.after ?? 0), MAX_FRIENDS_PER_GET + 1, a.friends > 0);
    for (const f of wanted) {
      const size = encode(f).byteLength;
      if (page.friends.length >= MAX_FRIENDS_PER_GET || (page.friends.length > 0 && bytes + size > budget)) {
        page.next = page.friends[page.friends.length - 1]!.updateTime;
        break;
      }
      page.friends.push(f);
      bytes += size;
    }
    return { reply: page };
  },
};

type ArgsOfCall<N extends keyof typeof peopleCalls> = import('../../engine/protocol/registry.ts').ArgsOf<(typeof peopleCalls)[N]>;
type ResultOfCall<N extends keyof typeof peopleCalls> = import('../../engine/protocol/registry.ts').ResultOf<(typeof peopleCalls)[N]>;
