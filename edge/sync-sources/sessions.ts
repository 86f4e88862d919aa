/**
 * The sessions part of the login sync. The user actor's `sync` says what
 * changed since the device's cursors, a page of sessions at a time; each
 * page goes out as `sessions` (the first always, even empty) and the
 * sessions removed since the cursor as `sessionsdeleted`, then every
 * conversation the page lists is handed to the per-conversation sources
 * (offline messages today), `SYNC_CONCURRENCY` conversations at a time,
 * before the next page is asked for.
 */
import { userCalls } from '../../actors/user/calls.ts';
import type { Scene, Session } from '../../engine/protocol/methods.ts';
import type { SyncLimits } from '../../actors/user/logic.ts';
import { userAddress } from '../../engine/subjects.ts';
import { logger } from '../../engine/logger.ts';
import { forEachBounded } from '../login-sync.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';
import type { Conn } from '../connection.ts';
import { isPlainObject, isUint } from '../wire.ts';

/** Conversations fetched concurrently during one socket's login sync. */
export const SYNC_CONCURRENCY = 8;

/** One conversation the user actor's plan lists: its session and the actor and seq to read from. */
export interface SyncConversation {
  sessionId: unknown;
  scene: unknown;
  to: unknown;
  /** The conversation actor's address. */
  address: string;
  /** The first seq the device has not seen. */
  fromSeq: number;
}

/** A feature's part of the login sync for each conversation that changed (offline messages today). */
export interface ConversationSyncSource {
  /** Names the source in logs. */
  readonly name: string;
  /** Writes the source's pages for one conversation; resolves when done or when the socket closed. */
  sync(run: LoginSyncRun, conversation: SyncConversation): Promise<void>;
}

/** What the user actor's `sync` answers: one page of the plan; `next` resumes it. */
interface SyncResult {
  sessions?: Session[];
  fetch?: SyncFetch[];
  next?: string;
  /** Sessions removed since the device's cursor. */
  deleted?: string[];
}

interface SyncFetch {
  sessionId: string;
  scene: Scene;
  to: string;
  address: string;
  fromSeq: number;
}

/** The sessions pages from the user actor, each followed by its conversations' sources. */
export class SessionsSyncSource implements LoginSyncSource {
  readonly name = 'sessions';
  /** Messages per session asked of the user actor (`syncMsgsPerSession`, `syncSuperTeamMsgsPerSession` for supergroups). */
  private readonly msgsPerSession: SyncLimits;
  private readonly perConversation: readonly ConversationSyncSource[];

  /** Hears each page's sessions as they are written (the supergroup fan-out keeps its sessions from them). */
  private readonly onSessions: ((conn: Conn, sessions: readonly Session[]) => void) | undefined;

  constructor(msgsPerSession: SyncLimits, perConversation: readonly ConversationSyncSource[], onSessions?: (conn: Conn, sessions: readonly Session[]) => void) {
    this.msgsPerSession = msgsPerSession;
    this.onSessions = onSessions;
    this.perConversation = perConversation;
  }

  async sync(run: LoginSyncRun): Promise<void> {
    const { conn, paging } = run;
    const address = userAddress(conn.account);
    let after: string | undefined;
    for (let first = true; ; first = false) {
      const a: Record<string, unknown> = { deviceId: conn.deviceId, cursors: run.cursors, limit: this.msgsPerSession.all, superTeamLimit: this.msgsPerSession.superTeam };
      if (paging.ask !== undefined) a.maxBytes = paging.ask;
      if (after !== undefined) a.after = after;
      const pulled = await run.pull(
        async () => (await run.read(address, 'sync', a, userCalls.sync.retry)) as SyncResult | undefined,
        (result) => {
          const sessions = Array.isArray(result?.sessions) ? result.sessions : [];
          if (first || sessions.length > 0) run.send({ ev: 'sessions', d: sessions });
          if (sessions.length > 0) this.onSessions?.(conn, sessions);
          const deleted = Array.isArray(result?.deleted) ? result.deleted.filter((id) => typeof id === 'string') : [];
          if (deleted.length > 0) run.send({ ev: 'sessionsdeleted', d: deleted });
        },
      );
      if (pulled === undefined || conn.closed) return;
      const fetch = Array.isArray(pulled.page?.fetch) ? pulled.page.fetch : [];
      await forEachBounded(fetch, SYNC_CONCURRENCY, (item) => this.syncConversation(run, item));
      if (conn.closed) return;
      const next = pulled.page?.next;
      if (typeof next !== 'string' || next === after) return;
      after = next;
    }
  }

  /** One conversation of the plan: checked, then each per-conversation source in turn. */
  private async syncConversation(run: LoginSyncRun, item: unknown): Promise<void> {
    const conn = run.conn;
    if (conn.closed) return;
    if (!isPlainObject(item) || typeof item.address !== 'string' || !isUint(item.fromSeq)) {
      logger.warn('login sync: ignoring a malformed fetch item', { account: conn.account, item });
      return;
    }
    const conversation: SyncConversation = { sessionId: item.sessionId, scene: item.scene, to: item.to, address: item.address, fromSeq: item.fromSeq };
    for (const source of this.perConversation) {
      if (conn.closed) return;
      await source.sync(run, conversation);
    }
  }
}
