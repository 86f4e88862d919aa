/**
 * What the push hook (engine/webhooks/push.ts) reads from a recipient's
 * user actor for one message, in one call: whether the recipient muted the
 * sender, and the badge, the recipient's unread messages over all its
 * sessions. Pure: no I/O.
 */
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import { isVisible, unreadOf } from './logic.ts';
import type { UserState } from './logic.ts';

export interface PushPrefsArgs {
  /** The message's sender. */
  from: string;
  /** The recipient's session of the message (`p2p-<sender>`, `team-<teamId>`). */
  sessionId: string;
  /** The message's seq in its conversation. */
  seq: number;
  /** Whether the message counts as unread (it was not sent with `isUnreadable: false`). */
  counted: boolean;
}

export interface PushPrefs {
  /** The recipient has the sender in its mutelist: no alert. */
  muted: boolean;
  /** Unread messages over every session the recipient sees, this message included. */
  badge: number;
}

export const pushPrefsCalls = {
  pushPrefs: internal({
    doc: "For a push alert about one message: whether the account muted its sender, and the account's unread over all its sessions, counting the message even before its session learns of it; a read.",
    args: takes<PushPrefsArgs>(),
    result: returns<PushPrefs>(),
    retry: 'idempotent',
  }),
};

/** The recipient's answer for one message; `muted` from its mutelist, as the people part keeps it. */
export function pushPrefsOf(state: UserState, a: PushPrefsArgs): PushPrefs {
  let badge = 0;
  for (const row of state.sessions.values()) if (isVisible(row)) badge += unreadOf(row);
  // The conversation tells the session of a message after storing it; a push made in between counts the message itself.
  const row = state.sessions.get(a.sessionId);
  if (a.counted && a.from !== state.account && (row === undefined || row.lastSeq < a.seq)) badge += 1;
  return { muted: state.people?.relations.mutelist.has(a.from) === true, badge };
}
