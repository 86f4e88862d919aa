/**
 * Collections over the wire with the SDK, in both modes: saving (with the
 * `uniqueId` upsert), changing only `custom`, deleting in batches, paging
 * by time both ways with `lastId`, the `type` filter and `total`; private
 * to the owner; the limits; and that they outlive an engine restart.
 */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { Collect } from '../../engine/protocol/methods.ts';
import { startEngine, tempDir, tokenFor } from '../helpers/engine.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';

let accountSeq = 0;
function account(name: string): string {
  return `${name}${++accountSeq}c${Date.now().toString(36)}`;
}

describeBothModes('collections', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  /** Saves `n` collections, each in a later millisecond than the one before (the pages are ordered by createTime). */
  async function saveMany(c: Awaited<ReturnType<typeof conns.client>>, n: number, type = (i: number) => i % 2): Promise<Collect[]> {
    const out: Collect[] = [];
    for (let i = 0; i < n; i++) {
      const prev = out.at(-1)?.createTime ?? 0;
      await waitFor('the clock moved past the previous collection', () => Date.now() > prev);
      out.push((await c.addCollect({ type: type(i), data: `data ${i}` })).collect);
    }
    return out;
  }

  it('adds, upserts by uniqueId, changes only custom, and deletes with a count', async () => {
    const me = account('me');
    const c = await conns.client(me);
    const { collect: a } = await c.addCollect({ type: 7, data: 'https://example.com/a', custom: '{"tag":1}' });
    expect(a).toEqual({ id: 1, type: 7, data: 'https://example.com/a', custom: '{"tag":1}', createTime: a.createTime, updateTime: a.createTime });
    const { collect: u } = await c.addCollect({ type: 7, data: 'first', uniqueId: 'u-1' });
    const { collect: again } = await c.addCollect({ type: 8, data: 'second', uniqueId: 'u-1', custom: 'c' });
    expect(again).toMatchObject({ id: u.id, type: 8, data: 'second', custom: 'c', uniqueId: 'u-1', createTime: u.createTime });
    expect(again.updateTime).toBeGreaterThanOrEqual(u.updateTime);
    expect(await c.getCollects({})).toMatchObject({ total: 2 });
    expect((await c.getCollects({ type: 8 })).collectList.map((x) => x.data)).toEqual(['second']);
    expect(await c.getCollects({ type: 7 })).toMatchObject({ total: 1, collectList: [{ id: a.id }] });

    // updateCollect changes custom only; leaving it out clears it.
    const { collect: changed } = await c.updateCollect({ id: a.id, createTime: a.createTime, custom: 'new', data: 'ignored', type: 99 } as never);
    expect(changed).toMatchObject({ id: a.id, type: 7, data: 'https://example.com/a', custom: 'new' });
    const { collect: cleared } = await c.updateCollect({ id: a.id });
    expect(cleared.custom).toBeUndefined();
    expect((await c.getCollects({ type: 7 })).collectList[0]).toEqual(cleared);

    expect(await c.deleteCollects([{ id: a.id }, { id: a.id }, { id: 999 }])).toEqual({ deleteCount: 1 });
    expect(await c.deleteCollects([{ id: a.id }])).toEqual({ deleteCount: 0 });
    expect(await c.getCollects({})).toMatchObject({ total: 1, collectList: [{ id: u.id }] });
    // The uniqueId still finds the one left; a deleted one's uniqueId is free again.
    expect((await c.addCollect({ type: 8, data: 'third', uniqueId: 'u-1' })).collect.id).toBe(u.id);
    expect(await c.deleteCollects([{ id: u.id }])).toEqual({ deleteCount: 1 });
    expect((await c.addCollect({ type: 8, data: 'fresh', uniqueId: 'u-1' })).collect.id).toBe(3);
    expect(await rejectionOf(c.updateCollect({ id: 999 }))).toMatchObject({ name: 'NOT_FOUND' });
  });

  it('pages newest first from endTime, or oldest first from beginTime, with lastId and the type filter', async () => {
    const me = account('me');
    const c = await conns.client(me);
    const saved = await saveMany(c, 7);
    const ids = (list: Collect[]) => list.map((x) => x.id);
    const all = await c.getCollects({});
    expect(all.total).toBe(7);
    expect(ids(all.collectList)).toEqual([7, 6, 5, 4, 3, 2, 1]);

    // Newest first, three at a time, each page continuing from the last one's time and id.
    const p1 = await c.getCollects({ limit: 3 });
    expect(ids(p1.collectList)).toEqual([7, 6, 5]);
    const last1 = p1.collectList.at(-1)!;
    const p2 = await c.getCollects({ limit: 3, endTime: last1.createTime, lastId: last1.id });
    expect(ids(p2.collectList)).toEqual([4, 3, 2]);
    // Oldest first from beginTime.
    const r1 = await c.getCollects({ limit: 3, reverse: true });
    expect(ids(r1.collectList)).toEqual([1, 2, 3]);
    const lastR = r1.collectList.at(-1)!;
    expect(ids((await c.getCollects({ limit: 3, reverse: true, beginTime: lastR.createTime, lastId: lastR.id })).collectList)).toEqual([4, 5, 6]);
    // A time window, and a type.
    const window = await c.getCollects({ beginTime: saved[2]!.createTime, endTime: saved[4]!.createTime });
    expect(ids(window.collectList)).toEqual([5, 4, 3]);
    expect(window.total).toBe(7);
    const odd = await c.getCollects({ type: 1, limit: 2 });
    expect(odd).toMatchObject({ total: 3 });
    expect(ids(odd.collectList)).toEqual([6, 4]);
    expect(ids((await c.getCollects({ type: 1, reverse: true })).collectList)).toEqual([2, 4, 6]);
    expect(await c.getCollects({ type: 42 })).toEqual({ collectList: [], total: 0 });
    expect((await c.getCollects({ beginTime: 10, endTime: 5 })).collectList).toEqual([]);
  });

  it('keeps collections private to their owner', async () => {
    const [me, other] = [account('me'), account('other')];
    const mine = await conns.client(me);
    const theirs = await conns.client(other);
    const { collect } = await mine.addCollect({ type: 1, data: 'secret' });
    expect(await theirs.getCollects({})).toEqual({ collectList: [], total: 0 });
    expect(await rejectionOf(theirs.updateCollect({ id: collect.id, custom: 'x' }))).toMatchObject({ name: 'NOT_FOUND' });
    expect(await theirs.deleteCollects([{ id: collect.id }])).toEqual({ deleteCount: 0 });
    expect((await mine.getCollects({})).collectList).toEqual([collect]);
  });

  it('refuses over-limit fields, wrong types and too many ids', async () => {
    const c = await conns.client(account('me'));
    const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
      [() => c.addCollect({ type: 1, data: 'x'.repeat(20481) }), 'TOO_LARGE', /`data` must be at most 20480 characters/],
      [() => c.addCollect({ type: 1, data: 'x', custom: 'c'.repeat(1025) }), 'TOO_LARGE', /`custom` must be at most 1024 characters/],
      [() => c.addCollect({ type: 1.5, data: 'x' }), 'BAD_REQUEST', /`type` must be an integer/],
      [() => c.addCollect({ type: '1' as never, data: 'x' }), 'BAD_REQUEST', /`type` must be an integer/],
      [() => c.addCollect({ type: 1 } as never), 'BAD_REQUEST', /`data` is required/],
      [() => c.updateCollect({ id: 1, custom: 'c'.repeat(1025) }), 'TOO_LARGE', /`collect.custom` must be at most 1024/],
      [() => c.updateCollect({ id: 'one' as never }), 'BAD_REQUEST', /`collect.id` must be an integer/],
      [() => c.deleteCollects(Array.from({ length: 101 }, (_, i) => ({ id: i + 1 }))), 'BAD_REQUEST', /`collectList` must have at most 100 items/],
      [() => c.deleteCollects([]), 'BAD_REQUEST', /`collectList` must have at least 1/],
      [() => c.getCollects({ limit: 101 }), 'BAD_REQUEST', /`limit` must be between 1 and 100/],
    ];
    for (const [attempt, name, pattern] of cases) {
      const err = await rejectionOf(attempt());
      expect(err, String(pattern)).toMatchObject({ name });
      expect(err.message).toMatch(pattern);
    }
    // 20480 characters exactly is allowed.
    expect((await c.addCollect({ type: 1, data: 'x'.repeat(20480), custom: 'c'.repeat(1024) })).collect.data).toHaveLength(20480);
  });
});

describe('collections after a restart', () => {
  it('keeps ids, counters and indexes across an engine restart', async () => {
    const dataDir = tempDir();
    const me = account('me');
    let engine: Awaited<ReturnType<typeof startEngine>> | undefined;
    try {
      engine = await startEngine({ dataDir });
      let c = await connect({ url: engine.url, token: await tokenFor(me), WebSocket });
      await c.addCollect({ type: 3, data: 'a', uniqueId: 'k' });
      await c.addCollect({ type: 4, data: 'b' });
      await c.disconnect();
      await engine.stop();
      engine = undefined;
      engine = await startEngine({ dataDir });
      c = await connect({ url: engine.url, token: await tokenFor(me), WebSocket });
      expect(await c.getCollects({ type: 3 })).toMatchObject({ total: 1, collectList: [{ id: 1, data: 'a' }] });
      expect((await c.addCollect({ type: 3, data: 'a2', uniqueId: 'k' })).collect.id).toBe(1);
      expect((await c.addCollect({ type: 5, data: 'c' })).collect.id).toBe(3);
      expect((await c.getCollects({})).total).toBe(3);
      await c.disconnect();
    } finally {
      await engine?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
