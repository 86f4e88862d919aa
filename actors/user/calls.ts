/**
 * The calls a user actor receives from the rest of the engine: a
 * conversation reporting its newest message (`touch`), a peer's user actor
 * passing on a read receipt (`receipt`), and the edge fetching the login sync
 * page by page (`sync`). Declared here, by the receiver, so a
 * sender imports the argument types from the kind that defines them.
 */
import type { CustomSysMsg, DeletedMsgSelf, Message, Scene, SysMsg } from '../../engine/protocol/objects.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import type { SyncCursors, SyncPage } from './logic.ts';
import type { SysMsgSyncArgs, SysMsgSyncPage } from './sysmsgs.ts';
import type { SelfDeleteSyncArgs, SelfDeleteSyncPage } from './self-deletes.ts';
import type { AccountSyncArgs, AccountSyncPage } from './account-sync.ts';
import type { ConvChangeEntry, ConvChangeSyncArgs, ConvChangeSyncPage } from './conv-changes.ts';
import { peopleCalls } from './people.ts';
import { pushPrefsCalls } from './push-prefs.ts';

/** Arguments of the `touch` a conversation sends to a member's user actor. */
export interface TouchArgs {
  sessionId: string;
  scene: Scene;
  to: string;
  address: string;
  seq: number;
  /** Messages the member had sent up to `seq`. */
  own: number;
  /** The newest message as the member sees it; or, in its place, `view`. */
  msg?: Message;
  /**
   * `msg` already encoded (msgpack bytes of the member's view), carried as
   * bytes: the conversation encodes a message once, and the user actor
   * splices these bytes into its Log entry and its `updatesessions` frame.
   */
  view?: Uint8Array;
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
  /**
   * Seqs up to `seq` of recalled messages that counted as unread for the
   * member (a supergroup's, which tells no member's actor of a recall): each
   * leaves the count as a `recalled` would, when past the read pointer.
   */
  recalled?: number[];
}

/**
 * Arguments of `touches`: several touches to one user actor carried
 * together (the engine sends the touches bound for one account in one tick
 * so), decided in order as one command.
 */
export interface TouchesArgs {
  touches: TouchArgs[];
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

/** Arguments of the `recalled` a conversation sends the recipient's user actor after a recall. */
export interface RecalledArgs {
  sessionId: string;
  /** The recalled message's seq and sender. */
  seq: number;
  from: string;
  /** Whether it counted as unread (it was not sent with `isUnreadable: false`). */
  counted: boolean;
}

/** Arguments of the `sync` the edge calls at login, once per page. */
export interface SyncArgs {
  deviceId: string;
  cursors?: SyncCursors;
  /** Offline messages per session. */
  limit: number;
  /** Offline messages per supergroup session (the newest). Default: `limit`. */
  superTeamLimit?: number;
  /** Most bytes of the page, when the caller needs less than the Bus carries. */
  maxBytes?: number;
  /** The `next` of the previous page. */
  after?: string;
}

/**
 * Arguments of `postSysMsg`: a system notification for the account's store
 * (see sysmsgs.ts). `msg.idServer` must be unique for the account (a repeat
 * is no change); `time` may be left to the store. `exclude`: the socket that
 * caused it, which is not delivered to.
 */
export interface PostSysMsgArgs {
  msg: (Omit<SysMsg, 'time'> & { time?: number }) | (Omit<CustomSysMsg, 'time'> & { time?: number });
  exclude?: string;
}

/** Arguments of `selfDeleted`: messages the account hid for itself (`deleteMsgSelf`), for its devices' next login. */
export interface SelfDeletedArgs {
  deleted: DeletedMsgSelf[];
}

/** Arguments of `convChanged`: pin, quick comment or clear changes of the account's conversations, for its devices' next login. */
export interface ConvChangedArgs {
  changes: ConvChangeEntry[];
}

export const userCalls = {
  ...peopleCalls,
  ...pushPrefsCalls,
  touch: internal({
    doc: "A conversation's newest message and the member's own count up to it; absolute, so repeats and reorders are harmless.",
    args: takes<TouchArgs>(),
    result: returns<boolean>(),
    retry: 'idempotent',
    defers: true,
  }),
  touches: internal({
    doc: 'Several `touch`es decided in order as one command: one Log entry and one `updatesessions` per device for all of them.',
    args: takes<TouchesArgs>(),
    result: returns<boolean>(),
    retry: 'idempotent',
    defers: true,
  }),
  receipt: internal({
    doc: "The peer's read receipt: our messages up to `time` were read; sets `msgReceiptTime` on our session with the peer.",
    args: takes<ReceiptArgs>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  recalled: internal({
    doc: 'A message of the session was recalled: it leaves the unread count if it was in it; repeats change nothing.',
    args: takes<RecalledArgs>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  sync: internal({
    doc: 'One page of the login sync plan: changed sessions and what to fetch from each conversation.',
    args: takes<SyncArgs>(),
    result: returns<SyncPage>(),
    retry: 'idempotent',
  }),
  postSysMsg: internal({
    doc: "Keeps a system notification in the account's store and delivers it to the account's online devices; answers the kept notification.",
    args: takes<PostSysMsgArgs>(),
    result: returns<SysMsg | CustomSysMsg>(),
    retry: 'idempotent',
    reads: true,
  }),
  syncAccount: internal({
    doc: "The login sync's first read besides the sessions: the pinned sessions, the first page of deletes-for-self, of conversation changes and of system notifications, and the unread counts.",
    args: takes<AccountSyncArgs>(),
    result: returns<AccountSyncPage>(),
    retry: 'idempotent',
    reads: true,
  }),
  syncSysMsgs: internal({
    doc: 'One page of the login sync\'s system notifications: every unacknowledged built-in one, stored custom ones past the cursor, and the unread counts.',
    args: takes<SysMsgSyncArgs>(),
    result: returns<SysMsgSyncPage>(),
    retry: 'idempotent',
    reads: true,
  }),
  selfDeleted: internal({
    doc: 'Records messages the account deleted for self, so devices that were offline learn it at login.',
    args: takes<SelfDeletedArgs>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  syncSelfDeletes: internal({
    doc: 'One page of the login sync\'s deletes-for-self since the device\'s sessions cursor.',
    args: takes<SelfDeleteSyncArgs>(),
    result: returns<SelfDeleteSyncPage>(),
    retry: 'idempotent',
    reads: true,
  }),
  convChanged: internal({
    doc: "Records changes to the account's conversations beside their messages (pins, quick comments, synced clears), so devices that were offline learn them at login.",
    args: takes<ConvChangedArgs>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
  syncConvChanges: internal({
    doc: 'One page of the login sync\'s conversation changes since the device\'s sessions cursor.',
    args: takes<ConvChangeSyncArgs>(),
    result: returns<ConvChangeSyncPage>(),
    retry: 'idempotent',
    reads: true,
  }),
};
