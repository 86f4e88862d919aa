/**
 * The group actors: `team:<teamId>` (advanced groups) and
 * `superTeam:<teamId>` (supergroups), two kinds with separate id spaces and
 * histories, made from one set of tables. A group owns its profile, members
 * and their roles, invitations and join requests, and its conversation:
 * numbered messages, recalls, deletions for self.
 *
 * LMDB rows (keys from engine/keys.ts): `team-members teamMember(address,
 * account) → MemberRow`, `team-pending teamPending(address, what, account)
 * → PendingRow`, and the conversation's rows as a p2p conversation keeps
 * them (`conv-msgs`, `conv-idc`, and beside the messages `conv-pins`,
 * `conv-comments`, `conv-threads`, `conv-cleared`, under the group's
 * address). The snapshot holds the profile, the numbering and the counters.
 *
 * Fan-out: an advanced group's message is delivered to each member's
 * account; a supergroup's is published once on the group's subject
 * (./fanout.ts). An advanced group's message touches each member's
 * session; a supergroup's touches none: its sessions are brought up to date
 * from the group (`sessionOf`) when they are read, and unread counts come
 * from read pointers either way.
 */
import { pageBudget } from '../../engine/actor/behavior.ts';
import type { ActorContext, Effect } from '../../engine/actor/behavior.ts';
import { callEffect, callerOf, defineActor } from '../../engine/actor/define.ts';
import type { Outcome } from '../../engine/actor/define.ts';
import type { Config } from '../../engine/config.ts';
import { ADMIN_CONN } from '../../engine/envelope.ts';
import type { Caller } from '../../engine/envelope.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Args } from '../../engine/protocol/methods.ts';
import { decodeKey, keyOf, rangeOf, rangeUnder } from '../../engine/keys.ts';
import { encode, encodeArrayOfRaw, encodeMapOfRaw, rememberEncoding } from '../../engine/protocol/codec.ts';
import { sessionIdOf } from '../../engine/protocol/objects.ts';
import type { DeletedMsgSelf, Message, MsgRef, MsgType, SysMsg } from '../../engine/protocol/objects.ts';
import type { ClearedHistory } from '../../engine/protocol/methods.ts';
import { DEFAULT_SUPER_TEAM_MAX_MEMBERS, DEFAULT_TEAM_MAX_MEMBERS, SUPER_TEAM_MEMBERS_CHUNK, userTeamsAddress } from '../../engine/protocol/methods/teams.ts';
import type { Team, TeamKind, TeamMember, TeamNotificationAttach } from '../../engine/protocol/methods/teams.ts';
import { userAddress } from '../../engine/subjects.ts';
import { commentInput, commentRows, conversationSettings, lmdbView, pinInput, pinRows, threadReplies } from '../conversation/behavior.ts';
import type { RangeReply } from '../conversation/calls.ts';
import { addPinOn, deletePinOn, updatePinOn } from '../conversation/pins.ts';
import type { PinEvent } from '../conversation/pins.ts';
import { addCommentOn, deleteCommentOn } from '../conversation/quick-comments.ts';
import { applyClear, threadPage } from '../conversation/threads.ts';
import {
  applyEvent,
  applyRowChange,
  clearedSeq,
  fileBody,
  findResend,
  forwardedBody,
  historyPage,
  lastVisible,
  markSaved,
  rowAt,
  visibleTo,
  type ClearMark,
  type MessageBody,
  type RecallOptions,
  type SendOptions,
  type StoredMessage,
} from '../conversation/logic.ts';
import { userCalls } from '../user/calls.ts';
import type { TouchArgs } from '../user/calls.ts';
import { userTeamsCalls } from '../user-teams/calls.ts';
import { teamCalls } from './calls.ts';
import { groupPushTargets } from './push-targets.ts';
import {
  applyChange,
  checkPoster,
  keepAlert,
  keepRecall,
  recallCountedFor,
  liveTeam,
  memberOf,
  memberView,
  quietFor,
  type Change,
  type KeptRecall,
  type MemberRow,
  type PendingRow,
  type TeamEvent,
  type TeamLimits,
  type TeamState,
} from './logic.ts';
import { noticeFrameEffects, superTeamEffects } from './fanout.ts';
import { decideTeamHide, decideTeamRecall, decideTeamSend, teamMessagesByRef, teamViewOf } from './messages.ts';
import * as rules from './rules.ts';
import type { DecideContext } from './rules.ts';
import { postSysMsg } from './sysmsg.ts';
import { alertMuted, decideGroupClear, groupCommentedMsg, groupComments, groupPinChange, groupPinView, groupPins, groupReplyPlace, groupRootOf, groupTarget } from './extras.ts';
import { countedFor, decideReceipts, persistReads, persistReceiptRow, readAccounts, readCounts } from './receipts.ts';
import { recallNoticePage } from './recall-notices.ts';

/** What groups read when deciding: the member limit (`TEAM_FULL` past it). One value per process; a test may lower it. */
export const teamSettings = {
  /** Members an advanced group may hold. */
  maxMembers: DEFAULT_TEAM_MAX_MEMBERS,
  /** Members a supergroup may hold. */
  superTeamMaxMembers: DEFAULT_SUPER_TEAM_MAX_MEMBERS,
  /** Whether clients may create and dismiss supergroups (otherwise the host's backend does). */
  superTeamClientCreate: false,
  /** Members per chunk of `getAllSuperTeamMembers`. */
  membersChunk: SUPER_TEAM_MEMBERS_CHUNK,
};

/** Takes the group settings from the process's configuration. */
export function configureTeams(config: Pick<Config, 'teamMaxMembers' | 'superTeamMaxMembers' | 'superTeamClientCreate'>): void {
  teamSettings.maxMembers = config.teamMaxMembers;
  teamSettings.superTeamMaxMembers = config.superTeamMaxMembers;
  teamSettings.superTeamClientCreate = config.superTeamClientCreate;
}

/** The limits of a group kind as configured now. */
function limitsOf(kind: TeamKind): TeamLimits {
  return { maxMembers: kind === 'team' ? teamSettings.maxMembers : teamSettings.superTeamMaxMembers };
}

interface Snapshot {
  logSeq: number;
  lastSeq: number;
  lastTime: number;
  sent: [string, number][];
  quietTotal: number;
  quietBy: [string, number][];
  /** A supergroup's kept recalls (TeamState.recalls); absent in snapshots written before they were kept. */
  recalls?: KeptRecall[];
  team?: Team;
  version: number;
}

/** `clearServerHistoryMsgs` under either name. */
function clear(state: TeamState, a: Args<'clearServerHistoryMsgs'>, c: Caller | undefined, ctx: ActorContext, m: string): Outcome<TeamEvent, ClearedHistory> {
  const caller = callerOf(c, m);
  const { cleared, event } = decideGroupClear(state, { viewer: caller.account, isDeleteRoam: a.isDeleteRoam, isSyncSelf: a.isSyncSelf, ext: a.ext, now: ctx.now(), conn: caller.conn });
  return event === undefined ? { reply: cleared } : { reply: cleared, events: [event] };
}

/** Delivers `payload(viewer)` as `ev` to every member: all devices of the others, the other devices of `by`. */
function toMembers(state: TeamState, by: string, conn: string | undefined, ev: string, payload: (viewer: string) => unknown): Effect[] {
  const out: Effect[] = [];
  for (const member of state.members.keys()) out.push(deliver(member, frame(ev, payload(member)), member === by ? conn : undefined));
  return out;
}

function frame(ev: string, d: unknown): Uint8Array {
  return encode({ ev, d });
}

function initialState(kind: TeamKind, id: string): TeamState {
  return {
    kind,
    id,
    team: undefined,
    version: 0,
    members: new Map(),
    former: new Map(),
    pending: new Map(),
    alertOff: new Set(),
    alertHigh: new Set(),
    quietTotal: 0,
    quietBy: new Map(),
    recalls: [],
    conv: { members: [id, id], lastSeq: 0, lastTime: 0, sent: new Map(), quiet: new Map(), recent: new Map(), unsaved: new Map(), cleared: new Map() },
  };
}

/** The deciding context of a group method. */
function decideContext(state: TeamState, c: Caller | undefined, ctx: ActorContext, m: string): DecideContext {
  const caller = callerOf(c, m);
  const now = ctx.now();
  return {
    state,
    by: caller.account,
    now,
    limits: limitsOf(state.kind),
    nextIdServer: () => ctx.nextIdServer(now),
    notify: (change, attach, alsoTo, notTo) => [notification(state, caller, ctx, change, attach, alsoTo, notTo)],
  };
}

/** The notification message of a change, from its operator; it never counts as unread. */
function notification(state: TeamState, caller: Caller, ctx: ActorContext, _change: Change, attach: TeamNotificationAttach, alsoTo?: string[], notTo?: string[]): TeamEvent {
  const now = ctx.now();
  const idServer = ctx.nextIdServer(now);
  const event = decideTeamSend(state, {
    from: caller.account,
    fromDeviceId: caller.deviceId,
    fromClientType: caller.deviceType,
    idClient: idServer,
    now,
    idServer,
    type: 'notification',
    body: { attach } as MessageBody,
    args: { isUnreadable: false, isPushable: false },
  });
  if (alsoTo !== undefined && alsoTo.length > 0) event.alsoTo = alsoTo;
  if (notTo !== undefined && notTo.length > 0) {
    // Not theirs to see at all: left out of their deliveries, sessions and history, as if deleted for self.
    event.notTo = notTo;
    event.msg.hiddenFor = [...notTo];
  }
  return event;
}

/** Any send: members only, MUTED under a mute; a resend with the same (from, idClient) is answered again. */
function send(
  state: TeamState,
  a: SendOptions & { idClient?: string | undefined; replyMsg?: MsgRef | undefined },
  c: Caller | undefined,
  ctx: ActorContext,
  m: string,
  type: MsgType,
  body: MessageBody,
): Outcome<TeamEvent, Message> {
  const caller = callerOf(c, m);
  const idClient = a.idClient ?? ctx.nextIdServer(ctx.now());
  const earlier = findResend(state.conv, lmdbView(ctx), caller.account, idClient);
  if (earlier !== undefined) return { reply: teamViewOf(earlier, caller.account) };
  checkPoster(state, caller.account);
  const now = ctx.now();
  const thread = a.replyMsg === undefined ? undefined : groupReplyPlace(state, lmdbView(ctx), caller.account, a.replyMsg);
  const event = decideTeamSend(state, {
    from: caller.account,
    fromDeviceId: caller.deviceId,
    fromClientType: caller.deviceType,
    idClient,
    now,
    idServer: ctx.nextIdServer(now),
    type,
    body,
    args: a,
    conn: caller.conn,
    thread,
  });
  const counted = countedFor(state, event.msg);
  if (counted !== undefined) event.counted = counted;
  return { reply: teamViewOf(event.msg, caller.account), events: [event] };
}

function recall(state: TeamState, a: RecallOptions & { msg: MsgRef }, c: Caller | undefined, ctx: ActorContext, m: string): Outcome<TeamEvent, SysMsg> {
  const caller = callerOf(c, m);
  const { msg: ref, ...options } = a;
  const now = ctx.now();
  const { notice, event } = decideTeamRecall(state, lmdbView(ctx), {
    by: caller.account,
    ref,
    now,
    idServer: ctx.nextIdServer(now),
    windowMs: conversationSettings.recallWindowMs,
    options,
    conn: caller.conn,
  });
  if (event === undefined) return { reply: notice };
  // A recalled reply leaves its thread: the event names the root whose index row it removes.
  if (event.t === 'recall' && event.msg.threadMessageInfo !== undefined) event.root = groupRootOf(state, lmdbView(ctx), event.msg).seq;
  return { reply: notice, events: [event] };
}

function hide(state: TeamState, refs: readonly MsgRef[], custom: string | undefined, c: Caller | undefined, ctx: ActorContext, m: string): Outcome<TeamEvent, DeletedMsgSelf[]> {
  const caller = callerOf(c, m);
  const { deleted, event } = decideTeamHide(state, lmdbView(ctx), { viewer: caller.account, refs, now: ctx.now(), custom, conn: caller.conn });
  return event === undefined ? { reply: deleted } : { reply: deleted, events: [event] };
}

function deliver(account: string, f: Uint8Array, conn?: string): Effect {
  return conn === undefined ? { kind: 'deliver', account, frame: f } : { kind: 'deliver', account, frame: f, exclude: conn };
}

/** The session update of `row`'s member carrying `last`. */
function touchOf(state: TeamState, row: MemberRow, last: StoredMessage, ctx: ActorContext, corrected: boolean): TouchArgs {
  const touch: TouchArgs = {
    sessionId: sessionIdOf(state.kind, state.id),
    scene: state.kind,
    to: state.id,
    address: ctx.address,
    seq: state.conv.lastSeq,
    own: state.conv.sent.get(row.account) ?? 0,
    msg: teamViewOf(last, row.account),
    quiet: quietFor(state, row),
  };
  if (corrected) touch.corrected = true;
  return touch;
}

/** Every member's session update carrying `last` (advanced groups; supergroup sessions are read from `sessionOf`). */
function touches(state: TeamState, last: StoredMessage, ctx: ActorContext, corrected = false): Effect[] {
  const out: Effect[] = [];
  for (const row of state.members.values()) {
    if (!visibleTo(last, row.account)) continue;
    out.push(callEffect(userCalls, 'touch', userAddress(row.account), touchOf(state, row, last, ctx, corrected)));
  }
  return out;
}

/** The tables of a group kind. */
function groupActor<K extends TeamKind>(kind: K) {
  return {
    kind,
    calls: teamCalls,

    load(ctx: ActorContext) {
      const state = initialState(kind, ctx.id);
      for (const { key, value } of ctx.store.db('team-members').getRange(rangeOf('teamMember', ctx.address))) {
        const [, account] = decodeKey('teamMember', key);
        const row = value as MemberRow;
        (row.valid ? state.members : state.former).set(account, row);
        if (row.valid) keepAlert(state, row);
      }
      // Clear marks are rows of their own; a replay from an older position moves none of them back.
      for (const { key, value } of ctx.store.db('conv-cleared').getRange(rangeUnder('convCleared', ctx.address))) state.conv.cleared.set(decodeKey('convCleared', key)[1], value as ClearMark);
      for (const { value } of ctx.store.db('team-pending').getRange(rangeOf('teamPending', ctx.address))) {
        const row = value as PendingRow;
        state.pending.set(`${row.what}:${row.account}`, row);
      }
      const snap = ctx.store.snapshot<Snapshot>(ctx.address);
      if (snap === undefined) return { state, logSeq: 0 };
      state.conv.lastSeq = snap.lastSeq;
      state.conv.lastTime = snap.lastTime;
      state.conv.sent = new Map(snap.sent);
      state.quietTotal = snap.quietTotal;
      state.quietBy = new Map(snap.quietBy);
      state.recalls = snap.recalls ?? [];
      state.team = snap.team;
      state.version = snap.version;
      return { state, logSeq: snap.logSeq };
    },

    callHandlers: {
      sendText: (state: TeamState, a, c, ctx) => send(state, a, c, ctx, 'sendText', 'text', { text: a.text }),
      sendGeo: (state, a, c, ctx) => send(state, a, c, ctx, 'sendGeo', 'geo', { geo: a.geo }),
      sendTipMsg: (state, a, c, ctx) => send(state, a, c, ctx, 'sendTipMsg', 'tip', { tip: a.tip }),
      sendCustomMsg: (state, a, c, ctx) => send(state, a, c, ctx, 'sendCustomMsg', 'custom', { content: a.content }),
      sendFile: (state, a, c, ctx) => send(state, a, c, ctx, 'sendFile', a.type, fileBody(a.type, a.file)),
      forwardMsg: (state, a, c, ctx) => send(state, a, c, ctx, 'forwardMsg', a.msg.type, forwardedBody(a.msg)),
      recallMsg: (state, a, c, ctx) => recall(state, a, c, ctx, 'recallMsg'),
      deleteMsg: (state, a, c, ctx) => recall(state, a, c, ctx, 'deleteMsg'),
      deleteMsgSelf: (state, a, c, ctx) => hide(state, [a.msg], a.custom, c, ctx, 'deleteMsgSelf'),
      deleteMsgSelfBatch: (state, a, c, ctx) => hide(state, a.msgs, a.custom, c, ctx, 'deleteMsgSelfBatch'),
      getHistoryMsgs(state, a, c, ctx) {
        const caller = callerOf(c, 'getHistoryMsgs');
        memberOf(state, caller.account);
        const page = historyPage(state.conv, lmdbView(ctx), a, caller.account);
        return { reply: { msgs: page.map((m) => teamViewOf(m, caller.account)) } };
      },
      getMsgsByIdServer(state, a, c, ctx) {
        const caller = callerOf(c, 'getMsgsByIdServer');
        memberOf(state, caller.account);
        const found = teamMessagesByRef(state, lmdbView(ctx), a.reqMsgs, caller.account);
        return { reply: { msgs: found.map((m) => teamViewOf(m, caller.account)) } };
      },
      addMsgPin(state, a, c, ctx) {
        const input = pinInput(a, c, ctx, 'addMsgPin');
        const { pin, msg, event } = addPinOn(groupTarget(state, lmdbView(ctx), input.by, input.ref), pinRows(ctx), input);
        return { reply: { pin: groupPinView(pin, msg, input.by) }, ...(event === undefined ? {} : { events: [event] }) };
      },
      updateMsgPin(state, a, c, ctx) {
        const input = pinInput(a, c, ctx, 'updateMsgPin');
        const { pin, msg, event } = updatePinOn(groupTarget(state, lmdbView(ctx), input.by, input.ref), pinRows(ctx), input);
        return { reply: { pin: groupPinView(pin, msg, input.by) }, ...(event === undefined ? {} : { events: [event] }) };
      },
      deleteMsgPin(state, a, c, ctx) {
        const input = pinInput(a, c, ctx, 'deleteMsgPin');
        const { pin, msg, event } = deletePinOn(groupTarget(state, lmdbView(ctx), input.by, input.ref), pinRows(ctx), input);
        return { reply: pin === undefined ? {} : { pin: groupPinView(pin, msg, input.by) }, ...(event === undefined ? {} : { events: [event] }) };
      },
      getMsgPins(state, _a, c, ctx) {
        const caller = callerOf(c, 'getMsgPins');
        const view = lmdbView(ctx);
        return { reply: { pins: groupPins(state, pinRows(ctx).all(), (seq) => rowAt(state.conv, view, seq), caller.account) } };
      },
      addQuickComment(state, a, c, ctx) {
        const input = commentInput(a, c, ctx, 'addQuickComment');
        const m = groupTarget(state, lmdbView(ctx), input.by, input.ref);
        const { change, event } = addCommentOn(m.seq, groupCommentedMsg(state, m), commentRows(ctx)(m.seq), input);
        return { reply: change, ...(event === undefined ? {} : { events: [event] }) };
      },
      deleteQuickComment(state, a, c, ctx) {
        const input = commentInput(a, c, ctx, 'deleteQuickComment');
        const m = groupTarget(state, lmdbView(ctx), input.by, input.ref);
        const { event, ...reply } = deleteCommentOn(m.seq, groupCommentedMsg(state, m), commentRows(ctx)(m.seq), input);
        return { reply, ...(event === undefined ? {} : { events: [event] }) };
      },
      getQuickComments(state, a, c, ctx) {
        const caller = callerOf(c, 'getQuickComments');
        return { reply: groupComments(state, lmdbView(ctx), commentRows(ctx), a.msgs, caller.account) };
      },
      getThreadMsgs(state, a, c, ctx) {
        const caller = callerOf(c, 'getThreadMsgs');
        const ref: MsgRef = { scene: a.scene, from: a.threadMsgFromAccount, to: a.threadMsgToAccount, time: a.threadMsgTime, idServer: a.threadMsgIdServer };
        const root = groupTarget(state, lmdbView(ctx), caller.account, ref);
        const msgs = threadPage(state.conv, threadReplies(state.conv, ctx, root.seq, a.reverse), a, caller.account);
        const total = ctx.store.db('conv-threads').getKeysCount(rangeUnder('convThread', ctx.address, root.seq));
        return { reply: { threadMsg: teamViewOf(root, caller.account), msgs: msgs.map((m) => teamViewOf(m, caller.account)), total, timetag: ctx.now() } };
      },
      clearServerHistoryMsgs: (state, a, c, ctx) => clear(state, a, c, ctx, 'clearServerHistoryMsgs'),
      clearServerHistoryMsgsWithSync: (state, a, c, ctx) => clear(state, a, c, ctx, 'clearServerHistoryMsgsWithSync'),
      invitors(state, a, c) {
        memberOf(state, callerOf(c, 'getTeamMemberInvitorAccid').account);
        // Built from pairs: an account named like an Object.prototype member stays a key of its own.
        const pairs: [string, string][] = [];
        for (const account of a.accounts) {
          const row = state.members.get(account);
          if (row !== undefined) pairs.push([account, row.invitorAccid]);
        }
        return { reply: Object.fromEntries(pairs) };
      },
      syncMembers(state, a, c, ctx) {
        const page: { members: TeamMember[]; next?: number } = { members: [] };
        if (state.team?.valid !== true || c === undefined || !state.members.has(c.account)) return { reply: page };
        const rows = [...state.members.values()].sort((x, y) => x.joinTime - y.joinTime || (x.account < y.account ? -1 : x.account > y.account ? 1 : 0));
        const budget = pageBudget(ctx, a.maxBytes);
        let bytes = 0;
        let i = Math.max(0, a.from);
        for (; i < rows.length; i++) {
          const member = memberView(rows[i]!);
          const size = encode(member).byteLength;
          if (page.members.length > 0 && bytes + size > budget) break;
          page.members.push(member);
          bytes += size;
        }
        if (i < rows.length) page.next = i;
        return { reply: page };
      },
      alertSetting(state, _a, c) {
        const row = state.team?.valid === true && c !== undefined ? state.members.get(c.account) : undefined;
        return { reply: row === undefined ? {} : { muteNotiType: row.muteNotiType } };
      },
      customSysMsg(state, a, c) {
        // Never history, sessions or unread: a notice event, told to the other members once it is durable.
        memberOf(state, callerOf(c, 'sendCustomSysMsg').account);
        const others = [...state.members.keys()].filter((account) => account !== a.msg.from);
        const notice: TeamEvent = a.msg.sendToOnlineUsersOnly
          ? { t: 'notice', frames: [{ ev: 'customsysmsg', d: a.msg, accounts: others }], sysmsgs: [], index: [], version: state.version }
          : { t: 'notice', frames: [], sysmsgs: others.map((to) => ({ to, msg: a.msg })), index: [], version: state.version };
        return { reply: a.msg, events: others.length === 0 ? [] : [notice] };
      },
      pushTargets: (state, a) => ({ reply: groupPushTargets(state, a) }),
      sessionOf(state, a, _caller, ctx) {
        const row = state.members.get(a.viewer);
        if (state.team === undefined || row === undefined || state.conv.lastSeq === 0) return { reply: null };
        const last = lastVisible(state.conv, lmdbView(ctx));
        if (last === undefined || !visibleTo(last, a.viewer)) return { reply: null };
        const touch = touchOf(state, row, last, ctx, last.seq !== state.conv.lastSeq);
        // Recalled messages that counted for the member leave its count past its read pointer (the user actor checks the pointer).
        const recalled = state.recalls.filter(([, from, time, , quiet]) => quiet !== true && recallCountedFor(row, from, time)).map(([seq]) => seq);
        if (recalled.length > 0) touch.recalled = recalled;
        return { reply: touch };
      },
      syncRecalls(state, a, _caller, ctx) {
        const view = lmdbView(ctx);
        return { reply: recallNoticePage(state, a, pageBudget(ctx, a.maxBytes), (seq) => rowAt(state.conv, view, seq)?.recalled) };
      },
      range(state, a, _caller, ctx) {
        const page: RangeReply = { msgs: [] };
        // A removed member gets nothing more, whatever its session row still points at.
        if (state.team === undefined || !state.members.has(a.viewer)) return { reply: page };
        const view = lmdbView(ctx);
        const budget = pageBudget(ctx, a.maxBytes);
        let bytes = 0;
        const encoded: Uint8Array[] = [];
        // Messages the viewer cleared together with their login sync copies are not sent again.
        let seq = Math.max(1, a.fromSeq, clearedSeq(state.conv, a.viewer, true) + 1);
        for (; seq <= state.conv.lastSeq && page.msgs.length < a.limit; seq++) {
          const m = view.bySeq(seq);
          if (m === undefined || !m.isOfflinable || !visibleTo(m, a.viewer)) continue;
          const v = teamViewOf(m, a.viewer);
          if (m.from !== a.viewer && alertMuted(state, a.viewer, m.from)) v.isMuted = true;
          const e = encode(v);
          if (page.msgs.length > 0 && bytes + e.byteLength > budget) break;
          page.msgs.push(v);
          encoded.push(e);
          bytes += e.byteLength;
        }
        if (seq <= state.conv.lastSeq) page.next = seq;
        // The page's bytes from the messages' own, encoded once for its budget: the reply is not encoded again.
        const members: Array<[string, Uint8Array]> = [['msgs', encodeArrayOfRaw(encoded)]];
        if (page.next !== undefined) members.push(['next', encode(page.next)]);
        return { reply: rememberEncoding(page, encodeMapOfRaw(members)) };
      },
    } satisfies import('../../engine/actor/define.ts').CallHandlers<typeof teamCalls, TeamState, TeamEvent>,

    events: {
      msg: {
        apply(state: TeamState, event: Extract<TeamEvent, { t: 'msg' }>) {
          if (event.msg.seq <= state.conv.lastSeq) return;
          applyEvent(state.conv, event);
          if (event.msg.isUnreadable === false) {
            state.quietTotal++;
            state.quietBy.set(event.msg.from, (state.quietBy.get(event.msg.from) ?? 0) + 1);
          }
        },
        persist(state: TeamState, event: Extract<TeamEvent, { t: 'msg' }>, ctx: ActorContext) {
          const { msg } = event;
          void ctx.store.db('conv-msgs').put(keyOf('convMsg', ctx.address, msg.seq), msg);
          void ctx.store.db('conv-idc').put(keyOf('convIdClient', ctx.address, msg.from, msg.idClient), msg.seq);
          if (event.root !== undefined) void ctx.store.db('conv-threads').put(keyOf('convThread', ctx.address, event.root, msg.seq), 1);
          persistReceiptRow(state, event, ctx);
        },
      },
      recall: {
        apply(state: TeamState, event: Extract<TeamEvent, { t: 'recall' }>) {
          applyRowChange(state.conv, event);
          if (state.kind === 'superTeam') keepRecall(state, event.msg.seq, event.msg.from, event.msg.time, event.msg.recalled?.time, event.msg.isUnreadable === false);
        },
        persist(_state: TeamState, { msg, root }: Extract<TeamEvent, { t: 'recall' }>, ctx: ActorContext) {
          void ctx.store.db('conv-msgs').put(keyOf('convMsg', ctx.address, msg.seq), msg);
          // A recalled message leaves its thread's replies and loses its pin and reactions.
          if (root !== undefined) void ctx.store.db('conv-threads').remove(keyOf('convThread', ctx.address, root, msg.seq));
          void ctx.store.db('conv-pins').remove(keyOf('convPin', ctx.address, msg.seq));
          void ctx.store.db('conv-comments').remove(keyOf('convComments', ctx.address, msg.seq));
        },
      },
      pin: {
        apply: (state: TeamState) => state,
        persist(_state: TeamState, event: Extract<TeamEvent, { t: 'pin' }>, ctx: ActorContext) {
          const key = keyOf('convPin', ctx.address, event.seq);
          if (event.row === undefined) void ctx.store.db('conv-pins').remove(key);
          else void ctx.store.db('conv-pins').put(key, event.row);
        },
      },
      comments: {
        apply: (state: TeamState) => state,
        persist(_state: TeamState, event: Extract<TeamEvent, { t: 'comments' }>, ctx: ActorContext) {
          const key = keyOf('convComments', ctx.address, event.seq);
          if (event.row.comments.length === 0) void ctx.store.db('conv-comments').remove(key);
          else void ctx.store.db('conv-comments').put(key, event.row);
        },
      },
      clear: {
        apply: (state: TeamState, event: Extract<TeamEvent, { t: 'clear' }>) => void applyClear(state.conv, event),
        persist(state: TeamState, { viewer }: Extract<TeamEvent, { t: 'clear' }>, ctx: ActorContext) {
          void ctx.store.db('conv-cleared').put(keyOf('convCleared', ctx.address, viewer), state.conv.cleared.get(viewer));
        },
      },
      hide: {
        apply: (state: TeamState, event: Extract<TeamEvent, { t: 'hide' }>) => void applyRowChange(state.conv, event),
        persist(_state: TeamState, { msgs }: Extract<TeamEvent, { t: 'hide' }>, ctx: ActorContext) {
          const db = ctx.store.db('conv-msgs');
          for (const msg of msgs) void db.put(keyOf('convMsg', ctx.address, msg.seq), msg);
        },
      },
      team: { apply: (state: TeamState, event: Extract<TeamEvent, { t: 'team' }>) => applyChange(state, event) },
      members: {
        apply: (state: TeamState, event: Extract<TeamEvent, { t: 'members' }>) => applyChange(state, event),
        persist(state: TeamState, event: Extract<TeamEvent, { t: 'members' }>, ctx: ActorContext) {
          const db = ctx.store.db('team-members');
          for (const row of event.put) void db.put(keyOf('teamMember', ctx.address, row.account), row);
          // A member who left keeps a row marked invalid (supergroup member pages list them).
          for (const account of event.removed) {
            const row = state.former.get(account);
            if (row !== undefined) void db.put(keyOf('teamMember', ctx.address, account), row);
          }
        },
      },
      pending: {
        apply: (state: TeamState, event: Extract<TeamEvent, { t: 'pending' }>) => applyChange(state, event),
        persist(_state: TeamState, event: Extract<TeamEvent, { t: 'pending' }>, ctx: ActorContext) {
          const db = ctx.store.db('team-pending');
          for (const row of event.rows) void db.put(keyOf('teamPending', ctx.address, row.what, row.account), row);
        },
      },
      notice: { apply: (state: TeamState, event: Extract<TeamEvent, { t: 'notice' }>) => applyChange(state, event) },
      // The read sets are rows only: nothing in memory changes.
      reads: { apply: (state: TeamState) => state, persist: (_state: TeamState, event: Extract<TeamEvent, { t: 'reads' }>, ctx: ActorContext) => persistReads(event, ctx) },
    },

    persistBatch(state: TeamState, events: readonly TeamEvent[], logSeq: number, ctx: ActorContext) {
      markSaved(state.conv, events.filter((e): e is Extract<TeamEvent, { t: 'msg' | 'recall' | 'hide' }> => e.t === 'msg' || e.t === 'recall' || e.t === 'hide'));
      const snap: Snapshot = {
        logSeq,
        lastSeq: state.conv.lastSeq,
        lastTime: state.conv.lastTime,
        sent: [...state.conv.sent],
        quietTotal: state.quietTotal,
        quietBy: [...state.quietBy],
        version: state.version,
      };
      if (state.recalls.length > 0) snap.recalls = state.recalls;
      if (state.team !== undefined) snap.team = state.team;
      ctx.store.putSnapshot(ctx.address, snap);
    },

    effects(state: TeamState, events: readonly TeamEvent[], ctx: ActorContext): Effect[] {
      const out: Effect[] = [];
      let last: StoredMessage | undefined;
      let recalled = false;
      // Team receipts: the counts of each changed message once per batch, to its sender.
      const receipts = new Map<string, Extract<TeamEvent, { t: 'reads' }>['changed'][number]>();
      // Supergroups: each message once on the group's subject, membership changes as subscription controls.
      const onGroupSubject = state.kind === 'superTeam';
      if (onGroupSubject) out.push(...superTeamEffects(state, events, deliver));
      for (const event of events) {
        if (event.t === 'msg') {
          const { msg, conn } = event;
          last = msg;
          if (onGroupSubject) continue;
          const inbound = frame('msg', teamViewOf(msg, ''));
          const outbound = frame('msg', teamViewOf(msg, msg.from));
          let silenced: Uint8Array | undefined;
          const quietly = () => (silenced ??= frame('msg', { ...teamViewOf(msg, ''), isMuted: true }));
          const to = new Set(state.members.keys());
          for (const a of event.alsoTo ?? []) to.add(a);
          if (event.notTo === undefined) to.add(msg.from);
          for (const a of event.notTo ?? []) to.delete(a);
          for (const account of to) out.push(account === msg.from ? deliver(account, outbound, conn) : deliver(account, alertMuted(state, account, msg.from) ? quietly() : inbound));
        } else if (event.t === 'recall') {
          recalled = true;
          if (!onGroupSubject) {
            // As in p2p: through each member's notification store (delivered now, kept for its offline devices),
            // and the message leaves the unread count of each member it counted for.
            const notice = event.msg.recalled!;
            const { seq, from, time, isUnreadable } = event.msg;
            for (const row of state.members.values()) {
              out.push(postSysMsg(row.account, notice, row.account === notice.from ? event.conn : undefined));
              if (recallCountedFor(row, from, time)) out.push(callEffect(userCalls, 'recalled', userAddress(row.account), { sessionId: sessionIdOf(state.kind, state.id), seq, from, counted: isUnreadable }));
            }
          }
          // A recall takes the message's pin with it (its row goes when the recall is written): the members are told.
          const pin = pinRows(ctx).pinAt(event.msg.seq);
          if (pin !== undefined) {
            const unpin: PinEvent = { t: 'pin', type: 'delete', seq: pin.seq, shown: pin, by: event.msg.recalled!.from };
            out.push(...toMembers(state, unpin.by, undefined, 'PinMsgChange', (viewer) => groupPinChange(state, unpin, event.msg, viewer)));
          }
        } else if (event.t === 'hide') {
          out.push(deliver(event.viewer, frame('DeleteMsgSelf', event.deleted), event.conn));
          // Journaled by the viewer's user actor for its devices' next login.
          out.push(callEffect(userCalls, 'selfDeleted', userAddress(event.viewer), { deleted: event.deleted }));
        } else if (event.t === 'pin') {
          const msg = rowAt(state.conv, lmdbView(ctx), event.seq);
          if (msg !== undefined) out.push(...toMembers(state, event.by, event.conn, 'PinMsgChange', (viewer) => groupPinChange(state, event, msg, viewer)));
        } else if (event.t === 'comments') {
          const msg = rowAt(state.conv, lmdbView(ctx), event.seq);
          const ev = event.type === 'add' ? 'QuickComment' : 'DeleteQuickComment';
          if (msg !== undefined) out.push(...toMembers(state, event.comment.from, event.conn, ev, () => ({ msg: groupCommentedMsg(state, msg), comment: event.comment })));
        } else if (event.t === 'clear') {
          if (event.sync) out.push(deliver(event.viewer, frame('ClearServerHistoryMsgs', [event.cleared]), event.conn));
        } else if (event.t === 'reads') {
          for (const c of event.changed) receipts.set(c.idServer, c);
          // The reader's other devices learn what it read, with the counts it led to.
          const reader = event.marks[0]?.account;
          if (reader !== undefined) for (const { from: _from, ...counts } of event.changed) out.push(deliver(reader, frame('TeamMsgReceipt', counts), event.conn));
        } else if (event.t === 'notice') {
          for (const f of event.frames) out.push(...noticeFrameEffects(state, events, f, deliver));
          for (const s of event.sysmsgs) out.push(postSysMsg(s.to, s.msg));
          for (const u of event.index) {
            const a = u.team === undefined ? { kind: state.kind, teamId: state.id, version: event.version, left: u.time ?? ctx.now() } : { kind: state.kind, teamId: state.id, version: event.version, team: u.team };
            out.push(callEffect(userTeamsCalls, 'setTeam', userTeamsAddress(u.account), a));
          }
        }
      }
      for (const { from, ...counts } of receipts.values()) out.push(deliver(from, frame('TeamMsgReceipt', counts)));
      const newest = recalled ? lastVisible(state.conv, lmdbView(ctx)) : last;
      // A supergroup's sessions are never written per message: they are brought up to date from `sessionOf` when read.
      if (newest !== undefined && !onGroupSubject) out.push(...touches(state, newest, ctx, recalled));
      return out;
    },
  };
}

/** The handlers both kinds share, under neutral names; each kind's table takes them under its method names. */
function groupHandlers(kind: TeamKind) {
  const dc = (state: TeamState, c: Caller | undefined, ctx: ActorContext, m: string) => decideContext(state, c, ctx, m);
  const members = (state: TeamState, c: Caller | undefined, m: string) => memberOf(state, callerOf(c, m).account);
  /** Supergroups are created and dismissed by the host's backend (the admin API) unless configured otherwise. */
  const gate = (m: string, c: Caller | undefined) => {
    if (kind === 'superTeam' && !teamSettings.superTeamClientCreate && c?.conn !== ADMIN_CONN) throw new ParleyError('FORBIDDEN', `\`${m}\` is for the host's backend (set PARLEY_SUPERTEAM_CLIENT_CREATE to allow clients)`);
  };
  return {
    create: (state: TeamState, a: Args<'createTeam'>, c: Caller | undefined, ctx: ActorContext, m: string) => {
      gate(m, c);
      return rules.decideCreate(dc(state, c, ctx, m), a);
    },
    dismiss: (state: TeamState, c: Caller | undefined, ctx: ActorContext, m: string) => {
      gate(m, c);
      return rules.decideDismiss(dc(state, c, ctx, m));
    },
    dc,
    get: (state: TeamState) => ({ reply: liveTeam(state) }),
    members(state: TeamState, c: Caller | undefined, m: string) {
      members(state, c, m);
      return { reply: { teamId: state.id, members: [...state.members.values()].map(memberView).sort((x, y) => x.joinTime - y.joinTime) } };
    },
    muted(state: TeamState, c: Caller | undefined, m: string) {
      members(state, c, m);
      return { reply: { teamId: state.id, members: [...state.members.values()].filter((r) => r.mute).map(memberView) } };
    },
    page(state: TeamState, a: Args<'getSuperTeamMembersByJoinTime'>, c: Caller | undefined, m: string, pick: (row: MemberRow) => boolean) {
      members(state, c, m);
      return { reply: rules.membersByJoinTime(state, a, pick) };
    },
  };
}

const teamHandlers = groupHandlers('team');

export const teamBehavior = defineActor({
  ...groupActor('team'),
  methods: {
    createTeam: (state, a, c, ctx) => teamHandlers.create(state, a, c, ctx, 'createTeam'),
    updateTeam: (state, a, c, ctx) => rules.decideUpdate(teamHandlers.dc(state, c, ctx, 'updateTeam'), a),
    addTeamMembers: (state, a, c, ctx) => rules.decideAdd(teamHandlers.dc(state, c, ctx, 'addTeamMembers'), a),
    acceptTeamInvite: (state, a, c, ctx) => rules.decideAcceptInvite(teamHandlers.dc(state, c, ctx, 'acceptTeamInvite'), a),
    rejectTeamInvite: (state, a, c, ctx) => rules.decideRejectInvite(teamHandlers.dc(state, c, ctx, 'rejectTeamInvite'), a),
    applyTeam: (state, a, c, ctx) => rules.decideApply(teamHandlers.dc(state, c, ctx, 'applyTeam'), a),
    passTeamApply: (state, a, c, ctx) => rules.decidePassApply(teamHandlers.dc(state, c, ctx, 'passTeamApply'), a),
    rejectTeamApply: (state, a, c, ctx) => rules.decideRejectApply(teamHandlers.dc(state, c, ctx, 'rejectTeamApply'), a),
    removeTeamMembers: (state, a, c, ctx) => rules.decideRemove(teamHandlers.dc(state, c, ctx, 'removeTeamMembers'), a),
    addTeamManagers: (state, a, c, ctx) => rules.decideManagers(teamHandlers.dc(state, c, ctx, 'addTeamManagers'), a, true),
    removeTeamManagers: (state, a, c, ctx) => rules.decideManagers(teamHandlers.dc(state, c, ctx, 'removeTeamManagers'), a, false),
    transferTeam: (state, a, c, ctx) => rules.decideTransfer(teamHandlers.dc(state, c, ctx, 'transferTeam'), a),
    leaveTeam: (state, _a, c, ctx) => rules.decideLeave(teamHandlers.dc(state, c, ctx, 'leaveTeam')),
    dismissTeam: (state, _a, c, ctx) => teamHandlers.dismiss(state, c, ctx, 'dismissTeam'),
    getTeam: (state) => teamHandlers.get(state),
    getTeamMembers: (state, _a, c) => teamHandlers.members(state, c, 'getTeamMembers'),
    muteTeamAll: (state, a, c, ctx) => rules.decideMuteAll(teamHandlers.dc(state, c, ctx, 'muteTeamAll'), a.mute),
    updateMuteStateInTeam(state, a, c, ctx) {
      const { events } = rules.decideMemberMute(teamHandlers.dc(state, c, ctx, 'updateMuteStateInTeam'), [a.account], a.mute);
      return { reply: { teamId: state.id, account: a.account, mute: a.mute }, events };
    },
    getMutedTeamMembers: (state, _a, c) => teamHandlers.muted(state, c, 'getMutedTeamMembers'),
    updateInfoInTeam: (state, a, c, ctx) => rules.decideUpdateInfo(teamHandlers.dc(state, c, ctx, 'updateInfoInTeam'), a),
    updateNickInTeam: (state, a, c, ctx) => rules.decideUpdateNick(teamHandlers.dc(state, c, ctx, 'updateNickInTeam'), a),
    getTeamMemberByTeamIdAndAccount(state, a, c) {
      memberOf(state, callerOf(c, 'getTeamMemberByTeamIdAndAccount').account);
      const row = state.members.get(a.account);
      return { reply: row === undefined ? {} : { [a.account]: memberView(row) } };
    },
    sendTeamMsgReceipt(state, a, c, ctx) {
      const caller = callerOf(c, 'sendTeamMsgReceipt');
      const { event } = decideReceipts(state, ctx, caller.account, a.teamMsgReceipts, caller.conn);
      const reply = { teamMsgReceipts: a.teamMsgReceipts };
      return event === undefined ? { reply } : { reply, events: [event] };
    },
    getTeamMsgReads: (state, a, c, ctx) => ({ reply: { teamMsgReceipts: readCounts(state, ctx, callerOf(c, 'getTeamMsgReads').account, a.teamMsgReceipts) } }),
    getTeamMsgReadAccounts: (state, a, c, ctx) => ({ reply: readAccounts(state, ctx, callerOf(c, 'getTeamMsgReadAccounts').account, a.teamMsgReceipt) }),
  },
});

const superHandlers = groupHandlers('superTeam');

/** Supergroups: their own actors, id space and history, with the advanced group's rules under the `SuperTeam` names. */
export const superTeamBehavior = defineActor({
  ...groupActor('superTeam'),
  methods: {
    createSuperTeam: (state, a, c, ctx) => superHandlers.create(state, a, c, ctx, 'createSuperTeam'),
    updateSuperTeam: (state, a, c, ctx) => rules.decideUpdate(superHandlers.dc(state, c, ctx, 'updateSuperTeam'), a),
    addSuperTeamMembers: (state, a, c, ctx) => rules.decideAdd(superHandlers.dc(state, c, ctx, 'addSuperTeamMembers'), a),
    acceptSuperTeamInvite: (state, a, c, ctx) => rules.decideAcceptInvite(superHandlers.dc(state, c, ctx, 'acceptSuperTeamInvite'), a),
    rejectSuperTeamInvite: (state, a, c, ctx) => rules.decideRejectInvite(superHandlers.dc(state, c, ctx, 'rejectSuperTeamInvite'), a),
    applySuperTeam: (state, a, c, ctx) => rules.decideApply(superHandlers.dc(state, c, ctx, 'applySuperTeam'), a),
    passSuperTeamApply: (state, a, c, ctx) => rules.decidePassApply(superHandlers.dc(state, c, ctx, 'passSuperTeamApply'), a),
    rejectSuperTeamApply: (state, a, c, ctx) => rules.decideRejectApply(superHandlers.dc(state, c, ctx, 'rejectSuperTeamApply'), a),
    removeSuperTeamMembers: (state, a, c, ctx) => rules.decideRemove(superHandlers.dc(state, c, ctx, 'removeSuperTeamMembers'), a),
    addSuperTeamManagers: (state, a, c, ctx) => rules.decideManagers(superHandlers.dc(state, c, ctx, 'addSuperTeamManagers'), a, true),
    removeSuperTeamManagers: (state, a, c, ctx) => rules.decideManagers(superHandlers.dc(state, c, ctx, 'removeSuperTeamManagers'), a, false),
    transferSuperTeam: (state, a, c, ctx) => rules.decideTransfer(superHandlers.dc(state, c, ctx, 'transferSuperTeam'), a),
    leaveSuperTeam: (state, _a, c, ctx) => rules.decideLeave(superHandlers.dc(state, c, ctx, 'leaveSuperTeam')),
    dismissSuperTeam: (state, _a, c, ctx) => superHandlers.dismiss(state, c, ctx, 'dismissSuperTeam'),
    getSuperTeam: (state) => superHandlers.get(state),
    updateSuperTeamMute: (state, a, c, ctx) => rules.decideMuteAll(superHandlers.dc(state, c, ctx, 'updateSuperTeamMute'), a.mute),
    updateSuperTeamMembersMute: (state, a, c, ctx) => rules.decideMemberMute(superHandlers.dc(state, c, ctx, 'updateSuperTeamMembersMute'), a.accounts, a.mute),
    updateInfoInSuperTeam: (state, a, c, ctx) => rules.decideUpdateInfo(superHandlers.dc(state, c, ctx, 'updateInfoInSuperTeam'), a),
    updateNickInSuperTeam: (state, a, c, ctx) => rules.decideUpdateNick(superHandlers.dc(state, c, ctx, 'updateNickInSuperTeam'), a),
    getSuperTeamMembersByJoinTime: (state, a, c) => superHandlers.page(state, a, c, 'getSuperTeamMembersByJoinTime', () => true),
    // Muted members who left come back in `invalid`, muted as they were when they left.
    getMutedSuperTeamMembers: (state, a, c) => superHandlers.page(state, a, c, 'getMutedSuperTeamMembers', (r) => r.mute),
    getAllSuperTeamMembers(state, a, c) {
      memberOf(state, callerOf(c, 'getAllSuperTeamMembers').account);
      return { reply: rules.membersChunk(state, a.next, teamSettings.membersChunk) };
    },
    getSuperTeamMembersByAccounts(state, a, c) {
      memberOf(state, callerOf(c, 'getSuperTeamMembersByAccounts').account);
      const members: TeamMember[] = [];
      const invalid: TeamMember[] = [];
      for (const account of new Set(a.accounts)) {
        const row = state.members.get(account) ?? state.former.get(account);
        if (row !== undefined) (row.valid ? members : invalid).push(memberView(row));
      }
      return { reply: { members, invalid } };
    },
  },
});
