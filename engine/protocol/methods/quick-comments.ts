/**
 * Quick comments (reactions): an integer `body` an application maps to a
 * reaction, put on a message by a participant, at most one of each body per
 * account and message. Adding and removing reach the other participants and
 * the caller's other devices (`QuickComment`, `DeleteQuickComment`).
 * Answered by the conversation's actor, in p2p and group scenes alike (in a
 * group: members only, NOT_MEMBER otherwise). Browser-safe.
 */
import * as s from '../schema.ts';
import { MAX_EXT_CHARS, MAX_MSGS_PER_BATCH, MAX_NOTE_CHARS } from '../objects.ts';
import type { MsgRef } from '../objects.ts';
import { actorMethod, returns } from '../registry.ts';
import { msgRef, refAddress } from './messages.ts';

/** Longest quick comment `custom`, in characters. */
export const MAX_COMMENT_CUSTOM_CHARS = MAX_EXT_CHARS;
/** Longest quick comment `pushTitle`, in characters. */
export const MAX_PUSH_TITLE_CHARS = 100;

/** One account's reaction to a message. */
export interface QuickComment {
  from: string;
  body: number;
  custom?: string;
  time: number;
}

/** The message a quick comment is on, as the viewer names it. */
export type CommentedMsg = MsgRef & { idClient: string; sessionId: string };

/** `QuickComment` / `DeleteQuickComment`: a comment added to or removed from `msg`. */
export interface QuickCommentChange {
  msg: CommentedMsg;
  comment: QuickComment;
  /** When the change happened (ms), on events: the SDK moves its `sessions` cursor to it, and the login sync replays the changes after that cursor. */
  time?: number;
}

/** The comments of one message (`getQuickComments`); `updateTime` is their last change, 0 when none ever. */
export interface MsgQuickComments {
  idClient: string;
  idServer: string;
  updateTime: number;
  comments: QuickComment[];
}

/** What adding and removing take: the message, the reaction, and push options for the participants' devices. */
const commentArgs = () =>
  s.object({
    msg: msgRef(),
    body: s.int({ min: 0, max: 2 ** 31 - 1 }),
    custom: s.optional(s.string({ max: MAX_COMMENT_CUSTOM_CHARS })),
    needPush: s.optional(s.boolean(), false),
    needBadge: s.optional(s.boolean(), false),
    pushTitle: s.optional(s.string({ max: MAX_PUSH_TITLE_CHARS })),
    apnsText: s.optional(s.string({ max: MAX_NOTE_CHARS })),
    pushPayload: s.optional(s.string({ max: MAX_EXT_CHARS })),
  });

export const quickCommentMethods = {
  addQuickComment: actorMethod({
    doc: 'Puts the caller\'s reaction `body` (an integer) on a message, with an optional `custom`; the same body again is no change. The other participants and the caller\'s other devices get `QuickComment`.',
    owner: 'conv',
    address: (account, a) => refAddress(account, a.msg),
    reads: true,
    args: commentArgs(),
    result: returns<QuickCommentChange>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  deleteQuickComment: actorMethod({
    doc: "Removes the caller's reaction `body` from a message (none is no change); the others get `DeleteQuickComment`.",
    owner: 'conv',
    address: (account, a) => refAddress(account, a.msg),
    reads: true,
    args: commentArgs(),
    result: returns<{ msg: CommentedMsg; comment?: QuickComment }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  getQuickComments: actorMethod({
    doc: 'The reactions of several messages of one conversation, in the order asked; messages not found or not visible to the caller are left out.',
    owner: 'conv',
    address: (account, a) => refAddress(account, a.msgs[0]!),
    reads: true,
    args: s.object({ msgs: s.array(msgRef(), { min: 1, max: MAX_MSGS_PER_BATCH }) }),
    result: returns<MsgQuickComments[]>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
};
