/**
 * The calls a user actor receives from the rest of the engine: a
 * conversation reporting its newest message (`touch`), and the edge fetching
 * the login sync page by page (`sync`). Declared here, by the receiver, so a
 * sender imports the argument types from the kind that defines them.
 */
import type { Message, Scene } from '../../engine/protocol/objects.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import type { SyncCursors, SyncPage } from './logic.ts';

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
  touch: internal({
    doc: "A conversation's newest message and the member's own count up to it; absolute, so repeats and reorders are harmless.",
    args: takes<TouchArgs>(),
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
