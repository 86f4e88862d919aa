/**
 * Supergroup sessions kept up to date on the device. The engine writes no
 * session row per supergroup message (unread counts come from read pointers
 * when a session is read), so a live supergroup message carries no
 * `updatesessions`; the SDK derives it, as the reference SDK does for its
 * supergroup sessions: the session the server last sent (login `sessions`,
 * `updatesessions` after a reset) with the newer messages applied — each
 * becomes the `lastMsg`, and one from another account that counts as unread
 * adds one. A message at or before the server's `lastMsg` is already in its
 * count. A server update computed just before a live message it then
 * crosses on the socket misses that message's count until the next one the
 * server sends: the derived count is a device's view, the server's is the
 * reference (`getServerSessions`). Browser-safe.
 */
import type { Message, Session } from '../engine/protocol/objects.ts';
import { isRecord } from './shared.ts';

/** Supergroup sessions known to this device, by session id. */
export class SuperTeamSessions {
  private readonly sessions = new Map<string, Session>();

  /** Takes the supergroup sessions of a list the server sent (`sessions`, `updatesessions`) as its word on them. */
  note(payload: unknown): void {
    if (!Array.isArray(payload)) return;
    for (const s of payload) {
      if (!isRecord(s) || s.scene !== 'superTeam' || typeof s.id !== 'string' || typeof s.unread !== 'number') continue;
      const known = this.sessions.get(s.id);
      const session = { ...(s as unknown as Session) };
      // An update that carries an older last message (a reset reads the row) keeps the newer one seen live.
      if (known?.lastMsg !== undefined && (session.lastMsg === undefined || session.lastMsg.seq < known.lastMsg.seq)) session.lastMsg = known.lastMsg;
      this.sessions.set(s.id, session);
    }
  }

  /** The session as a live supergroup message `msg` leaves it, to emit as `updatesessions`; undefined for any other message. */
  onMessage(msg: unknown): Session | undefined {
    if (!isRecord(msg) || msg.scene !== 'superTeam' || typeof msg.sessionId !== 'string' || typeof msg.seq !== 'number' || typeof msg.to !== 'string') return undefined;
    const m = msg as unknown as Message;
    const known = this.sessions.get(m.sessionId);
    if (known?.lastMsg !== undefined && m.seq <= known.lastMsg.seq) return undefined;
    const session: Session = known === undefined ? { id: m.sessionId, scene: 'superTeam', to: m.to, unread: 0, updateTime: 0, isTop: false } : { ...known };
    session.lastMsg = m;
    if (m.time > session.updateTime) session.updateTime = m.time;
    if (m.flow === 'in' && m.isUnreadable !== false) session.unread++;
    this.sessions.set(m.sessionId, session);
    return { ...session };
  }
}
