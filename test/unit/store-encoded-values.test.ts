import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decode, encode } from '../../engine/protocol/codec.ts';
import { keyOf } from '../../engine/keys.ts';
import { StateStore, encodedValue } from '../../engine/store.ts';

describe('rows written as the codec\'s bytes', () => {
  let dir: string;
  let store: StateStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-store-encoded-'));
    store = new StateStore(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const row = { seq: 7, from: 'alice', to: 'bob', time: 1_764_654_000_123, text: 'hi', ratio: 0.5, flags: [1, 'two', { three: true }], ext: { a: null, nested: { deep: [] } }, none: undefined };

  for (const name of ['conv-msgs', 'user-sessions', 'outbox']) {
    it(`${name}: a row put as encoded bytes reads back as decode makes it, beside one lmdb-js encoded`, async () => {
      const db = store.db(name);
      await store.transaction(() => {
        void db.put(keyOf('convMsg', 'p2p:alice|bob', 1), encodedValue(encode(row)));
        void db.put(keyOf('convMsg', 'p2p:alice|bob', 2), row);
      });
      const raw = db.get(keyOf('convMsg', 'p2p:alice|bob', 1));
      expect(raw).toStrictEqual(decode(encode(row)));
      expect(Object.getPrototypeOf(raw)).toBe(Object.prototype);
      expect(db.get(keyOf('convMsg', 'p2p:alice|bob', 2))).toEqual(row);
    });
  }

  it('other databases keep reading a map written by lmdb-js as a Map', async () => {
    const db = store.db('conv-pins');
    await store.transaction(() => void db.put(keyOf('convMsg', 'p2p:alice|bob', 1), new Map([['a', 1]])));
    expect(db.get(keyOf('convMsg', 'p2p:alice|bob', 1))).toEqual(new Map([['a', 1]]));
  });
});
