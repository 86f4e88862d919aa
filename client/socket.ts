/**
 * The smallest WebSocket shape the SDK needs, met by the browser's
 * `WebSocket`, Node 22's global one and the `ws` package. Browser-safe: bytes
 * are `Uint8Array`, never `Buffer`.
 */

/** `readyState` values shared by every WebSocket implementation. */
export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSED = 3;

/**
 * A WebSocket instance. Handlers take `never` so that implementations whose
 * event classes differ (DOM `MessageEvent`, `ws`'s own) all fit; the SDK
 * reads only `data`, `code`, `reason` and `message` from them.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: never) => void) | null;
  onmessage: ((ev: never) => void) | null;
  onclose: ((ev: never) => void) | null;
  onerror: ((ev: never) => void) | null;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `ws`'s default export in Node 20. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** What the SDK reads from the events it receives. */
export interface MessageEventLike {
  data: unknown;
}
export interface CloseEventLike {
  code?: number;
  reason?: string | { toString(): string };
}
export interface ErrorEventLike {
  message?: string;
  error?: unknown;
}

/** The bytes of a binary frame; undefined for a text frame or a Blob (binaryType was not honoured). */
export function frameBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every((part) => ArrayBuffer.isView(part))) {
    // `ws` with binaryType 'fragments'; not used by the SDK, accepted anyway.
    const parts = data as ArrayBufferView[];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
      at += p.byteLength;
    }
    return out;
  }
  return undefined;
}
