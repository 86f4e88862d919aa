/** Supergroup sessions' own unread reset (`resetSuperTeamSessionsUnread`), over the user actor's session rules. */
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Session } from '../../engine/protocol/objects.ts';
import { decideReads, sessionView, type UserEvent, type UserState } from './logic.ts';

/** Moves the read pointers of the named supergroup sessions to their end; BAD_REQUEST naming the first id of another scene. */
export function resetSuperTeamSessions(state: UserState, sessionIds: readonly string[], now: number): { reply: { sessionList: Session[] }; events: UserEvent[] } {
  sessionIds.forEach((id, i) => {
    if (!id.startsWith('superTeam-')) throw new ParleyError('BAD_REQUEST', `\`sessionIds.${i}\` must be a supergroup session id (superTeam-<teamId>), got '${id}'`);
  });
  const { rows, events } = decideReads(state, sessionIds, now);
  return { reply: { sessionList: rows.map((row) => ({ ...sessionView(row), unread: 0 })) }, events };
}
