/**
 * What the SDK does with each server event before (or instead of) emitting
 * it: one handler per event of `Events` (methods.ts), so an event declared
 * there without a handler here fails to compile. An event with no handler
 * (one the SDK does not know) is emitted as it came. Browser-safe.
 */
import type { Events } from '../engine/protocol/methods.ts';
import type { ClientEvents } from './events.ts';
import type { MessageOrdering } from './ordering.ts';
import { isRecord } from './shared.ts';
import type { SyncState } from './sync-state.ts';
import type { Transport } from './transport.ts';
import { TEAM_EVENT_HANDLERS } from './team-events.ts';

/** What a handler may touch. */
export interface InboundContext {
  readonly sync: SyncState;
  readonly ordering: MessageOrdering;
  readonly transport: Transport;
  /** Resolves the client's `synced` promise, if it is still pending. */
  resolveSynced(d: Events['syncdone']): void;
  emit<K extends keyof ClientEvents>(event: K, data: ClientEvents[K]): void;
  emit(event: string, data: unknown): void;
}

type Handler<T> = (d: T, ctx: InboundContext) => void;

/** One handler per declared server event. Payloads are as decoded: handlers check what they read. */
type EventHandlers = { [E in keyof Events]: Handler<Events[E]> };

const HANDLERS: EventHandlers = {
  msg: (d, ctx) => ctx.ordering.deliver(d),
  offlinemsgs: (d, ctx) => emitUnseen('offlinemsgs', d, ctx),
  roamingmsgs: (d, ctx) => emitUnseen('roamingmsgs', d, ctx),
  sessions: (d, ctx) => {
    ctx.sync.noteSessions(d);
    ctx.emit('sessions', d);
  },
  updatesessions: (d, ctx) => {
    ctx.sync.noteSessions(d);
    if (Array.isArray(d)) {
      // A session's newest message may reach us before (or instead of) its `msg` event.
      for (const session of d) if (isRecord(session) && isRecord(session.lastMsg)) ctx.ordering.deliverSessionMessage(session.lastMsg);
    }
    ctx.emit('updatesessions', d);
  },
  syncdone: (d, ctx) => {
    ctx.ordering.releaseSessionMessages();
    ctx.emit('syncdone', d);
    ctx.resolveSynced(d);
  },
  loginportschange: (d, ctx) => ctx.emit('loginportschange', d),
  sysmsg: (d, ctx) => {
    if (ctx.sync.noteSysMsg(d)) ctx.emit('sysmsg', d);
  },
  offlinesysmsgs: (d, ctx) => {
    const fresh = Array.isArray(d) ? d.filter((m) => ctx.sync.noteSysMsg(m)) : d;
    if (!Array.isArray(fresh) || fresh.length > 0) ctx.emit('offlinesysmsgs', fresh);
  },
  customsysmsg: (d, ctx) => {
    if (ctx.sync.noteSysMsg(d)) ctx.emit('customsysmsg', d);
  },
  offlinecustomsysmsgs: (d, ctx) => {
    const fresh = Array.isArray(d) ? d.filter((m) => ctx.sync.noteSysMsg(m)) : d;
    if (!Array.isArray(fresh) || fresh.length > 0) ctx.emit('offlinecustomsysmsgs', fresh);
  },
  sysmsgunread: (d, ctx) => ctx.emit('sysmsgunread', d),
  updatesysmsgunread: (d, ctx) => ctx.emit('updatesysmsgunread', d),
  StickTopSessions: (d, ctx) => ctx.emit('StickTopSessions', d),
  DeleteMsgSelf: (d, ctx) => {
    ctx.sync.noteSelfDeletes(d);
    ctx.emit('DeleteMsgSelf', d);
  },
  sessionsdeleted: (d, ctx) => ctx.emit('sessionsdeleted', d),
  SyncUpdateServerSession: (d, ctx) => {
    ctx.sync.noteSessions([d]);
    ctx.emit('SyncUpdateServerSession', d);
  },
  broadcastmsg: (d, ctx) => ctx.emit('broadcastmsg', d),
  signalingNotify: (d, ctx) => ctx.emit('signalingNotify', d),
  pushevents: (d, ctx) => ctx.emit('pushevents', d),
  signalingMutilClientSyncNotify: (d, ctx) => ctx.emit('signalingMutilClientSyncNotify', d),
  signalingChannelsSyncNotify: (d, ctx) => ctx.emit('signalingChannelsSyncNotify', d),
  signalingUnreadMessageSyncNotify: (d, ctx) => ctx.emit('signalingUnreadMessageSyncNotify', d),
  PinMsgChange: (d, ctx) => {
    ctx.sync.noteConvChange(d);
    ctx.emit('PinMsgChange', d);
  },
  QuickComment: (d, ctx) => {
    ctx.sync.noteConvChange(d);
    ctx.emit('QuickComment', d);
  },
  DeleteQuickComment: (d, ctx) => {
    ctx.sync.noteConvChange(d);
    ctx.emit('DeleteQuickComment', d);
  },
  ClearServerHistoryMsgs: (d, ctx) => {
    ctx.sync.noteConvChange(d);
    ctx.emit('ClearServerHistoryMsgs', d);
  },
  myinfo: (d, ctx) => ctx.emit('myinfo', d),
  updatemyinfo: (d, ctx) => ctx.emit('updatemyinfo', d),
  blacklist: (d, ctx) => ctx.emit('blacklist', d),
  mutelist: (d, ctx) => ctx.emit('mutelist', d),
  syncmarkinblacklist: (d, ctx) => ctx.emit('syncmarkinblacklist', d),
  syncmarkinmutelist: (d, ctx) => ctx.emit('syncmarkinmutelist', d),
  friends: (d, ctx) => {
    if (Array.isArray(d)) for (const f of d) ctx.sync.noteFriend(f);
    ctx.emit('friends', d);
  },
  syncfriendaction: (d, ctx) => {
    if (isRecord(d)) ctx.sync.noteFriend(d.friend);
    ctx.emit('syncfriendaction', d);
  },
  kicked: (d, ctx) => {
    ctx.transport.noteKicked();
    ctx.emit('kicked', d);
    // The server closes the socket too; closing here makes sure no retry follows.
    ctx.transport.closeAfterKick();
  },
  ...TEAM_EVENT_HANDLERS,
};

/** Emits a batch of stored messages without the ones seen before; nothing when every one was. */
function emitUnseen(event: 'offlinemsgs' | 'roamingmsgs', d: unknown, ctx: InboundContext): void {
  if (isRecord(d) && Array.isArray(d.msgs)) {
    const fresh = ctx.ordering.unseen(d.msgs);
    if (fresh.length === 0 && d.msgs.length > 0) return;
    if (fresh.length !== d.msgs.length) d = { ...d, msgs: fresh };
  }
  ctx.emit(event, d);
}

/** Runs the handler of server event `ev`, or emits it as it came when there is none. */
export function handleEvent(ev: string, d: unknown, ctx: InboundContext): void {
  const handler = handlerOf(ev);
  if (handler === undefined) ctx.emit(ev, d);
  else handler(d, ctx);
}

function handlerOf(ev: string): Handler<unknown> | undefined {
  return Object.hasOwn(HANDLERS, ev) ? (HANDLERS[ev as keyof Events] as Handler<unknown>) : undefined;
}
