/**
 * The offline messages part of the login sync, per conversation: the
 * conversation actor's `range`, page after page from the first seq the
 * device has not seen, each page sent as `offlinemsgs` (in seq order), up to
 * `syncMsgsPerSession` messages (`syncSuperTeamMsgsPerSession` in a
 * supergroup). A supergroup's stop below the first seq the socket got live
 * (`GroupFanout.liveFrom`): a message sent while the device logs in arrives
 * once, live.
 */
import { conversationCalls } from '../../actors/conversation/calls.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import type { SyncLimits } from '../../actors/user/logic.ts';
import type { GroupFanout } from '../groups.ts';
import type { LoginSyncRun } from '../login-sync.ts';
import { isUint } from '../wire.ts';
import type { ConversationSyncSource, SyncConversation } from './sessions.ts';

/** What a conversation's `range` answers: one page of messages; `next` is the seq to resume from. */
interface RangeResult {
  msgs?: Message[];
  next?: number;
}

/** Offline messages of each conversation the sessions plan lists. */
export class OfflineMessagesSyncSource implements ConversationSyncSource {
  readonly name = 'offline messages';
  /** Most messages sent per conversation (`syncMsgsPerSession`, `syncSuperTeamMsgsPerSession` for supergroups). */
  private readonly msgsPerSession: SyncLimits;

  /** Supergroups' live deliveries on this edge, when the edge fans them out. */
  private readonly groups: GroupFanout | undefined;

  constructor(msgsPerSession: SyncLimits, groups?: GroupFanout) {
    this.msgsPerSession = msgsPerSession;
    this.groups = groups;
  }

  async sync(run: LoginSyncRun, conversation: SyncConversation): Promise<void> {
    const { conn, paging } = run;
    const { address } = conversation;
    const head = { sessionId: conversation.sessionId, scene: conversation.scene, to: conversation.to };
    let fromSeq = conversation.fromSeq;
    const group = conversation.scene === 'superTeam' && typeof conversation.to === 'string' ? conversation.to : undefined;
    let left = group !== undefined ? this.msgsPerSession.superTeam : this.msgsPerSession.all;
    /** Below this seq (a supergroup's first live one), once known: what follows came live. */
    let below = Infinity;
    while (left > 0 && !conn.closed) {
      const a: Record<string, unknown> = { viewer: conn.account, fromSeq, limit: left };
      if (paging.ask !== undefined) a.maxBytes = paging.ask;
      const pulled = await run.pull(
        async () => (await run.read(address, 'range', a, conversationCalls.range.retry)) as RangeResult | undefined,
        (range) => {
          let msgs = Array.isArray(range?.msgs) ? range.msgs : [];
          if (group !== undefined) {
            below = this.groups?.liveFrom(conn, group) ?? Infinity;
            if (below !== Infinity) msgs = msgs.filter((m) => !(m.seq >= below));
          }
          if (msgs.length > 0) run.send({ ev: 'offlinemsgs', d: { ...head, msgs } });
        },
      );
      if (pulled === undefined) return;
      const count = Array.isArray(pulled.page?.msgs) ? pulled.page.msgs.length : 0;
      const next = pulled.page?.next;
      // Only a page that moved forward may be followed by another.
      if (count === 0 || !isUint(next) || next <= fromSeq || next >= below) return;
      left -= count;
      fromSeq = next;
    }
  }
}
