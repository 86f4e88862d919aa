/**
 * A MessagePack writer for the fuzz suite that can write what a well-behaved
 * encoder never does: extension types, the reserved byte 0xc1, non-string map
 * keys, strings holding lone UTF-16 surrogates (as the 3-byte sequences a
 * lenient decoder turns back into them) and arbitrarily deep nesting.
 */

/** Bytes written as they are, in place of a value. */
export class Raw {
  readonly bytes: Uint8Array;
  constructor(bytes: ArrayLike<number>) {
    this.bytes = Uint8Array.from(bytes);
  }
}

/** A map whose keys may be any value. */
export class Pairs {
  readonly entries: ReadonlyArray<readonly [unknown, unknown]>;
  constructor(entries: ReadonlyArray<readonly [unknown, unknown]>) {
    this.entries = entries;
  }
}

/** An extension value: `type` -128..127 and its payload. */
export function ext(type: number, data: ArrayLike<number>): Raw {
  const t = type & 0xff;
  const n = data.length;
  const fixed: Record<number, number> = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 };
  const head = fixed[n] !== undefined ? [fixed[n]!, t] : n < 0x100 ? [0xc7, n, t] : n < 0x10000 ? [0xc8, n >> 8, n & 0xff, t] : [0xc9, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, t];
  return new Raw([...head, ...Array.from(data)]);
}

/** `depth` nested one-item lists around nil. */
export function nested(depth: number): Raw {
  const bytes = new Uint8Array(depth + 1).fill(0x91);
  bytes[depth] = 0xc0;
  return new Raw(bytes);
}

class Out {
  private buf = new Uint8Array(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b & 0xff;
  }

  uint(n: number, bytes: number): void {
    for (let i = bytes - 1; i >= 0; i--) this.byte(Math.floor(n / 2 ** (8 * i)) & 0xff);
  }

  bytes(b: ArrayLike<number>): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** UTF-8 of each UTF-16 code unit pair; a lone surrogate becomes its own 3-byte sequence. */
function wtf8(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return out;
}

function header(out: Out, n: number, fix: number, fixMax: number, op16: number, op32: number): void {
  if (n <= fixMax) out.byte(fix | n);
  else if (n < 0x10000) {
    out.byte(op16);
    out.uint(n, 2);
  } else {
    out.byte(op32);
    out.uint(n, 4);
  }
}

function write(out: Out, v: unknown): void {
  if (v === null || v === undefined) return out.byte(0xc0);
  if (v === true) return out.byte(0xc3);
  if (v === false) return out.byte(0xc2);
  if (v instanceof Raw) return out.bytes(v.bytes);
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      if (v < 0x80) return out.byte(v);
      if (v < 0x100) return (out.byte(0xcc), out.uint(v, 1));
      if (v < 0x10000) return (out.byte(0xcd), out.uint(v, 2));
      if (v < 0x100000000) return (out.byte(0xce), out.uint(v, 4));
      return (out.byte(0xcf), out.uint(v, 8));
    }
    if (Number.isInteger(v) && v < 0 && v >= -0x80000000) {
      if (v >= -32) return out.byte(v & 0xff);
      out.byte(0xd2);
      return out.uint(v >>> 0, 4);
    }
    out.byte(0xcb);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v);
    return out.bytes(b);
  }
  if (typeof v === 'string') {
    const b = wtf8(v);
    if (b.length < 32) out.byte(0xa0 | b.length);
    else if (b.length < 0x100) (out.byte(0xd9), out.uint(b.length, 1));
    else if (b.length < 0x10000) (out.byte(0xda), out.uint(b.length, 2));
    else (out.byte(0xdb), out.uint(b.length, 4));
    return out.bytes(b);
  }
  if (v instanceof Uint8Array) {
    if (v.length < 0x100) (out.byte(0xc4), out.uint(v.length, 1));
    else if (v.length < 0x10000) (out.byte(0xc5), out.uint(v.length, 2));
    else (out.byte(0xc6), out.uint(v.length, 4));
    return out.bytes(v);
  }
  if (Array.isArray(v)) {
    header(out, v.length, 0x90, 15, 0xdc, 0xdd);
    for (const item of v) write(out, item);
    return;
  }
  const entries = v instanceof Pairs ? v.entries : Object.entries(v as Record<string, unknown>);
  header(out, entries.length, 0x80, 15, 0xde, 0xdf);
  for (const [k, item] of entries) {
    write(out, k);
    write(out, item);
  }
}

/** Writes `value` as MessagePack; `Raw` parts are copied in as they are. */
export function writeMsgpack(value: unknown): Uint8Array {
  const out = new Out();
  write(out, value);
  return out.done();
}
