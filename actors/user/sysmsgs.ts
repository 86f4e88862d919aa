/**
 * The account's system notification store, kept by its user actor.
 *
 * Any part of the engine posts a notification to an account with
 * `postSysMsg(account, msg)` (an effect: the `postSysMsg` call to the
 * account's user actor). The store numbers it, keeps it and delivers it at
 * once to the account's online devices (`sysmsg`, or `customsysmsg` for
 * `sendCustomSysMsg` ones); what is kept reaches the devices that were
 * offline at their next login (`offlinesysmsgs` / `offlinecustomsysmsgs`).
 *
 * Built-in notifications stay until acknowledged (`markSysMsgRead`) and are
 * sent at every login until then; the ones the account did not cause itself
 * count as unread, per type (`updatesysmsgunread` on change, `sysmsgunread`
 * at login). Stored custom notifications are not counted and reach each
 * device once: at login, those newer than the device's `sysmsgs` cursor.
 * At most `sysMsgSettings.maxStored` built-in and as many custom ones are
 * kept per account; past it the oldest of its kind go. A repeated post
 * (same `idServer`) is no change.
 *
 * LMDB rows (keys from engine/keys.ts): `user-sysmsgs userSysMsg(address, n)
 * → StoredSysMsg` and `user-meta userMeta(address, 'sysmsgs') → SysMsgState`.
 */
import type { ActorContext, Effect } from '../../engine/actor/behavior.ts';
import { pageBudget } from '../../engine/actor/behavior.ts';
import { callEffect } from '../../engine/actor/define.ts';
import { keyOf } from '../../engine/keys.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { SYSMSG_TYPES } from '../../engine/protocol/objects.ts';
import type { CustomSysMsg, SysMsg, SysMsgUnread } from '../../engine/protocol/objects.ts';
import { userAddress } from '../../engine/subjects.ts';
import { userCalls } from './calls.ts';
import type { PostSysMsgArgs } from './calls.ts';

/** What the store reads when deciding; one value per process, a test may change it. */
export const sysMsgSettings = {
  /** Most built-in notifications kept per account, and most stored custom ones (default 1000 each); past it the oldest of its kind go. */
  maxStored: 1000,
};

/** One kept notification as the in-memory index knows it. */
interface Entry {
  n: number;
  idServer: string;
  type: string;
  /** Counted as unread: a built-in notification the account did not cause. */
  counted: boolean;
  custom: boolean;
}

/** The store's counters and index, in memory and in the `user-meta` row. */
export interface SysMsgState {
  /** The last number given. */
  next: number;
  /** Time of the newest notification kept (ms): a stored custom one is always newer. */
  lastTime: number;
  /** Kept notifications, oldest first. */
  entries: Entry[];
}

/** A stored row. */
export interface StoredSysMsg {
  n: number;
  msg: SysMsg | CustomSysMsg;
}

export type SysMsgEvent =
  /** A notification kept as number `n`; `drop` are the numbers it pushed out; `exclude` the socket not to deliver to. */
  | { t: 'sysmsgPost'; n: number; msg: SysMsg | CustomSysMsg; counted: boolean; drop: number[]; exclude?: string }
  /** Notifications acknowledged: they leave the store. */
  | { t: 'sysmsgRead'; ns: number[]; time: number };

const META = 'sysmsgs';

/** What the store is decided against. */
export interface WithSysMsgs {
  account: string;
  sysmsgs: SysMsgState;
}

/**
 * Posts `msg` to `account`'s store as an effect (at least once: a repeat is
 * no change), delivered to its online devices but the socket `exclude`.
 * `msg.idServer` must be unique for the account; a custom one without `time`
 * gets the store's.
 */
export function postSysMsg(account: string, msg: PostSysMsgArgs['msg'], exclude?: string): Effect {
  const a: PostSysMsgArgs = exclude === undefined ? { msg } : { msg, exclude };
  return callEffect(userCalls, 'postSysMsg', userAddress(account), a);
}

export function loadSysMsgs(ctx: ActorContext): SysMsgState {
  const meta = ctx.store.db('user-meta').get(keyOf('userMeta', ctx.address, META)) as SysMsgState | undefined;
  return meta === undefined ? { next: 0, lastTime: 0, entries: [] } : { next: meta.next, lastTime: meta.lastTime, entries: meta.entries.slice() };
}

function storedRow(ctx: ActorContext, n: number): StoredSysMsg | undefined {
  return ctx.store.db('user-sysmsgs').get(keyOf('userSysMsg', ctx.address, n)) as StoredSysMsg | undefined;
}

/**
 * Keeps a posted notification: the event, or none when one with its
 * idServer is kept already (the reply is then the kept one).
 */
export function decidePost(state: WithSysMsgs, a: PostSysMsgArgs, now: number, ctx?: ActorContext): { msg: SysMsg | CustomSysMsg; events: SysMsgEvent[] } {
  const store = state.sysmsgs;
  const kept = store.entries.find((e) => e.idServer === a.msg.idServer);
  if (kept !== undefined) {
    const row = ctx === undefined ? undefined : storedRow(ctx, kept.n);
    return { msg: row?.msg ?? ({ ...a.msg, time: a.msg.time ?? store.lastTime } as SysMsg | CustomSysMsg), events: [] };
  }
  // Stored custom ones take strictly increasing times: a device's cursor is the newest it saw.
  const time = a.msg.time ?? Math.max(now, store.lastTime + 1);
  const msg = { ...a.msg, time } as SysMsg | CustomSysMsg;
  const custom = msg.type === 'custom';
  const counted = !custom && msg.from !== state.account;
  // Custom ones and built-in ones are bounded apart, so a flood of one cannot push out the other.
  const max = Math.max(1, sysMsgSettings.maxStored);
  const same = store.entries.filter((x) => x.custom === custom);
  const drop = same.slice(0, Math.max(0, same.length + 1 - max)).map((x) => x.n);
  const e: Extract<SysMsgEvent, { t: 'sysmsgPost' }> = { t: 'sysmsgPost', n: store.next + 1, msg, counted, drop };
  if (a.exclude !== undefined) e.exclude = a.exclude;
  return { msg, events: [e] };
}

/** Acknowledges kept notifications by idServer; unknown ones are skipped. */
export function decideMarkRead(state: WithSysMsgs, idServers: readonly string[], now: number): { idServers: string[]; events: SysMsgEvent[] } {
  const wanted = new Set(idServers);
  const found = state.sysmsgs.entries.filter((e) => wanted.has(e.idServer));
  if (found.length === 0) return { idServers: [], events: [] };
  return { idServers: found.map((e) => e.idServer), events: [{ t: 'sysmsgRead', ns: found.map((e) => e.n), time: now }] };
}

export function applyPost(state: WithSysMsgs, e: Extract<SysMsgEvent, { t: 'sysmsgPost' }>): void {
  const store = state.sysmsgs;
  if (e.n <= store.next) return;
  store.next = e.n;
  store.lastTime = Math.max(store.lastTime, e.msg.time);
  if (e.drop.length > 0) {
    const gone = new Set(e.drop);
    store.entries = store.entries.filter((x) => !gone.has(x.n));
  }
  store.entries.push({ n: e.n, idServer: e.msg.idServer, type: e.msg.type, counted: e.counted, custom: e.msg.type === 'custom' });
}

export function applyRead(state: WithSysMsgs, e: Extract<SysMsgEvent, { t: 'sysmsgRead' }>): void {
  const gone = new Set(e.ns);
  state.sysmsgs.entries = state.sysmsgs.entries.filter((x) => !gone.has(x.n));
}

/** The rows of one event, inside the batch's transaction. */
export function persistSysMsgEvent(e: SysMsgEvent, ctx: ActorContext): void {
  const db = ctx.store.db('user-sysmsgs');
  if (e.t === 'sysmsgPost') {
    const row: StoredSysMsg = { n: e.n, msg: e.msg };
    void db.put(keyOf('userSysMsg', ctx.address, e.n), row);
    for (const n of e.drop) void db.remove(keyOf('userSysMsg', ctx.address, n));
  } else {
    for (const n of e.ns) void db.remove(keyOf('userSysMsg', ctx.address, n));
  }
}

/** The counters row, once per batch that changed the store. */
export function persistSysMsgMeta(state: WithSysMsgs, ctx: ActorContext): void {
  void ctx.store.db('user-meta').put(keyOf('userMeta', ctx.address, META), state.sysmsgs);
}

/** Unacknowledged notifications per type. */
export function unreadOf(state: WithSysMsgs): SysMsgUnread {
  const out = { total: 0 } as SysMsgUnread;
  for (const type of SYSMSG_TYPES) out[type] = 0;
  for (const e of state.sysmsgs.entries) {
    if (!e.counted) continue;
    out[e.type as keyof SysMsgUnread]++;
    out.total++;
  }
  return out;
}

function frame(ev: string, d: unknown): Uint8Array {
  return encode({ ev, d });
}

/** Live deliveries of a batch: each posted notification, and the unread counts once when they changed. */
export function sysMsgEffects(state: WithSysMsgs, events: readonly SysMsgEvent[]): Effect[] {
  const out: Effect[] = [];
  let counts = false;
  for (const e of events) {
    if (e.t === 'sysmsgRead') {
      counts = true;
      continue;
    }
    const f = frame(e.msg.type === 'custom' ? 'customsysmsg' : 'sysmsg', e.msg);
    out.push(e.exclude === undefined ? { kind: 'deliver', account: state.account, frame: f } : { kind: 'deliver', account: state.account, frame: f, exclude: e.exclude });
    if (e.counted || e.drop.length > 0) counts = true;
  }
  if (counts) out.push({ kind: 'deliver', account: state.account, frame: frame('updatesysmsgunread', unreadOf(state)) });
  return out;
}

/** Arguments of one page of the login sync's notifications. */
export interface SysMsgSyncArgs {
  /** The device's `sysmsgs` cursor: stored custom notifications up to it are not sent. */
  since?: number;
  /** The `next` of the previous page. */
  after?: number;
  /** Most bytes of the page, when the caller needs less than the Bus carries. */
  maxBytes?: number;
}

/** One page: built-in notifications (every kept one), custom ones (past the cursor), and the unread counts. */
export interface SysMsgSyncPage {
  sysmsgs: SysMsg[];
  custom: CustomSysMsg[];
  unread: SysMsgUnread;
  next?: number;
}

/** A page of what a logging-in device gets from the store, oldest first, bounded by bytes. */
export function sysMsgSyncPage(state: WithSysMsgs, a: SysMsgSyncArgs, ctx: ActorContext): SysMsgSyncPage {
  const budget = pageBudget(ctx, a.maxBytes);
  const since = typeof a.since === 'number' ? a.since : undefined;
  const after = typeof a.after === 'number' ? a.after : 0;
  const page: SysMsgSyncPage = { sysmsgs: [], custom: [], unread: unreadOf(state) };
  let bytes = encode(page.unread).byteLength;
  let taken = 0;
  for (const e of state.sysmsgs.entries) {
    if (e.n <= after) continue;
    const row = storedRow(ctx, e.n);
    if (row === undefined) continue;
    const msg = row.msg;
    if (msg.type === 'custom' && since !== undefined && msg.time <= since) continue;
    const size = encode(msg).byteLength;
    if (taken > 0 && bytes + size > budget) {
      page.next = e.n - 1;
      break;
    }
    if (msg.type === 'custom') page.custom.push(msg);
    else page.sysmsgs.push(msg);
    bytes += size;
    taken++;
  }
  return page;
}
