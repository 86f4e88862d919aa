/**
 * The calls a conversation actor receives from the rest of the engine: the
 * edge reading a page of messages for the login sync (`range`). Declared
 * here, by the receiver.
 */
import type { Message } from '../../engine/protocol/objects.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import { relationCalls } from './relations.ts';

/** Arguments of `range`, once per page of the login sync. */
export interface RangeArgs {
  viewer: string;
  fromSeq: number;
  /** Most messages in the page. */
  limit: number;
  /** Most bytes of the page, when the caller needs less than the Bus carries. */
  maxBytes?: number;
}

/** A page of `range`: `next` is the seq to resume from, set when the page stopped before the conversation's end. */
export interface RangeReply {
  msgs: Message[];
  next?: number;
}

export const conversationCalls = {
  ...relationCalls,
  range: internal({
    doc: "Offline messages from `fromSeq` as `viewer` sees them, bounded by count and bytes.",
    args: takes<RangeArgs>(),
    result: returns<RangeReply>(),
    retry: 'idempotent',
    reads: true,
  }),
};
