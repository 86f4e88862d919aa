/**
 * Sends fuzz frames over a real WebSocket and checks the wire contract of
 * PROTOCOL.md: every frame is answered (one `{id, r}` or `{id, e}` per frame;
 * events do not count) unless the socket is closed with a documented code
 * after the failure that explains it, no answer is INTERNAL, and answers to
 * requests with a known expectation meet it.
 */
import WebSocket from 'ws';
import { decode } from '../../engine/protocol/codec.ts';
import { openSocket } from '../helpers/raw-client.ts';
import type { FuzzFrame } from './arbitraries.ts';

type Reply = { id?: unknown; r?: unknown; e?: { code?: unknown; name?: unknown; message?: unknown } };

/** Close codes a client's frames may lead to, and the failure that must come first. */
const DOCUMENTED_CLOSES: Record<number, string> = {
  /** A second malformed frame in a row. */
  1007: 'BAD_REQUEST',
  /** A failed login. */
  4001: 'UNAUTHORIZED',
  /** A `logout` request: the socket is told `kicked` (reason `logout`), then closed normally. */
  1000: 'event kicked',
};

/** How long a batch may wait for its answers, ms. */
export const ANSWER_DEADLINE_MS = 15_000;

/** One socket under fuzz, with everything it received. */
export class FuzzSocket {
  readonly ws: WebSocket;
  readonly replies: Reply[] = [];
  events = 0;
  closed: { code: number; reason: string } | undefined = undefined;
  /** Error names received so far, to check that a close was preceded by its reason. */
  readonly seen = new Set<string>();
  private wake: (() => void) | undefined = undefined;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary) => {
      let frame: unknown;
      try {
        frame = isBinary ? decode(new Uint8Array(data)) : { text: data.toString() };
      } catch {
        frame = { undecodable: true };
      }
      const f = frame as Reply & { ev?: unknown };
      if (typeof f === 'object' && f !== null && 'ev' in f) {
        this.events++;
        if (typeof f.ev === 'string') this.seen.add(`event ${f.ev}`);
      } else {
        this.replies.push(f);
        if (typeof f.e?.name === 'string') this.seen.add(f.e.name);
      }
      this.wake?.();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake?.();
    });
    ws.on('error', () => {});
  }

  static async open(url: string): Promise<FuzzSocket> {
    return new FuzzSocket(await openSocket(url));
  }

  get open(): boolean {
    return this.closed === undefined && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame: FuzzFrame): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(frame.bytes, { binary: typeof frame.bytes !== 'string' });
  }

  /** Resolves once `n` answers arrived in all, the socket closed, or the deadline passed. */
  async until(n: number, deadlineMs: number): Promise<void> {
    const end = Date.now() + deadlineMs;
    while (this.replies.length < n && this.closed === undefined && Date.now() < end) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, end - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Resolves once the socket has closed or `ms` passed. */
  async closing(ms: number): Promise<void> {
    if (this.closed !== undefined) return;
    await this.until(Number.MAX_SAFE_INTEGER, ms);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** Describes a frame for a failure report: its first bytes in hex. */
export function show(frame: FuzzFrame): string {
  if (typeof frame.bytes === 'string') return `text ${JSON.stringify(frame.bytes.slice(0, 40))}`;
  return `bytes ${Buffer.from(frame.bytes.subarray(0, 64)).toString('hex')}${frame.bytes.length > 64 ? '…' : ''} (${frame.bytes.length})`;
}

/**
 * Sends `frames` on `socket` (pipelined) and returns every breach of the
 * contract found, as sentences; empty when all is well.
 */
export async function sendBatch(socket: FuzzSocket, frames: readonly FuzzFrame[]): Promise<string[]> {
  const problems: string[] = [];
  // The previous batch on this socket was answered in full; dropping its answers keeps a long run's memory flat.
  socket.replies.length = 0;
  const start = 0;
  const wasOpen = socket.open;
  for (const f of frames) socket.send(f);
  await socket.until(start + frames.length, ANSWER_DEADLINE_MS);
  const replies = socket.replies.slice(start);
  if (wasOpen && socket.closed === undefined && replies.length < frames.length) {
    problems.push(`${frames.length - replies.length} of ${frames.length} frames got no answer within ${ANSWER_DEADLINE_MS} ms`);
  }
  if (replies.length > frames.length) problems.push(`${replies.length} answers to ${frames.length} frames`);
  const byId = new Map<number, Reply>();
  for (const r of replies) {
    if (typeof r.id !== 'number' || !Number.isSafeInteger(r.id) || r.id < 0) problems.push(`an answer without an unsigned id: ${JSON.stringify(r).slice(0, 200)}`);
    else byId.set(r.id, r);
    if (r.e !== undefined) {
      if (r.e.name === 'INTERNAL' || r.e.code === 500) problems.push(`INTERNAL: ${String(r.e.message)}`);
      if (typeof r.e.message !== 'string' || typeof r.e.name !== 'string' || typeof r.e.code !== 'number') problems.push(`a malformed error: ${JSON.stringify(r.e).slice(0, 200)}`);
      else if (r.e.message.length > 400) problems.push(`an error message of ${r.e.message.length} characters: ${r.e.message.slice(0, 100)}…`);
    }
  }
  if (socket.closed !== undefined) {
    const needs = DOCUMENTED_CLOSES[socket.closed.code];
    if (needs === undefined) problems.push(`closed with undocumented code ${socket.closed.code} (${socket.closed.reason})`);
    else if (!socket.seen.has(needs)) problems.push(`closed with ${socket.closed.code} without a ${needs} answer first`);
  }
  const answeredAll = socket.closed === undefined && wasOpen;
  for (const f of frames) {
    if (f.id === undefined || f.expect === undefined) continue;
    const r = byId.get(f.id);
    if (r === undefined) {
      if (answeredAll) problems.push(`no answer to id ${f.id}: ${show(f)}`);
      continue;
    }
    const e = r.e;
    if (f.expect.kind === 'valid') {
      const refused = e !== undefined && (e.name === 'TOO_LARGE' || (e.name === 'BAD_REQUEST' && f.expect.acrossMembers !== true));
      if (refused) problems.push(`valid arguments refused: ${String(e.message)} — ${show(f)}`);
    } else {
      const { path, names } = f.expect;
      if (e === undefined) problems.push(`arguments with \`${path ?? '?'}\` broken were accepted — ${show(f)}`);
      else if (!names.includes(String(e.name))) problems.push(`\`${path}\` broken: expected ${names.join(' or ')}, got ${String(e.name)}: ${String(e.message)} — ${show(f)}`);
      else if (path !== undefined && !String(e.message).includes(`\`${path === '' ? 'a' : path}\``)) problems.push(`\`${path}\` broken, but the message names something else: ${String(e.message)} — ${show(f)}`);
    }
  }
  return problems;
}
