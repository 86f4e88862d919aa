/**
 * State store keys (engine/keys.ts) over random and adversarial identifiers:
 * NUL and other low bytes, `|`, 64+ characters, strings that are prefixes of
 * one another or that split one text at different places, lone and paired
 * surrogates, the empty string. Two different (kind, parts) tuples never
 * share a key, a key decodes back to its parts, and a range over one owner —
 * in a real LMDB database — returns that owner's rows and nothing else. The
 * embedded Log's keys are checked alongside: subjects made from the same
 * identifiers never read each other's entries, and other subjects are refused.
 * Bounded and seeded: a failure reproduces.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_KINDS, decodeKey, keyOf, rangeOf, type KeyKind, type StoreKey } from '../../engine/keys.ts';
import { StateStore } from '../../engine/store.ts';
import { LmdbLog } from '../../engine/log/lmdb-log.ts';
import { logSubject, partitionOf } from '../../engine/subjects.ts';
import { recentKey } from '../../actors/conversation/logic.ts';
import { tempDir } from '../helpers/engine.ts';

const SEED = 0x6b657973;
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Code units that break naive encodings: NUL and escapes, separators, surrogate halves, multi-byte text. */
const nasty = fc.constantFrom('\u0000', '\u0001', '\u0004', '\u001b', '|', ':', '.', '~', '\uffff', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', 'é', '\u0080', '\u07ff', '\u0800', 'x', 'a', '');
const unit = fc.oneof({ weight: 3, arbitrary: nasty }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 2 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
/** An identifier: short, around the 64-character boundary, or long. */
const ident = fc.oneof(
  fc.string({ unit, maxLength: 8 }),
  fc.string({ unit, minLength: 60, maxLength: 80 }),
  fc.tuple(fc.string({ unit, maxLength: 4 }), fc.integer({ min: 60, max: 140 })).map(([s, n]) => s + 'x'.repeat(n)),
);
const int = fc.oneof(fc.constantFrom(0, 1, 255, 256, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER), fc.nat(), fc.maxSafeNat());

const kinds = Object.keys(KEY_KINDS) as KeyKind[];

type Tuple = { kind: KeyKind; parts: (string | number)[] };

function partsFor(kind: KeyKind, strings: string[], ints: number[]): (string | number)[] {
  let s = 0;
  let n = 0;
  return KEY_KINDS[kind].parts.map((t) => (t === 'str' ? strings[s++ % strings.length]! : ints[n++ % ints.length]!));
}

/** A tuple of any kind from free identifiers. */
const tuple: fc.Arbitrary<Tuple> = fc
  .record({ kind: fc.constantFrom(...kinds), strings: fc.array(ident, { minLength: 3, maxLength: 3 }), ints: fc.array(int, { minLength: 2, maxLength: 2 }) })
  .map(({ kind, strings, ints }) => ({ kind, parts: partsFor(kind, strings, ints) }));

/**
 * Two tuples of one kind built from one text: either cut at different places
 * (what plain concatenation collides on) or split at different NULs that are
 * dropped (what an unescaped NUL separator collides on).
 */
const splitPair: fc.Arbitrary<[Tuple, Tuple]> = fc
  .record({
    kind: fc.constantFrom<KeyKind>('convIdClient', 'userSession', 'outbox'),
    segments: fc.array(ident, { minLength: 2, maxLength: 5 }),
    dropSeparators: fc.boolean(),
    cuts: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    ints: fc.array(int, { minLength: 2, maxLength: 2 }),
  })
  .map(({ kind, segments, dropSeparators, cuts, ints }) => {
    const count = KEY_KINDS[kind].parts.filter((t) => t === 'str').length;
    const text = segments.join('\u0000');
    const split = (at: number[]): string[] => {
      const out: string[] = [];
      if (dropSeparators) {
        // Segments i..j joined by NUL make one part; the NULs between parts are dropped.
        const points = [...new Set(at.slice(0, count - 1).map((c) => 1 + (c % (segments.length - 1))))].sort((x, y) => x - y);
        let from = 0;
        for (const p of points) {
          out.push(segments.slice(from, p).join('\u0000'));
          from = p;
        }
        out.push(segments.slice(from).join('\u0000'));
        while (out.length < count) out.push('');
        return out;
      }
      const points = at.slice(0, count - 1).map((c) => c % (text.length + 1)).sort((x, y) => x - y);
      let from = 0;
      for (const p of points) {
        out.push(text.slice(from, p));
        from = p;
      }
      out.push(text.slice(from));
      return out;
    };
    return [
      { kind, parts: partsFor(kind, split(cuts.slice(0, 2)), ints) },
      { kind, parts: partsFor(kind, split(cuts.slice(2)), ints) },
    ];
  });

function key(t: Tuple): StoreKey {
  return (keyOf as (kind: KeyKind, ...parts: (string | number)[]) => StoreKey)(t.kind, ...t.parts);
}

function same(a: Tuple, b: Tuple): boolean {
  return a.kind === b.kind && a.parts.length === b.parts.length && a.parts.every((p, i) => p === b.parts[i]);
}

function inRange(k: Uint8Array, range: { start: Uint8Array; end: Uint8Array }): boolean {
  return Buffer.compare(range.start, k) <= 0 && Buffer.compare(k, range.end) < 0;
}

describe('state store keys', () => {
  it('give two different tuples two different keys, also when their strings split one text differently', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(tuple, tuple), splitPair), ([a, b]) => {
        expect(Buffer.compare(key(a), key(b)) === 0).toBe(same(a, b));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('decode back to their parts, and only as their own kind', () => {
    fc.assert(
      fc.property(tuple, fc.constantFrom(...kinds), (t, other) => {
        const k = key(t);
        expect(decodeKey(t.kind, k)).toEqual(t.parts);
        if (other !== t.kind) expect(() => decodeKey(other, k)).toThrow(/malformed/);
        // A cut or extended key is not a key of the kind.
        expect(() => decodeKey(t.kind, k.subarray(0, k.length - 1))).toThrow(/malformed/);
        expect(() => decodeKey(t.kind, Buffer.concat([k, Buffer.from([0])]))).toThrow(/malformed/);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('put a key inside the range of its own owner and kind only', () => {
    fc.assert(
      fc.property(tuple, ident, fc.constantFrom(...kinds), (t, owner, kind) => {
        const k = key(t);
        expect(inRange(k, rangeOf(t.kind, t.parts[0] as string))).toBe(true);
        expect(inRange(k, rangeOf(t.kind))).toBe(true);
        expect(inRange(k, rangeOf(kind, owner))).toBe(kind === t.kind && owner === t.parts[0]);
        if (kind !== t.kind) expect(inRange(k, rangeOf(kind))).toBe(false);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('order integer parts numerically within one owner', () => {
    fc.assert(
      fc.property(ident, int, int, (owner, x, y) => {
        const order = Math.sign(Buffer.compare(keyOf('convMsg', owner, x), keyOf('convMsg', owner, y)));
        expect(order).toBe(Math.sign(x - y));
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('refuse parts of the wrong type and integers that are negative or unsafe', () => {
    const loose = keyOf as (kind: KeyKind, ...parts: unknown[]) => StoreKey;
    expect(() => loose('convMsg', 'conv:a|b', -1)).toThrow(/convMsg key part 1/);
    expect(() => loose('convMsg', 'conv:a|b', 1.5)).toThrow(/convMsg key part 1/);
    expect(() => loose('convMsg', 'conv:a|b', 2 ** 53)).toThrow(/convMsg key part 1/);
    expect(() => loose('convMsg', 7, 1)).toThrow(/convMsg key part 0 must be a string/);
    expect(() => loose('snapshot', 'user:a', 'extra')).toThrow(/takes 1 parts/);
    expect(() => loose('snapshot', 'x'.repeat(0x10000))).toThrow(/more than 65535/);
  });

  it('are made alike whether their owner’s encoding is kept, newly made or made again after the table was emptied', () => {
    // What keyOf made for each owner the first time, set beside what it makes after 5,000 other owners went by.
    const owners = ['conv:a|b', 'conv:\u0000|\ud800', 'user:ünï', ''];
    const first = owners.map((o) => Buffer.from(keyOf('convThread', o, 3, 9)));
    for (let i = 0; i < 5000; i++) keyOf('convThread', `conv:filler-${i}`, 1, 2);
    owners.forEach((o, i) => {
      const again = keyOf('convThread', o, 3, 9);
      expect(Buffer.from(again).equals(first[i]!)).toBe(true);
      expect(decodeKey('convThread', again)).toEqual([o, 3, 9]);
      // Each key has bytes of its own: changing one changes no other.
      again[again.length - 1] = 0;
      expect(Buffer.from(keyOf('convThread', o, 3, 9)).equals(first[i]!)).toBe(true);
    });
    // One owner under two kinds keeps each kind's tag.
    expect(keyOf('convMsg', 'conv:a|b', 1)[0]).toBe(KEY_KINDS.convMsg.tag);
    expect(keyOf('convPin', 'conv:a|b', 1)[0]).toBe(KEY_KINDS.convPin.tag);
  });

  it('in a real LMDB database, a range over one owner returns exactly that owner’s rows', async () => {
    const dir = tempDir('parley-keys-');
    dirs.push(dir);
    const store = new StateStore(dir);
    const db = store.db<number>('prop');
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(ident, { minLength: 2, maxLength: 6 }),
          fc.array(fc.tuple(fc.nat(), ident), { minLength: 1, maxLength: 12 }),
          async (owners, rows) => {
            // Emptied first: each run sees only its own rows.
            await db.clearAsync();
            const expected = new Map<string, Set<string>>(owners.map((o) => [o, new Set()]));
            await store.transaction(() => {
              for (const [pick, id] of rows) {
                const owner = owners[pick % owners.length]!;
                expected.get(owner)!.add(id);
                // The value names the owner by position (msgpack values do not keep lone surrogates; keys do).
                void db.put(keyOf('userSession', owner, id), owners.indexOf(owner));
                // Rows of other kinds for the same owner and id sit in the same database.
                void db.put(keyOf('convIdClient', owner, id, ''), -1);
              }
            });
            for (const owner of owners) {
              const got: string[] = [];
              for (const { key: k, value } of db.getRange(rangeOf('userSession', owner))) {
                const [o, id] = decodeKey('userSession', k);
                expect(o).toBe(owner);
                expect(value).toBe(owners.indexOf(owner));
                got.push(id);
              }
              expect(new Set(got)).toEqual(expected.get(owner));
              expect(got).toHaveLength(expected.get(owner)!.size);
            }
          },
        ),
        { seed: SEED, numRuns: 150 },
      );
    } finally {
      await store.close();
    }
  });
});

describe('in-memory resend keys', () => {
  it('tell every (from, idClient) pair apart, also when one text is split differently', () => {
    const pair = fc.oneof(
      fc.tuple(fc.tuple(ident, ident), fc.tuple(ident, ident)),
      splitPair.filter(([a]) => a.kind === 'userSession').map(([a, b]) => [a.parts, b.parts] as [[string, string], [string, string]]),
    );
    fc.assert(
      fc.property(pair, ([[f1, c1], [f2, c2]]) => {
        expect(recentKey(f1, c1) === recentKey(f2, c2)).toBe(f1 === f2 && c1 === c2);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });
});

describe('embedded Log keys', () => {
  it('subjects made from any identifiers never read one another’s entries', async () => {
    const dir = tempDir('parley-log-keys-');
    dirs.push(dir);
    const log = new LmdbLog(join(dir, 'log'));
    try {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(ident, { minLength: 2, maxLength: 5 }), async (ids) => {
          const tag = `r${++run}`;
          // Identifiers that are prefixes of one another stay prefixes in their addresses.
          const subjects = ids.map((id) => {
            const address = `user:${tag}${id}`;
            return logSubject(address, partitionOf(address, 8));
          });
          expect(new Set(subjects).size).toBe(subjects.length);
          for (const [i, s] of subjects.entries()) {
            for (let n = 0; n <= i; n++) await log.append(s, Buffer.from(`${i}:${n}`), n);
          }
          for (const [i, s] of subjects.entries()) {
            expect(await log.lastSeq(s)).toBe(i + 1);
            const entries = await log.read(s, 1, 100);
            expect(entries.map((e) => Buffer.from(e.data).toString())).toEqual(Array.from({ length: i + 1 }, (_, n) => `${i}:${n}`));
          }
        }),
        { seed: SEED, numRuns: 60 },
      );

      for (const bad of ['parley.log.1.user.a\u0000b', `parley.log.1.user.${'x'.repeat(70)}\u0000y`, 'parley.log.1.user.\ud800', 'parley.log.1.user.é', 'parley log', '', 'parley.log.*.user.a', 'parley.log.>']) {
        await expect(log.append(bad, Buffer.from('x'), 0)).rejects.toMatchObject({ name: 'BAD_REQUEST' });
        await expect(log.read(bad, 1)).rejects.toMatchObject({ name: 'BAD_REQUEST' });
        await expect(log.lastSeq(bad)).rejects.toMatchObject({ name: 'BAD_REQUEST' });
        await expect(log.append('parley.log.1.user.ok', Buffer.from('x'), 0, bad)).rejects.toMatchObject({ name: 'BAD_REQUEST' });
      }
      expect(await log.lastSeq('parley.log.1.user.ok')).toBe(0);
    } finally {
      await log.close();
    }
  });
});
