/** Supergroup sessions' own unread reset (`resetSuperTeamSessionsUnread`), over the user actor's session rules. */
import type { Session } from '../../engine/protocol/objects.ts';
import { decideReads, sessionView, type UserEvent, type UserState } from './logic.ts';

/** Moves the read pointers of the named supergroup sessions (the schema takes only `superTeam-` ids) to their end. */
export function resetSuperTeamSessions(state: UserState, sessionIds: readonly string[], now: number): { reply: { sessionList: Session[] }; events: UserEvent[] } {
  const { rows, events } = decideReads(state, sessionIds, now);
  return { reply: { sessionList: rows.map((row) => ({ ...sessionView(row), unread: 0 })) }, events };
}
