/**
 * Team read receipts: members acknowledge advanced-group messages sent with
 * `needMsgReceipt: true`, the group's actor keeps who read each one, tells
 * the sender `TeamMsgReceipt {teamId, idServer, read, unread}`, and answers
 * the counts and the accounts. Browser-safe.
 *
 * Who counts: the members of the group when the message was sent who are
 * still members, the sender left out. `read` are those of them who sent a
 * receipt; `unread` are the others. A member who joined after the message
 * was sent, or the sender, may send a receipt for it; it changes nothing.
 */
import * as s from '../schema.ts';
import { actorMethod, returns } from '../registry.ts';
import { id, idClient } from './common.ts';

/** Most messages one `sendTeamMsgReceipt` or `getTeamMsgReads` names. */
export const MAX_TEAM_RECEIPTS_PER_CALL = 100;

/** A team message a receipt names. */
export interface TeamMsgReceiptRef {
  teamId: string;
  idServer: string;
  idClient?: string;
}

/** The read and unread counts of one team message. */
export interface TeamMsgReads {
  teamId: string;
  idServer: string;
  read: number;
  unread: number;
}

const idServer = () => s.string({ min: 1, max: 64 });
const ref = () => s.object({ teamId: id(), idServer: idServer(), idClient: s.optional(idClient()) });
const batch = () => s.array(ref(), { min: 1, max: MAX_TEAM_RECEIPTS_PER_CALL });
/** Every message of one call is in one group: its actor answers. */
const toTeam = (_account: string, a: { teamMsgReceipts: { teamId: string }[] }): string => `team:${a.teamMsgReceipts[0]!.teamId}`;

export const teamReceiptMethods = {
  sendTeamMsgReceipt: actorMethod({
    owner: 'team',
    address: toTeam,
    reads: true,
    doc:
      'Acknowledges group messages sent with `needMsgReceipt: true` as read (all of one group, at most 100); repeats change nothing. The sender of each message whose count changed gets one `TeamMsgReceipt` per call, and the caller\'s other devices one per message the receipt counted. Members only; a message without `needMsgReceipt` is BAD_REQUEST naming it.',
    args: s.object({ teamMsgReceipts: batch() }),
    result: returns<{ teamMsgReceipts: TeamMsgReceiptRef[] }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'BAD_REQUEST'],
  }),
  getTeamMsgReads: actorMethod({
    owner: 'team',
    address: toTeam,
    reads: true,
    doc: 'The read and unread counts of group messages sent with `needMsgReceipt: true` (all of one group, at most 100), in the order asked. Members only.',
    args: s.object({ teamMsgReceipts: batch() }),
    result: returns<{ teamMsgReceipts: TeamMsgReads[] }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'BAD_REQUEST'],
  }),
  getTeamMsgReadAccounts: actorMethod({
    owner: 'team',
    address: (_account, a) => `team:${a.teamMsgReceipt.teamId}`,
    reads: true,
    doc: 'The accounts that have read one group message sent with `needMsgReceipt: true` and those that have not (members at send time still members, the sender left out). Members only.',
    args: s.object({ teamMsgReceipt: ref() }),
    result: returns<{ teamId: string; idServer: string; readAccounts: string[]; unreadAccounts: string[] }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'BAD_REQUEST'],
  }),
};
