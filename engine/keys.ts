/**
 * Every key of the actor state store (LMDB), built from typed parts.
 *
 * A key is one tag byte naming its kind, then its parts in declared order:
 * a string is a big-endian uint16 byte length followed by the string in
 * generalised UTF-8 (WTF-8: lone surrogates keep their own three bytes, so
 * every JavaScript string has exactly one encoding); an integer is 8 bytes
 * big-endian. Each part knows where it ends, whatever bytes an identifier
 * holds (NUL, `|`, 64+ characters, surrogates, nothing), so two different
 * tuples never share a key and no key of one owner falls inside another
 * owner's range. LMDB compares keys bytewise: within one owner, integer parts
 * sort numerically (`seq` ascending).
 *
 * The first part of every kind is its owner, the address of the actor whose
 * rows they are; `rangeOf(kind, owner)` covers exactly that owner's rows.
 */

declare const storeKeyBrand: unique symbol;
/** A key made by this module; the state store's databases take no other. */
export type StoreKey = Buffer & { readonly [storeKeyBrand]: true };

type PartType = 'str' | 'uint';
type PartValue<P extends PartType> = P extends 'str' ? string : number;
type Values<Ps extends readonly PartType[]> = { -readonly [I in keyof Ps]: PartValue<Ps[I]> };

/** The kinds of row, their tag byte and their parts (the first is the owner). */
export const KEY_KINDS = {
  /** `conv-msgs`: conversation address, seq → stored message. */
  convMsg: { tag: 0x01, parts: ['str', 'uint'] },
  /** `conv-idc`: conversation address, sender, idClient → seq. */
  convIdClient: { tag: 0x02, parts: ['str', 'str', 'str'] },
  /** `user-sessions`: user address, session id → session row. */
  userSession: { tag: 0x03, parts: ['str', 'str'] },
  /** `snapshots`: actor address → snapshot. */
  snapshot: { tag: 0x04, parts: ['str'] },
  /** `outbox`: calling actor's address, node id, ms, counter → call effect. */
  outbox: { tag: 0x05, parts: ['str', 'str', 'uint', 'uint'] },
  /** `conv-pins`: conversation address, seq of the pinned message → pin. */
  convPin: { tag: 0x21, parts: ['str', 'uint'] },
  /** `conv-comments`: conversation address, seq of the message → its quick comments. */
  convComments: { tag: 0x22, parts: ['str', 'uint'] },
  /** `conv-threads`: conversation address, seq of the thread's root, seq of a reply → 1. */
  convThread: { tag: 0x23, parts: ['str', 'uint', 'uint'] },
  /** `conv-cleared`: conversation address, member → how far that member cleared their history. */
  convCleared: { tag: 0x24, parts: ['str', 'str'] },
  /** `user-conv-changes`: user address, time of the change, its name within that time → a pin, quick comment or clear change for login sync. */
  userConvChange: { tag: 0x25, parts: ['str', 'uint', 'str'] },
  /** `user-sysmsgs`: user address, number in the account's store → stored system notification. */
  userSysMsg: { tag: 0x40, parts: ['str', 'uint'] },
  /** `user-meta`: user address, part name (`sysmsgs`, `collects`) → that part's counters. */
  userMeta: { tag: 0x41, parts: ['str', 'str'] },
  /** `user-self-deletes`: user address, time hidden, session id, message idServer → a message hidden for self. */
  userSelfDelete: { tag: 0x42, parts: ['str', 'uint', 'str', 'str'] },
  /** `user-collects`: user address, collection id → collection. */
  userCollect: { tag: 0x43, parts: ['str', 'uint'] },
  /** `user-collects`: user address, createTime, collection id → type (the time index). */
  userCollectTime: { tag: 0x44, parts: ['str', 'uint', 'uint'] },
  /** `user-collects`: user address, type + 2^31, createTime, collection id → 1 (the index by type). */
  userCollectType: { tag: 0x45, parts: ['str', 'uint', 'uint', 'uint'] },
  /** `user-collects`: user address, uniqueId → collection id. */
  userCollectUnique: { tag: 0x46, parts: ['str', 'str'] },
  /** `user-people`: user address, table (`profile`, `blacklist`, `mutelist`, `blockedBy`, `friend`, `applyIn`, `applyOut`), key → row. */
  userPeople: { tag: 0x31, parts: ['str', 'str', 'str'] },
  /** `conv-relations`: conversation address, member → that member's marks on the other member. */
  convRelation: { tag: 0x32, parts: ['str', 'str'] },
  /** `team-members`: group address, account → member row. */
  teamMember: { tag: 0x50, parts: ['str', 'str'] },
  /** `team-pending`: group address, `invite` or `apply`, account → the open or answered invitation or request. */
  teamPending: { tag: 0x51, parts: ['str', 'str', 'str'] },
  /** `user-teams`: team index address, group address → the group as last reported. */
  userTeam: { tag: 0x52, parts: ['str', 'str'] },
  /** `team-receipts`: group address, idServer of a message sent with `needMsgReceipt` → who counts for it (receipts.ts). */
  teamReceiptMsg: { tag: 0x60, parts: ['str', 'str'] },
  /** `team-receipts`: group address, idServer, reader → the time of the receipt. */
  teamMsgRead: { tag: 0x61, parts: ['str', 'str', 'str'] },
  /** `webhook-feed`: feed name, position of an append in the order of all appends → `[Log subject, position in it, ms]` (the embedded feed's index). */
  webhookFeedIndex: { tag: 0x70, parts: ['str', 'uint'] },
  /** `webhooks`: feed name → the index position up to which every event was acknowledged or recorded dead. */
  webhookCursor: { tag: 0x71, parts: ['str'] },
  /** `webhooks`: `dead`, event id → the dead event and why it died. */
  webhookDead: { tag: 0x72, parts: ['str', 'str'] },
  /** `webhooks`: `replay`, event id → 1: a dead event asked to be sent again. */
  webhookReplay: { tag: 0x73, parts: ['str', 'str'] },
} as const satisfies Record<string, { tag: number; parts: readonly ['str', ...PartType[]] }>;

export type KeyKind = keyof typeof KEY_KINDS;
/** The parts of a key of `kind`, in order. */
export type KeyParts<K extends KeyKind> = Values<(typeof KEY_KINDS)[K]['parts']>;

/** Longest encoded string part, bytes (LMDB refuses keys over 1978 bytes long before this). */
const MAX_STRING_BYTES = 0xffff;

/** Bytes of `s` in WTF-8. */
function wtf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function writeWtf8(s: string, out: Buffer, at: number): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[at++] = c;
    } else if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      out[at++] = 0xf0 | (c >> 18);
      out[at++] = 0x80 | ((c >> 12) & 0x3f);
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    } else {
      out[at++] = 0xe0 | (c >> 12);
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    }
  }
  return at;
}

function malformed(kind: string, why: string): Error {
  return new Error(`malformed ${kind} key: ${why}`);
}

/** Reads `length` bytes of WTF-8 as written by writeWtf8; refuses any other byte sequence. */
function readWtf8(kind: string, key: Uint8Array, from: number, length: number): string {
  const end = from + length;
  const units: number[] = [];
  let i = from;
  const cont = (at: number) => {
    const b = key[at];
    if (at >= end || b === undefined || (b & 0xc0) !== 0x80) throw malformed(kind, `bad string byte at ${at}`);
    return b & 0x3f;
  };
  while (i < end) {
    const b = key[i]!;
    let c: number;
    if (b < 0x80) {
      c = b;
      i += 1;
    } else if (b >= 0xc2 && b < 0xe0) {
      c = ((b & 0x1f) << 6) | cont(i + 1);
      i += 2;
    } else if (b >= 0xe0 && b < 0xf0) {
      c = ((b & 0x0f) << 12) | (cont(i + 1) << 6) | cont(i + 2);
      if (c < 0x800) throw malformed(kind, `overlong string byte at ${i}`);
      i += 3;
    } else if (b >= 0xf0 && b < 0xf5) {
      c = ((b & 0x07) << 18) | (cont(i + 1) << 12) | (cont(i + 2) << 6) | cont(i + 3);
      if (c < 0x10000 || c > 0x10ffff) throw malformed(kind, `bad code point at ${i}`);
      i += 4;
      c -= 0x10000;
      units.push(0xd800 + (c >> 10));
      c = 0xdc00 + (c & 0x3ff);
    } else {
      throw malformed(kind, `bad string byte at ${i}`);
    }
    // A pair written as two three-byte halves is not what writeWtf8 makes.
    if ((c & 0xfc00) === 0xdc00 && b === 0xed && units.length > 0 && (units[units.length - 1]! & 0xfc00) === 0xd800) {
      throw malformed(kind, `split surrogate pair at ${i - 3}`);
    }
    units.push(c);
  }
  let s = '';
  for (let at = 0; at < units.length; at += 4096) s += String.fromCharCode(...units.slice(at, at + 4096));
  return s;
}

/**
 * The tag byte and owner part every key of one kind and owner starts with,
 * kept per kind: an actor's keys all start with its address, so it is
 * encoded once, not once per row. A table is emptied when full.
 */
const MAX_KEPT_OWNERS = 4096;
const ownerPrefixes: Array<Map<string, Uint8Array> | undefined> = [];

function ownerPrefix(kind: string, tag: number, owner: unknown): Uint8Array {
  if (typeof owner !== 'string') throw new TypeError(`${kind} key part 0 must be a string, got ${typeof owner}`);
  let table = ownerPrefixes[tag];
  if (table === undefined) ownerPrefixes[tag] = table = new Map();
  let prefix = table.get(owner);
  if (prefix === undefined) {
    const n = wtf8Length(owner);
    if (n > MAX_STRING_BYTES) throw new RangeError(`${kind} key part 0 is ${n} bytes long, more than ${MAX_STRING_BYTES}`);
    const out = Buffer.alloc(3 + n);
    out[0] = tag;
    out[1] = n >>> 8;
    out[2] = n & 0xff;
    writeWtf8(owner, out, 3);
    prefix = new Uint8Array(out); // a copy of its own: a kept prefix must not hold a slice of Buffer's shared pool
    if (table.size >= MAX_KEPT_OWNERS) table.clear();
    table.set(owner, prefix);
  }
  return prefix;
}

/** Checks the parts of a key after the owner and returns their size in bytes; throws on a part of the wrong type or size. */
function sizeOf(kind: string, types: readonly PartType[], parts: readonly unknown[], count: number): number {
  let size = 0;
  for (let i = 1; i < count; i++) {
    const v = parts[i];
    if (types[i] === 'str') {
      if (typeof v !== 'string') throw new TypeError(`${kind} key part ${i} must be a string, got ${typeof v}`);
      const n = wtf8Length(v);
      if (n > MAX_STRING_BYTES) throw new RangeError(`${kind} key part ${i} is ${n} bytes long, more than ${MAX_STRING_BYTES}`);
      size += 2 + n;
    } else {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
        throw new RangeError(`${kind} key part ${i} must be a non-negative safe integer, got ${String(v)}`);
      }
      size += 8;
    }
  }
  return size;
}

/** The key of `kind` from its first `count` parts (at least the owner). Two passes over the parts, no list or closure made: keys are made for every row written. */
function encode(kind: KeyKind, parts: readonly unknown[], count: number): StoreKey {
  const { tag, parts: types } = KEY_KINDS[kind];
  if (count === 0) return Buffer.from([tag]) as StoreKey;
  const prefix = ownerPrefix(kind, tag, parts[0]);
  const out = Buffer.allocUnsafe(prefix.byteLength + sizeOf(kind, types, parts, count));
  out.set(prefix, 0);
  let at = prefix.byteLength;
  for (let i = 1; i < count; i++) {
    if (types[i] === 'str') {
      const lengthAt = at;
      at = writeWtf8(parts[i] as string, out, at + 2);
      const n = at - lengthAt - 2;
      out[lengthAt] = n >>> 8;
      out[lengthAt + 1] = n & 0xff;
    } else {
      const v = parts[i] as number;
      const high = Math.floor(v / 0x1_0000_0000);
      const low = v >>> 0;
      out[at] = high >>> 24;
      out[at + 1] = (high >>> 16) & 0xff;
      out[at + 2] = (high >>> 8) & 0xff;
      out[at + 3] = high & 0xff;
      out[at + 4] = low >>> 24;
      out[at + 5] = (low >>> 16) & 0xff;
      out[at + 6] = (low >>> 8) & 0xff;
      out[at + 7] = low & 0xff;
      at += 8;
    }
  }
  return out as StoreKey;
}

/** The key of one row of `kind`. Throws on a part of the wrong type, a negative or unsafe integer, or a string over 64 KiB. */
export function keyOf<K extends KeyKind>(kind: K, ...parts: KeyParts<K>): StoreKey {
  const types = KEY_KINDS[kind].parts;
  if (parts.length !== types.length) throw new TypeError(`${kind} key takes ${types.length} parts, got ${parts.length}`);
  return encode(kind, parts, types.length);
}

/** A key range for lmdb-js `getRange`: `start` inclusive, `end` exclusive. */
export interface KeyRange {
  start: StoreKey;
  end: StoreKey;
}

/** The range holding exactly the rows of `kind` owned by `owner` (every row of the kind when `owner` is omitted). */
export function rangeOf(kind: KeyKind, owner?: string): KeyRange {
  const start = owner === undefined ? encode(kind, [], 0) : encode(kind, [owner], 1);
  // The least key above every key that starts with `start`: the prefix plus one, carrying.
  const end = Buffer.from(start);
  let i = end.length - 1;
  while (end[i] === 0xff) end[i--] = 0;
  end[i]!++;
  return { start, end: end as StoreKey };
}

/**
 * The range holding exactly the rows of `kind` whose first parts are
 * `prefix` (the owner first): `rangeUnder('convThread', address, rootSeq)`.
 */
export function rangeUnder(kind: KeyKind, ...prefix: readonly (string | number)[]): KeyRange {
  if (prefix.length === 0 || prefix.length > KEY_KINDS[kind].parts.length) throw new TypeError(`${kind} key range takes 1 to ${KEY_KINDS[kind].parts.length} parts`);
  const start = encode(kind, prefix, prefix.length);
  const end = Buffer.from(start);
  let i = end.length - 1;
  while (end[i] === 0xff) end[i--] = 0;
  end[i]!++;
  return { start, end: end as StoreKey };
}

/** The parts of a key of `kind` read back from LMDB; throws when it is not exactly such a key. */
export function decodeKey<K extends KeyKind>(kind: K, key: Uint8Array): KeyParts<K> {
  const { tag, parts: types } = KEY_KINDS[kind];
  if (key[0] !== tag) throw malformed(kind, `tag ${key[0]} is not ${tag}`);
  const out: (string | number)[] = [];
  let at = 1;
  for (const type of types) {
    if (type === 'str') {
      if (at + 2 > key.length) throw malformed(kind, 'truncated string length');
      const n = (key[at]! << 8) | key[at + 1]!;
      at += 2;
      if (at + n > key.length) throw malformed(kind, 'truncated string');
      out.push(readWtf8(kind, key, at, n));
      at += n;
    } else {
      if (at + 8 > key.length) throw malformed(kind, 'truncated integer');
      const high = ((key[at]! << 24) | (key[at + 1]! << 16) | (key[at + 2]! << 8) | key[at + 3]!) >>> 0;
      const low = ((key[at + 4]! << 24) | (key[at + 5]! << 16) | (key[at + 6]! << 8) | key[at + 7]!) >>> 0;
      const v = high * 0x1_0000_0000 + low;
      if (!Number.isSafeInteger(v)) throw malformed(kind, 'integer out of range');
      out.push(v);
      at += 8;
    }
  }
  if (at !== key.length) throw malformed(kind, `${key.length - at} trailing bytes`);
  return out as KeyParts<K>;
}
