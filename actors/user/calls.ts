/**
 * The calls a user actor receives from the rest of the engine: a
 * conversation reporting its newest message (`touch`), a peer's user actor
 * passing on a read receipt (`receipt`), and the edge fetching the login sync
 * page by page (`sync`). Declared here, by the receiver, so a
 * sender imports the argument types from the kind that defines them.
 */
import type { Message, Scene } from '../../engine/protocol/objects.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import type { SyncCursors, SyncPage } from './logic.ts';
import { peopleCalls } from './people.ts';

/** Arguments of the `touch` a conversation sends to a member's user actor. */
export interface TouchArgs {
  sessionId: string;
  scene: Scene;
  to: string;
  address: string;
  seq: number;
  /** Messages the member had sent up to `seq`. */
  own: number;
  msg: Message;
  /**
   * Messages of the other members up to `seq` sent with `isUnreadable:
   * false`, which never count as unread. Optional: without it the user
   * actor counts them from `msg`, one touch at a time.
   */
  quiet?: number;
  /**
   * `msg` replaces the last message the session holds at this same `seq`
   * (the one it held was recalled); counts and read pointers are untouched.
   */
  corrected?: boolean;
}

/** Arguments of the `receipt` a reader's user actor sends the peer's: the peer read our messages up to `time`. */
export interface ReceiptArgs {
  /** Our session with the reader, `p2p-<reader>`. */
  sessionId: string;
  /** The reader. */
  to: string;
  /** The conversation actor's address. */
  address: string;
  /** Time of the newest of our messages the reader acknowledged; absolute, so repeats and reorders are harmless. */
  time: number;
}

/** Arguments of the `sync` the edge calls at login, once per page. */
export interface SyncArgs {
  deviceId: string;
  cursors?: SyncCursors;
  /** Offline messages per session. */
  limit: number;
  /** Most bytes of the page, when the caller needs less than the Bus carries. */
  maxBytes?: number;
  /** The `next` of the previous page. */
  after?: string;
}

export const userCalls = {
  ...peopleCalls,
  touch: internal({
    doc: "A conversation's newest message and the member's own count up to it; absolute, so repeats and reorders are harmless.",
    args: takes<TouchArgs>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  receipt: internal({
    doc: "The peer's read receipt: our messages up to `time` were read; sets `msgReceiptTime` on our session with the peer.",
    args: takes<ReceiptArgs>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  sync: internal({
    doc: 'One page of the login sync plan: changed sessions and what to fetch from each conversation.',
    args: takes<SyncArgs>(),
    result: returns<SyncPage>(),
    retry: 'idempotent',
  }),
};
