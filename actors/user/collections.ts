/**
 * The account's collections (bookmarks), kept by its user actor: rows in
 * LMDB with an index by time, one by type and time, and one by `uniqueId`;
 * in memory only the counters (the last id given, how many are saved in
 * all and per type), kept in the `user-meta` row. Every method reads rows,
 * so the actor commits what it holds pending before each.
 *
 * LMDB rows (keys from engine/keys.ts), all in `user-collects`:
 * `userCollect(address, id) → Collect`, `userCollectTime(address,
 * createTime, id) → type`, `userCollectType(address, type + 2^31,
 * createTime, id) → 1`, `userCollectUnique(address, uniqueId) → id`; and
 * `user-meta userMeta(address, 'collects') → CollectState`.
 */
import type { ActorContext } from '../../engine/actor/behavior.ts';
import { keyOf } from '../../engine/keys.ts';
import type { Args, Collect } from '../../engine/protocol/methods.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';

/** The counters, in memory and in the `user-meta` row. */
export interface CollectState {
  /** The last id given. */
  next: number;
  total: number;
  /** Saved collections per type, as `[type, count]` pairs with a count above 0. */
  byType: [number, number][];
}

export interface WithCollects {
  collects: CollectState;
}

/** Where a collection sits in the indexes. */
interface Placed {
  id: number;
  type: number;
  createTime: number;
  uniqueId?: string;
}

export type CollectEvent =
  /** A collection saved or changed; `prev` is where it was before a change. */
  | { t: 'collectPut'; collect: Collect; prev?: Placed }
  | { t: 'collectsDelete'; gone: Placed[] };

const META = 'collects';
const DB = 'user-collects';
const TYPE_OFFSET = 2 ** 31;
const MAX_ID = Number.MAX_SAFE_INTEGER;

export function loadCollects(ctx: ActorContext): CollectState {
  const meta = ctx.store.db('user-meta').get(keyOf('userMeta', ctx.address, META)) as CollectState | undefined;
  return meta === undefined ? { next: 0, total: 0, byType: [] } : { next: meta.next, total: meta.total, byType: meta.byType.map(([t, n]) => [t, n]) };
}

function row(ctx: ActorContext, id: number): Collect | undefined {
  return ctx.store.db(DB).get(keyOf('userCollect', ctx.address, id)) as Collect | undefined;
}

function placed(c: Collect): Placed {
  const p: Placed = { id: c.id, type: c.type, createTime: c.createTime };
  if (c.uniqueId !== undefined) p.uniqueId = c.uniqueId;
  return p;
}

/** `addCollect`: a new collection, or the one saved with the same `uniqueId` changed. */
export function decideAdd(state: WithCollects, a: Args<'addCollect'>, now: number, ctx: ActorContext): { collect: Collect; events: CollectEvent[] } {
  if (a.uniqueId !== undefined) {
    const id = ctx.store.db(DB).get(keyOf('userCollectUnique', ctx.address, a.uniqueId)) as number | undefined;
    const old = id === undefined ? undefined : row(ctx, id);
    if (old !== undefined) {
      const collect: Collect = { id: old.id, type: a.type, data: a.data, uniqueId: a.uniqueId, createTime: old.createTime, updateTime: Math.max(now, old.updateTime) };
      if (a.custom !== undefined) collect.custom = a.custom;
      return { collect, events: [{ t: 'collectPut', collect, prev: placed(old) }] };
    }
  }
  const collect: Collect = { id: state.collects.next + 1, type: a.type, data: a.data, createTime: now, updateTime: now };
  if (a.custom !== undefined) collect.custom = a.custom;
  if (a.uniqueId !== undefined) collect.uniqueId = a.uniqueId;
  return { collect, events: [{ t: 'collectPut', collect }] };
}

/** `updateCollect`: only `custom` changes; absent clears it. */
export function decideUpdate(a: Args<'updateCollect'>, now: number, ctx: ActorContext): { collect: Collect; events: CollectEvent[] } {
  const old = row(ctx, a.collect.id);
  if (old === undefined) throw new ParleyError('NOT_FOUND', `no collection with \`collect.id\` ${a.collect.id}`);
  const { custom: _old, ...rest } = old;
  const collect: Collect = { ...rest, updateTime: Math.max(now, old.updateTime) };
  if (a.collect.custom !== undefined) collect.custom = a.collect.custom;
  if (collect.custom === old.custom) return { collect: old, events: [] };
  return { collect, events: [{ t: 'collectPut', collect, prev: placed(old) }] };
}

/** `deleteCollects`: the ids saved, once each. */
export function decideDelete(a: Args<'deleteCollects'>, ctx: ActorContext): { deleteCount: number; events: CollectEvent[] } {
  const gone: Placed[] = [];
  const seen = new Set<number>();
  for (const { id } of a.collectList) {
    if (seen.has(id)) continue;
    seen.add(id);
    const old = row(ctx, id);
    if (old !== undefined) gone.push(placed(old));
  }
  return { deleteCount: gone.length, events: gone.length === 0 ? [] : [{ t: 'collectsDelete', gone }] };
}

function count(state: WithCollects, type: number, by: number): void {
  const c = state.collects;
  c.total += by;
  const at = c.byType.findIndex(([t]) => t === type);
  if (at === -1) {
    if (by > 0) c.byType.push([type, by]);
    return;
  }
  const n = c.byType[at]![1] + by;
  if (n > 0) c.byType[at] = [type, n];
  else c.byType.splice(at, 1);
}

export function applyCollectEvent(state: WithCollects, e: CollectEvent): void {
  if (e.t === 'collectPut') {
    if (e.prev === undefined) {
      if (e.collect.id <= state.collects.next) return;
      state.collects.next = e.collect.id;
      count(state, e.collect.type, 1);
    } else if (e.prev.type !== e.collect.type) {
      count(state, e.prev.type, -1);
      count(state, e.collect.type, 1);
    }
    return;
  }
  for (const g of e.gone) count(state, g.type, -1);
}

function unplace(ctx: ActorContext, p: Placed): void {
  const db = ctx.store.db(DB);
  void db.remove(keyOf('userCollectTime', ctx.address, p.createTime, p.id));
  void db.remove(keyOf('userCollectType', ctx.address, p.type + TYPE_OFFSET, p.createTime, p.id));
  if (p.uniqueId !== undefined) void db.remove(keyOf('userCollectUnique', ctx.address, p.uniqueId));
}

export function persistCollectEvent(e: CollectEvent, ctx: ActorContext): void {
  const db = ctx.store.db(DB);
  if (e.t === 'collectsDelete') {
    for (const g of e.gone) {
      unplace(ctx, g);
      void db.remove(keyOf('userCollect', ctx.address, g.id));
    }
    return;
  }
  const c = e.collect;
  if (e.prev !== undefined) unplace(ctx, e.prev);
  void db.put(keyOf('userCollect', ctx.address, c.id), c);
  void db.put(keyOf('userCollectTime', ctx.address, c.createTime, c.id), c.type);
  void db.put(keyOf('userCollectType', ctx.address, c.type + TYPE_OFFSET, c.createTime, c.id), 1);
  if (c.uniqueId !== undefined) void db.put(keyOf('userCollectUnique', ctx.address, c.uniqueId), c.id);
}

export function persistCollectMeta(state: WithCollects, ctx: ActorContext): void {
  void ctx.store.db('user-meta').put(keyOf('userMeta', ctx.address, META), state.collects);
}

/**
 * `getCollects`: by (createTime, id) through the time index, or the type
 * index when `type` is given. Newest first from `endTime` (ids below
 * `lastId` at that time), or with `reverse` oldest first from `beginTime`
 * (ids above `lastId` at that time).
 */
export function collectsPage(state: WithCollects, a: Args<'getCollects'>, now: number, ctx: ActorContext): { collectList: Collect[]; total: number } {
  const db = ctx.store.db(DB);
  const end = a.endTime === 0 ? now : a.endTime;
  const total = a.type === undefined ? state.collects.total : (state.collects.byType.find(([t]) => t === a.type)?.[1] ?? 0);
  if (end < a.beginTime) return { collectList: [], total };
  const at = (t: number, id: number) =>
    a.type === undefined ? keyOf('userCollectTime', ctx.address, t, id) : keyOf('userCollectType', ctx.address, a.type + TYPE_OFFSET, t, id);
  // lmdb-js ranges: `start` inclusive, `end` exclusive; reversed, `start` is the upper bound.
  const range = a.reverse
    ? { start: at(a.beginTime, a.lastId === undefined ? 0 : Math.min(MAX_ID, a.lastId + 1)), end: at(end, MAX_ID) }
    : { start: at(end, a.lastId === undefined ? MAX_ID : a.lastId - 1), end: at(a.beginTime, 0), reverse: true };
  const collectList: Collect[] = [];
  for (const key of db.getKeys({ ...range, limit: a.limit })) {
    const id = idOfIndexKey(key as Uint8Array);
    const c = row(ctx, id);
    if (c !== undefined) collectList.push(c);
  }
  return { collectList, total };
}

/** The collection id: the last 8 bytes of either index key. */
function idOfIndexKey(key: Uint8Array): number {
  const b = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return b.readUInt32BE(b.length - 8) * 0x1_0000_0000 + b.readUInt32BE(b.length - 4);
}
