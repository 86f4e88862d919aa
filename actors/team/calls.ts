/**
 * What a group actor receives besides the group methods it owns: the
 * conversation methods of the `team` and `superTeam` scenes (sends, recall,
 * delete-for-self, history, pins, quick comments, threads, clearing), which
 * route to it by scene and arrive with the arguments their wire declaration
 * validated, and the login sync's `range`.
 * Declared here with the wire methods' own argument and result types.
 */
import type { Args, CustomSysMsg, Results } from '../../engine/protocol/methods.ts';
import type { TeamMember } from '../../engine/protocol/methods/teams.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import type { RangeArgs, RangeReply } from '../conversation/calls.ts';
import { groupPushCalls } from './push-targets.ts';
import type { TouchArgs } from '../user/calls.ts';
import type { RecallSyncArgs, RecallSyncPage } from './recall-notices.ts';

function send<M extends 'sendText' | 'sendGeo' | 'sendTipMsg' | 'sendCustomMsg' | 'sendFile' | 'forwardMsg'>(doc: string) {
  return internal({ doc, args: takes<Args<M>>(), result: returns<Results[M]>(), retry: 'idClient' });
}

type ReadMethod = 'addMsgPin' | 'updateMsgPin' | 'deleteMsgPin' | 'getMsgPins' | 'addQuickComment' | 'deleteQuickComment' | 'getQuickComments' | 'getThreadMsgs' | 'clearServerHistoryMsgs' | 'clearServerHistoryMsgsWithSync';

/** A conversation method that reads the group's rows (so what is pending is written first); repeats change nothing. */
function read<M extends ReadMethod>(doc: string) {
  return internal({ doc, args: takes<Args<M>>(), result: returns<Results[M]>(), retry: 'idempotent', reads: true });
}

/** Arguments of `syncMembers`: the page from position `from` of the members by join time. */
export interface MembersSyncArgs {
  from: number;
  maxBytes?: number;
}

/** A page of `syncMembers`: `next` is the position to resume from, set when more follow. */
export interface MembersSyncPage {
  members: TeamMember[];
  next?: number;
}

export const teamCalls = {
  ...groupPushCalls,
  sendText: send<'sendText'>('`sendText` to the group.'),
  sendGeo: send<'sendGeo'>('`sendGeo` to the group.'),
  sendTipMsg: send<'sendTipMsg'>('`sendTipMsg` to the group.'),
  sendCustomMsg: send<'sendCustomMsg'>('`sendCustomMsg` to the group.'),
  sendFile: send<'sendFile'>('`sendFile` to the group.'),
  forwardMsg: send<'forwardMsg'>('`forwardMsg` to the group.'),
  recallMsg: internal({ doc: 'Recalls a group message.', args: takes<Args<'recallMsg'>>(), result: returns<Results['recallMsg']>(), retry: 'idempotent', reads: true }),
  deleteMsg: internal({ doc: 'The older name of `recallMsg`.', args: takes<Args<'deleteMsg'>>(), result: returns<Results['deleteMsg']>(), retry: 'idempotent', reads: true }),
  deleteMsgSelf: internal({ doc: 'Hides a group message from the caller.', args: takes<Args<'deleteMsgSelf'>>(), result: returns<Results['deleteMsgSelf']>(), retry: 'idempotent', reads: true }),
  deleteMsgSelfBatch: internal({ doc: 'Hides group messages from the caller.', args: takes<Args<'deleteMsgSelfBatch'>>(), result: returns<Results['deleteMsgSelfBatch']>(), retry: 'idempotent', reads: true }),
  getHistoryMsgs: internal({ doc: "A page of the group's history; members only.", args: takes<Args<'getHistoryMsgs'>>(), result: returns<Results['getHistoryMsgs']>(), retry: 'idempotent', reads: true }),
  getMsgsByIdServer: internal({ doc: 'Group messages by their locating fields; members only.', args: takes<Args<'getMsgsByIdServer'>>(), result: returns<Results['getMsgsByIdServer']>(), retry: 'idempotent', reads: true }),
  addMsgPin: read<'addMsgPin'>('Pins a group message; members only.'),
  updateMsgPin: read<'updateMsgPin'>("Changes a group pin's `pinCustom`; members only."),
  deleteMsgPin: read<'deleteMsgPin'>('Unpins a group message; members only.'),
  getMsgPins: read<'getMsgPins'>("The group's pins the caller sees; members only."),
  addQuickComment: read<'addQuickComment'>('Puts the caller\'s reaction on a group message; members only.'),
  deleteQuickComment: read<'deleteQuickComment'>("Removes the caller's reaction from a group message; members only."),
  getQuickComments: read<'getQuickComments'>('The reactions of group messages; members only.'),
  getThreadMsgs: read<'getThreadMsgs'>("A page of a group thread's replies; members only."),
  clearServerHistoryMsgs: read<'clearServerHistoryMsgs'>("Clears the group's history for the caller only; members only."),
  clearServerHistoryMsgsWithSync: read<'clearServerHistoryMsgsWithSync'>('The longer name of `clearServerHistoryMsgs`.'),
  invitors: internal({
    doc: 'Who invited each of one batch of `getTeamMemberInvitorAccid` accounts; members only.',
    args: takes<{ accounts: string[] }>(),
    result: returns<Record<string, string>>(),
    retry: 'idempotent',
  }),
  syncMembers: internal({
    doc: "The login sync's page of the group's members by join time from `from` (an index into that order), bounded by bytes; nothing for a viewer who is not a member.",
    args: takes<MembersSyncArgs>(),
    result: returns<MembersSyncPage>(),
    retry: 'idempotent',
  }),
  alertSetting: internal({
    doc: "The caller's `muteNotiType` in the group, absent when the caller is not a member or the group does not exist (never refused).",
    args: takes<Record<string, never>>(),
    result: returns<{ muteNotiType?: '0' | '1' | '2' }>(),
    retry: 'idempotent',
  }),
  customSysMsg: internal({
    doc: "A member's custom system notification to the group: to every other member's devices, and kept in their stores unless it is online only.",
    args: takes<{ msg: CustomSysMsg }>(),
    result: returns<CustomSysMsg>(),
    retry: 'idempotent',
  }),
  sessionOf: internal({
    doc: "The group's newest message and `viewer`'s counts up to it, as a session touch (null for a non-member or an empty group): a supergroup's sessions are brought up to date from it when read, never written per message.",
    args: takes<{ viewer: string }>(),
    result: returns<TouchArgs | null>(),
    retry: 'idempotent',
    reads: true,
  }),
  syncRecalls: internal({
    doc: "The login sync's page of a supergroup's recall notices (`deleteMsg`) for `viewer`'s device: the kept recalls made while it was a member and after the device's `since`, oldest first, bounded by bytes; nothing for a non-member.",
    args: takes<RecallSyncArgs>(),
    result: returns<RecallSyncPage>(),
    retry: 'idempotent',
    reads: true,
  }),
  range: internal({
    doc: 'Offline messages from `fromSeq` as `viewer` sees them, bounded by count and bytes; nothing for a viewer who is not a member.',
    args: takes<RangeArgs>(),
    result: returns<RangeReply>(),
    retry: 'idempotent',
    reads: true,
  }),
};
