/**
 * What this device has seen: the cursors it logs in with and a bounded
 * memory of recent messages to drop duplicate deliveries. Pure: no I/O.
 */
import type { Cursors } from './options.ts';
import { isRecord } from './shared.ts';

/** Most sessions sent in `cursors.seqs` at login (the login schema's limit); the most recently active ones are kept. */
export const MAX_LOGIN_SEQS = 10_000;

export class SyncState {
  /** Highest session `updateTime` seen (0: none). */
  private sessions = 0;
  /** Highest friend `updateTime` seen (0: none). */
  private friends = 0;
  /** Newest group change time of a login sync's group lists (0: none). */
  private teams = 0;
  /** Highest message `seq` seen per session id, least recently advanced first. */
  private readonly seqs = new Map<string, number>();
  /** Recently seen `sessionId␀seq` keys, oldest first (a Set keeps insertion order). */
  private readonly seen = new Set<string>();
  /** Newest `time` of a stored custom system notification or a supergroup recall notice seen (0: none). */
  private sysmsgs = 0;
  /** Recently seen system notification idServers, oldest first: a login sync may repeat one delivered live. */
  private readonly seenSysMsgs = new Set<string>();
  private readonly window: number;

  /** `window`: how many recent messages are remembered for deduplication. */
  constructor(window: number, initial?: Cursors) {
    this.window = window;
    if (initial?.sessions !== undefined) this.sessions = initial.sessions;
    if (initial?.friends !== undefined) this.friends = initial.friends;
    if (initial?.teams !== undefined) this.teams = initial.teams;
    for (const [id, seq] of Object.entries(initial?.seqs ?? {})) this.seqs.set(id, seq);
    if (initial?.sysmsgs !== undefined) this.sysmsgs = initial.sysmsgs;
  }

  /** The cursors to send at login; undefined while nothing has been seen (a fresh device). */
  loginCursors(): Cursors | undefined {
    if (this.sessions === 0 && this.seqs.size === 0 && this.sysmsgs === 0 && this.friends === 0 && this.teams === 0) return undefined;
    const out: Cursors = {};
    if (this.sessions > 0) out.sessions = this.sessions;
    if (this.sysmsgs > 0) out.sysmsgs = this.sysmsgs;
    if (this.friends > 0) out.friends = this.friends;
    if (this.teams > 0) out.teams = this.teams;
    if (this.seqs.size > 0) {
      const entries = [...this.seqs];
      out.seqs = Object.fromEntries(entries.length > MAX_LOGIN_SEQS ? entries.slice(-MAX_LOGIN_SEQS) : entries);
    }
    return out;
  }

  /** A copy of the cursors, e.g. to persist and pass back as the `cursors` option. */
  snapshot(): { sessions: number; seqs: Record<string, number>; sysmsgs?: number; friends?: number; teams?: number } {
    const out: { sessions: number; seqs: Record<string, number>; sysmsgs?: number; friends?: number; teams?: number } = { sessions: this.sessions, seqs: Object.fromEntries(this.seqs) };
    if (this.sysmsgs > 0) out.sysmsgs = this.sysmsgs;
    if (this.friends > 0) out.friends = this.friends;
    if (this.teams > 0) out.teams = this.teams;
    return out;
  }

  /**
   * Advances the `teams` cursor from a login sync's `teams` / `SuperTeams`
   * list. Only those lists move it: a live group event may arrive while an
   * older change of another group is still unseen.
   */
  noteTeams(list: unknown): void {
    if (!Array.isArray(list)) return;
    for (const t of list) {
      if (!isRecord(t)) continue;
      for (const field of ['updateTime', 'memberUpdateTime', 'createTime'] as const) {
        const v = t[field];
        if (typeof v === 'number' && v > this.teams) this.teams = v;
      }
    }
  }

  /** Advances the friends cursor from a friend record (of `friends` or `syncfriendaction`). */
  noteFriend(friend: unknown): void {
    if (isRecord(friend) && typeof friend.updateTime === 'number' && friend.updateTime > this.friends) this.friends = friend.updateTime;
  }

  /**
   * Records a system notification (built-in or custom) and, for one the
   * login sync sends each device once past the `sysmsgs` cursor (a stored
   * custom one, a supergroup's recall notice), advances that cursor.
   * Returns false when its idServer was seen already, so the caller drops it.
   */
  noteSysMsg(msg: unknown): boolean {
    if (!isRecord(msg) || typeof msg.idServer !== 'string') return true;
    const once = (msg.type === 'custom' && msg.sendToOnlineUsersOnly === false) || isSuperTeamRecall(msg);
    if (once && typeof msg.time === 'number' && msg.time > this.sysmsgs) this.sysmsgs = msg.time;
    if (this.seenSysMsgs.has(msg.idServer)) return false;
    this.seenSysMsgs.add(msg.idServer);
    if (this.seenSysMsgs.size > this.window) {
      const oldest = this.seenSysMsgs.values().next();
      if (oldest.done !== true) this.seenSysMsgs.delete(oldest.value);
    }
    return true;
  }

  /**
   * Advances the `sysmsgs` cursor from the notice a recall's reply returns,
   * when it is a supergroup's (its socket hears no `sysmsg` of it, and the
   * login sync sends each device those past the cursor once).
   */
  noteOwnRecall(notice: unknown): void {
    if (isRecord(notice) && isSuperTeamRecall(notice) && typeof notice.time === 'number' && notice.time > this.sysmsgs) this.sysmsgs = notice.time;
  }

  /** Advances the sessions cursor from a `sessions` / `updatesessions` payload (a list of sessions). */
  noteSessions(payload: unknown): void {
    const list = Array.isArray(payload) ? payload : isRecord(payload) && Array.isArray(payload.sessions) ? payload.sessions : [];
    for (const s of list) {
      if (isRecord(s) && typeof s.updateTime === 'number' && s.updateTime > this.sessions) this.sessions = s.updateTime;
    }
  }

  /** Advances the sessions cursor from a `DeleteMsgSelf` payload: the login sync sends the ones after it. */
  noteSelfDeletes(payload: unknown): void {
    if (!Array.isArray(payload)) return;
    for (const d of payload) {
      if (isRecord(d) && typeof d.deletedTime === 'number' && d.deletedTime > this.sessions) this.sessions = d.deletedTime;
    }
  }

  /**
   * Advances the sessions cursor from a conversation change (`PinMsgChange`,
   * `QuickComment`, `DeleteQuickComment`: its `time`; `ClearServerHistoryMsgs`:
   * each item's `time`): the login sync replays the ones after it.
   */
  noteConvChange(payload: unknown): void {
    for (const c of Array.isArray(payload) ? payload : [payload]) {
      if (isRecord(c) && typeof c.time === 'number' && c.time > this.sessions) this.sessions = c.time;
    }
  }

  /** Highest `seq` seen in `sessionId`, undefined when nothing was. */
  lastSeq(sessionId: string): number | undefined {
    return this.seqs.get(sessionId);
  }

  /** True when this message was seen already. */
  hasSeen(sessionId: string, seq: number): boolean {
    return this.seen.has(`${sessionId}\u0000${seq}`);
  }

  /**
   * Records a message (delivered or returned by a send). Returns false when
   * this `sessionId` + `seq` was already seen, so the caller drops it.
   * Messages without both fields cannot be told apart and always count as new.
   */
  noteMessage(msg: unknown): boolean {
    if (!isRecord(msg) || typeof msg.sessionId !== 'string' || typeof msg.seq !== 'number') return true;
    const key = `${msg.sessionId}\u0000${msg.seq}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > this.window) {
      const oldest = this.seen.values().next();
      if (oldest.done !== true) this.seen.delete(oldest.value);
    }
    if (msg.seq > (this.seqs.get(msg.sessionId) ?? 0)) {
      this.seqs.delete(msg.sessionId); // re-inserted last: most recently advanced
      this.seqs.set(msg.sessionId, msg.seq);
    }
    return true;
  }
}

/** Whether `msg` is a supergroup's recall notice. */
function isSuperTeamRecall(msg: Record<string, unknown>): boolean {
  return msg.type === 'deleteMsg' && msg.scene === 'superTeam';
}
