/**
 * Parley's msgpack writer for the plain data its frames, replies, events and
 * rows are made of: objects (string keys, undefined members left out),
 * arrays, strings, numbers, booleans and null. It writes exactly the bytes
 * msgpackr's packer makes with the codec's options (smallest header for
 * each size, integers outside int32 and uint32 as float64), and hands every
 * other value (byte arrays, Maps, Dates, BigInts, objects of a class) to that
 * packer, splicing in what it makes.
 *
 * Written here because msgpackr writes a map that may hold undefined members
 * through a slower path (a list of the keys it keeps, built for every map):
 * on a message row that path costs about 1.8 times its plain one, and
 * encoding is on every hop of every message.
 *
 * Output goes into a shared chunk, each value a view of it, as msgpackr's
 * own buffer works: a chunk is dropped for a new one when it is full.
 */

/** The packer that writes what this writer does not. */
export interface FallbackPacker {
  pack(value: unknown): Uint8Array;
}

const CHUNK_BYTES = 8192;

type NodeBuffer = Uint8Array & { utf8Write(s: string, at: number): number };
const nodeBuffer = (globalThis as Record<string, unknown>)['Buffer'] as { allocUnsafeSlow?: (n: number) => NodeBuffer } | undefined;

/** Whether this runtime has what the writer needs (Node's Buffer); elsewhere the codec uses msgpackr alone. */
export const writerAvailable = typeof nodeBuffer?.allocUnsafeSlow === 'function';

export class PlainWriter {
  private readonly fallback: FallbackPacker;
  private chunk!: NodeBuffer;
  private view!: DataView;
  /** Where the next byte goes. */
  private at = 0;
  /** Where the value being written starts. */
  private start = 0;

  constructor(fallback: FallbackPacker) {
    this.fallback = fallback;
    this.newChunk(CHUNK_BYTES);
  }

  /** The msgpack bytes of `value`: a view of the current chunk, never written again. */
  encode(value: unknown): Uint8Array {
    if (this.chunk.length - this.at < 64) this.newChunk(CHUNK_BYTES);
    this.start = this.at;
    this.value(value);
    const out = this.chunk.subarray(this.start, this.at);
    this.start = this.at;
    return out;
  }

  private newChunk(size: number): void {
    this.chunk = nodeBuffer!.allocUnsafeSlow!(size);
    this.view = new DataView(this.chunk.buffer, this.chunk.byteOffset, this.chunk.byteLength);
    this.at = 0;
    this.start = 0;
  }

  /** Room for `n` more bytes: a larger chunk, with the value written so far moved to its start, when this one is short. */
  private room(n: number): void {
    if (this.at + n <= this.chunk.length) return;
    const old = this.chunk;
    const written = this.at - this.start;
    const from = this.start;
    this.newChunk(Math.max(CHUNK_BYTES, 2 * (written + n)));
    this.chunk.set(old.subarray(from, from + written), 0);
    this.at = written;
  }

  private value(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.string(v);
        return;
      case 'number':
        this.number(v);
        return;
      case 'boolean':
        this.room(1);
        this.chunk[this.at++] = v ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        this.room(1);
        this.chunk[this.at++] = 0xc0;
        return;
      case 'object':
        if (v === null) {
          this.room(1);
          this.chunk[this.at++] = 0xc0;
        } else if (v.constructor === Object) this.map(v as Record<string, unknown>);
        else if (v.constructor === Array) this.array(v as unknown[]);
        else this.packed(v);
        return;
      default:
        this.packed(v);
    }
  }

  /** A value msgpackr writes: its bytes copied in. */
  private packed(v: unknown): void {
    const bytes = this.fallback.pack(v);
    this.room(bytes.byteLength);
    this.chunk.set(bytes, this.at);
    this.at += bytes.byteLength;
  }

  private number(n: number): void {
    this.room(9);
    const c = this.chunk;
    if (n >>> 0 === n) {
      if (n < 0x80) c[this.at++] = n;
      else if (n < 0x100) {
        c[this.at++] = 0xcc;
        c[this.at++] = n;
      } else if (n < 0x10000) {
        c[this.at++] = 0xcd;
        c[this.at++] = n >> 8;
        c[this.at++] = n & 0xff;
      } else {
        c[this.at++] = 0xce;
        this.view.setUint32(this.at, n);
        this.at += 4;
      }
    } else if (n >> 0 === n) {
      if (n >= -0x20) c[this.at++] = 0x100 + n;
      else if (n >= -0x80) {
        c[this.at++] = 0xd0;
        c[this.at++] = n + 0x100;
      } else if (n >= -0x8000) {
        c[this.at++] = 0xd1;
        this.view.setInt16(this.at, n);
        this.at += 2;
      } else {
        c[this.at++] = 0xd2;
        this.view.setInt32(this.at, n);
        this.at += 4;
      }
    } else {
      c[this.at++] = 0xcb;
      this.view.setFloat64(this.at, n);
      this.at += 8;
    }
  }

  private string(s: string): void {
    const n = s.length;
    if (n < 0x20) {
      // The common short ASCII string (a key, an account, an id): one pass, no header to move.
      this.room(1 + 3 * n);
      const c = this.chunk;
      const head = this.at;
      let at = head + 1;
      let i = 0;
      for (; i < n; i++) {
        const code = s.charCodeAt(i);
        if (code >= 0x80) break;
        c[at++] = code;
      }
      if (i === n) {
        c[head] = 0xa0 | n;
        this.at = at;
        return;
      }
    }
    // Header sized for the longest UTF-8 the string can make, moved back once its length is known.
    const most = 3 * n;
    const header = most < 0x20 ? 1 : most < 0x100 ? 2 : most < 0x10000 ? 3 : 5;
    this.room(header + most);
    const head = this.at;
    const length = this.chunk.utf8Write(s, head + header);
    const fits = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
    if (fits !== header) this.chunk.copyWithin(head + fits, head + header, head + header + length);
    const c = this.chunk;
    if (fits === 1) c[head] = 0xa0 | length;
    else if (fits === 2) {
      c[head] = 0xd9;
      c[head + 1] = length;
    } else if (fits === 3) {
      c[head] = 0xda;
      c[head + 1] = length >> 8;
      c[head + 2] = length & 0xff;
    } else {
      c[head] = 0xdb;
      this.view.setUint32(head + 1, length);
    }
    this.at = head + fits + length;
  }

  private map(o: Record<string, unknown>): void {
    let count = 0;
    for (const key in o) if (o[key] !== undefined) count++;
    this.header(count, 0x80, 0xde);
    for (const key in o) {
      const v = o[key];
      if (v === undefined) continue;
      this.string(key);
      this.value(v);
    }
  }

  private array(a: readonly unknown[]): void {
    const n = a.length;
    this.header(n, 0x90, 0xdc);
    for (let i = 0; i < n; i++) this.value(a[i]);
  }

  /** A map's or a list's header: fix form below 16, else the 16- or 32-bit count after `wide` (0xde / 0xdc). */
  private header(n: number, fix: number, wide: number): void {
    this.room(5);
    const c = this.chunk;
    if (n < 0x10) c[this.at++] = fix | n;
    else if (n < 0x10000) {
      c[this.at++] = wide;
      c[this.at++] = n >> 8;
      c[this.at++] = n & 0xff;
    } else {
      c[this.at++] = wide + 1;
      this.view.setUint32(this.at, n);
      this.at += 4;
    }
  }
}
