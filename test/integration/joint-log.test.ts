/**
 * The embedded Log kept in the state store's environment: an entry and the
 * rows written with it (`appendWith`) commit together or not at all, survive
 * a reopen, and a Log from the earlier layout (its own environment in
 * `<dataDir>/log`) is adopted with its positions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AlongsideWriteError, LmdbLog, adoptSeparateLog } from '../../engine/log/lmdb-log.ts';
import { LogConflictError } from '../../engine/log/log.ts';
import { StateStore } from '../../engine/store.ts';
import { keyOf } from '../../engine/keys.ts';
import { tempDir } from '../helpers/engine.ts';

const SUBJECT = 'parley.log.0.conv.a';
const FENCE = 'parley.fence.0';
const dirs: string[] = [];
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function openJoint(dir: string): { store: StateStore; log: LmdbLog } {
  const store = new StateStore(dir, { syncCommits: true });
  const log = LmdbLog.sharing(store.env);
  closers.push(() => store.close());
  closers.push(() => log.close());
  return { store, log };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe('the Log in the state environment', () => {
  it('commits an entry with its rows, and keeps both across a reopen', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { store, log } = openJoint(dir);
    expect(log.shares(store.root)).toBe(true);
    const rows = store.db('rows');
    const fence = await log.append(FENCE, bytes('fence'), 0);
    const seq = await log.appendWith(SUBJECT, bytes('first'), fence, FENCE, (at) => void rows.put(keyOf('snapshot', `a/${at}`), { at }));
    expect(seq).toBe(1);
    expect(rows.get(keyOf('snapshot', `a/${1}`))).toEqual({ at: 1 });
    await log.close();
    await store.close();
    closers.length = 0;

    const again = openJoint(dir);
    expect((await again.log.read(SUBJECT, 1)).map((e) => [e.seq, text(e.data)])).toEqual([[1, 'first']]);
    expect(again.store.db('rows').get(keyOf('snapshot', `a/${1}`))).toEqual({ at: 1 });
    expect(await again.log.appendWith(SUBJECT, bytes('second'), fence, FENCE, () => {})).toBe(2);
  });

  it('rolls the entry back with rows that fail, and stays usable', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { store, log } = openJoint(dir);
    const rows = store.db('rows');
    const failing = log.appendWith(SUBJECT, bytes('lost'), 0, SUBJECT, (at) => {
      void rows.put(keyOf('snapshot', `a/${at}`), 'half');
      throw new Error('a row could not be made');
    });
    await expect(failing).rejects.toBeInstanceOf(AlongsideWriteError);
    expect(await log.read(SUBJECT, 1)).toEqual([]);
    expect(rows.get(keyOf('snapshot', `a/${1}`))).toBeUndefined();
    expect(await log.lastSeq(SUBJECT)).toBe(0);
    expect(await log.appendWith(SUBJECT, bytes('kept'), 0, SUBJECT, (at) => void rows.put(keyOf('snapshot', `a/${at}`), 'whole'))).toBe(1);
    expect(rows.get(keyOf('snapshot', `a/${1}`))).toBe('whole');
  });

  it('refuses a stale expectation without writing its rows', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const { store, log } = openJoint(dir);
    const rows = store.db('rows');
    const fence = await log.append(FENCE, bytes('one'), 0);
    await log.append(FENCE, bytes('two'), fence);
    let ran = false;
    await expect(log.appendWith(SUBJECT, bytes('stale'), fence, FENCE, () => (ran = true))).rejects.toBeInstanceOf(LogConflictError);
    expect(ran).toBe(false);
    expect(await log.read(SUBJECT, 1)).toEqual([]);
    expect([...rows.getKeys()]).toEqual([]);
  });

  it('adopts a Log from its own environment with its positions, then keeps appending after them', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const legacyDir = join(dir, 'log');
    const legacy = new LmdbLog(legacyDir);
    // More records than one copy transaction takes, appended in one batch.
    const counts = new Map<string, number>();
    const appends: Promise<number>[] = [];
    for (let i = 0; i < 2500; i++) {
      const subject = `parley.log.${i % 3}.conv.b${i % 7}`;
      const last = counts.get(subject) ?? 0;
      counts.set(subject, last + 1);
      appends.push(legacy.append(subject, bytes(`entry ${i}`), last));
    }
    await Promise.all(appends);
    const fence = await legacy.append(FENCE, bytes('fence'), 0);
    const before = await legacy.read('parley.log.1.conv.b1', 1, 5000);
    const recent = await legacy.recentSubjects('parley.log.1.*.*', 60_000, 100);
    await legacy.close();

    const { log } = openJoint(dir);
    const adopted = await adoptSeparateLog(legacyDir, log);
    expect(adopted?.records).toBeGreaterThan(2500);
    expect(existsSync(legacyDir)).toBe(false);
    expect(existsSync(adopted!.keptAt)).toBe(true);
    const after = await log.read('parley.log.1.conv.b1', 1, 5000);
    expect(after.map((e) => [e.seq, text(e.data)])).toEqual(before.map((e) => [e.seq, text(e.data)]));
    expect((await log.recentSubjects('parley.log.1.*.*', 60_000, 100)).sort()).toEqual(recent.sort());
    const last = await log.lastSeq('parley.log.1.conv.b1');
    expect(last).toBe(before.at(-1)!.seq);
    expect(await log.appendWith('parley.log.1.conv.b1', bytes('new'), fence, FENCE, () => {})).toBe(last + 1);
    // Nothing left to adopt at the next start.
    expect(await adoptSeparateLog(legacyDir, log)).toBeUndefined();
  });
});
