/**
 * Team read receipts (engine/protocol/methods/team-receipts.ts): who counts
 * for a message, who read it, and the counts. The read sets live in LMDB
 * rows of `team-receipts`, never in the snapshot:
 *
 * - `teamReceiptMsg(address, idServer) → ReceiptMsgRow`, written with every
 *   message of an advanced group: whether it asked for receipts and, if it
 *   did, the members who count for it (the members at send time, the
 *   sender left out);
 * - `teamMsgRead(address, idServer, reader) → time`, one per counted reader.
 *
 * The methods that read these rows are declared `reads`, so they see every
 * write before them. Counts are taken against the members now: one who left
 * counts neither as read nor as unread.
 */
import type { ActorContext } from '../../engine/actor/behavior.ts';
import { keyOf, decodeKey, rangeUnder } from '../../engine/keys.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { TeamMsgReceiptRef, TeamMsgReads } from '../../engine/protocol/methods/team-receipts.ts';
import type { StoredMessage } from '../conversation/logic.ts';
import { memberOf, type TeamMsgEvent, type TeamState } from './logic.ts';

export const RECEIPTS_DB = 'team-receipts';

/** What the idServer index says of one group message. */
export interface ReceiptMsgRow {
  seq: number;
  from: string;
  /** Absent: the message did not ask for receipts. */
  counted?: string[];
}

/** New readers of one call, and the counts they lead to for the senders. */
export interface TeamReadsEvent {
  t: 'reads';
  marks: { idServer: string; account: string }[];
  time: number;
  changed: (TeamMsgReads & { from: string })[];
  /** The reader's connection: its other devices hear the counts too, this one has its reply. */
  conn?: string;
}

/** Who counts for a message being sent, when it asks for receipts in an advanced group: the members now but the sender. */
export function countedFor(state: TeamState, msg: StoredMessage): string[] | undefined {
  if (state.kind !== 'team' || !msg.needMsgReceipt || msg.type === 'notification') return undefined;
  return [...state.members.keys()].filter((a) => a !== msg.from);
}

function readersOf(ctx: ActorContext, idServer: string): Set<string> {
  const out = new Set<string>();
  for (const { key } of ctx.store.db(RECEIPTS_DB).getRange(rangeUnder('teamMsgRead', ctx.address, idServer))) {
    out.add(decodeKey('teamMsgRead', key)[2]);
  }
  return out;
}

/** The message a receipt names, refused when it is not in the group or did not ask for receipts. */
function receiptMsg(state: TeamState, ctx: ActorContext, ref: TeamMsgReceiptRef, which: string): ReceiptMsgRow & { counted: string[] } {
  if (ref.teamId !== state.id) throw new ParleyError('BAD_REQUEST', `${which} names group ${ref.teamId}: every message of one call must be in group ${state.id}`);
  const row = ctx.store.db(RECEIPTS_DB).get(keyOf('teamReceiptMsg', ctx.address, ref.idServer)) as ReceiptMsgRow | undefined;
  if (row === undefined) throw new ParleyError('NOT_FOUND', `${which} (${ref.idServer}) is not a message of group ${state.id}`);
  if (row.counted === undefined) throw new ParleyError('BAD_REQUEST', `${which} (${ref.idServer}) was not sent with needMsgReceipt: true, so it takes no receipts`);
  return row as ReceiptMsgRow & { counted: string[] };
}

function split(state: TeamState, row: { counted: string[] }, readers: Set<string>): { read: string[]; unread: string[] } {
  const read: string[] = [];
  const unread: string[] = [];
  for (const a of row.counted) {
    if (!state.members.has(a)) continue;
    (readers.has(a) ? read : unread).push(a);
  }
  return { read, unread };
}

const nameOf = (refs: readonly unknown[], i: number) => (refs.length === 1 ? 'the message' : `teamMsgReceipts[${i}]`);

/** Decides a batch of receipts: members only; each message must ask for receipts; new counted readers only. */
export function decideReceipts(state: TeamState, ctx: ActorContext, by: string, refs: readonly TeamMsgReceiptRef[], conn?: string): { event?: TeamReadsEvent } {
  memberOf(state, by);
  const rows = refs.map((ref, i) => receiptMsg(state, ctx, ref, nameOf(refs, i)));
  const marks: TeamReadsEvent['marks'] = [];
  const changed: TeamReadsEvent['changed'] = [];
  const done = new Set<string>();
  rows.forEach((row, i) => {
    const idServer = refs[i]!.idServer;
    if (done.has(idServer)) return;
    done.add(idServer);
    if (!row.counted.includes(by)) return;
    const readers = readersOf(ctx, idServer);
    if (readers.has(by)) return;
    readers.add(by);
    marks.push({ idServer, account: by });
    const { read, unread } = split(state, row, readers);
    changed.push({ teamId: state.id, idServer, read: read.length, unread: unread.length, from: row.from });
  });
  if (marks.length === 0) return {};
  const event: TeamReadsEvent = { t: 'reads', marks, time: ctx.now(), changed };
  if (conn !== undefined) event.conn = conn;
  return { event };
}

/** The counts of each message asked, in order. */
export function readCounts(state: TeamState, ctx: ActorContext, by: string, refs: readonly TeamMsgReceiptRef[]): TeamMsgReads[] {
  memberOf(state, by);
  return refs.map((ref, i) => {
    const row = receiptMsg(state, ctx, ref, nameOf(refs, i));
    const { read, unread } = split(state, row, readersOf(ctx, ref.idServer));
    return { teamId: state.id, idServer: ref.idServer, read: read.length, unread: unread.length };
  });
}

/** Who read one message and who has not. */
export function readAccounts(state: TeamState, ctx: ActorContext, by: string, ref: TeamMsgReceiptRef) {
  memberOf(state, by);
  const row = receiptMsg(state, ctx, ref, 'the message');
  const { read, unread } = split(state, row, readersOf(ctx, ref.idServer));
  return { teamId: state.id, idServer: ref.idServer, readAccounts: read, unreadAccounts: unread };
}

/** Writes the new readers. */
export function persistReads(event: TeamReadsEvent, ctx: ActorContext): void {
  const db = ctx.store.db(RECEIPTS_DB);
  for (const m of event.marks) void db.put(keyOf('teamMsgRead', ctx.address, m.idServer, m.account), event.time);
}

/** Writes a sent message's index row (advanced groups only). */
export function persistReceiptRow(state: TeamState, event: TeamMsgEvent, ctx: ActorContext): void {
  if (state.kind !== 'team') return;
  const row: ReceiptMsgRow = { seq: event.msg.seq, from: event.msg.from };
  if (event.counted !== undefined) row.counted = event.counted;
  void ctx.store.db(RECEIPTS_DB).put(keyOf('teamReceiptMsg', ctx.address, event.msg.idServer), row);
}
