/**
 * A lean WebSocket client for the load driver: a TCP socket, one HTTP upgrade,
 * then RFC 6455 framing by hand. Binary frames only, no extensions, no
 * fragmentation on send; incoming fragments are joined. Client frames carry
 * the mask bit with an all-zero key (the XOR is then a no-op, so payloads are
 * written as they are). Meant for 127.0.0.x load, not for the open internet.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface LeanSocketOptions {
  host: string;
  port: number;
  path: string;
  /** Source address of the TCP connection (127.0.0.x spreads the ephemeral ports). */
  localAddress?: string;
  /** Give up on the connect + upgrade after this long, ms. Default 10000. */
  timeoutMs?: number;
}

const UPGRADE_KEY = 'cGFybGV5LWJlbmNoLWtleQ==';
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

export class LeanSocket {
  onMessage: (payload: Uint8Array) => void = () => {};
  onClose: (code: number) => void = () => {};
  private readonly socket: Socket;
  private buffered: Buffer | undefined;
  private fragments: Buffer[] = [];
  private closed = false;
  /** Whether the socket is corked until the end of this tick (see `send`). */
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private constructor(socket: Socket, rest: Buffer) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('close', () => this.ended(1006));
    socket.on('error', () => this.ended(1006));
    if (rest.length > 0) queueMicrotask(() => this.read(rest));
  }

  /** Opens the TCP connection and completes the upgrade. */
  static open(options: LeanSocketOptions): Promise<LeanSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: options.host, port: options.port, localAddress: options.localAddress, noDelay: true });
      const timer = setTimeout(() => fail(new Error(`websocket upgrade to ${options.host}:${options.port} timed out`)), options.timeoutMs ?? 10_000);
      let head = Buffer.alloc(0);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.write(
          `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${UPGRADE_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        socket.off('error', fail);
        clearTimeout(timer);
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!status.includes(' 101 ')) return fail(new Error(`websocket upgrade refused: ${status}`));
        resolve(new LeanSocket(socket, head.subarray(end + 4)));
      };
      socket.on('data', onData);
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Sends one binary frame (masked with a zero key). The frames sent in one
   * tick (the requests a burst of answers releases) leave in one write.
   */
  send(payload: Uint8Array): void {
    if (this.closed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    const n = payload.length;
    const headerLength = n < 126 ? 6 : n < 65536 ? 8 : 14;
    const frame = Buffer.allocUnsafe(headerLength + n);
    frame[0] = 0x80 | OP_BINARY;
    if (n < 126) frame[1] = 0x80 | n;
    else if (n < 65536) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(n, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(n), 2);
    }
    frame.writeUInt32BE(0, headerLength - 4);
    frame.set(payload, headerLength);
    this.socket.write(frame);
  }

  /** Closes the TCP connection at once (the server sees the client gone). */
  terminate(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private ended(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.onClose(code);
  }

  private read(chunk: Buffer): void {
    let data = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk]);
    this.buffered = undefined;
    let at = 0;
    while (data.length - at >= 2) {
      const first = data[at]!;
      const second = data[at + 1]!;
      let length = second & 0x7f;
      let offset = at + 2;
      if (length === 126) {
        if (data.length - at < 4) break;
        length = data.readUInt16BE(at + 2);
        offset = at + 4;
      } else if (length === 127) {
        if (data.length - at < 10) break;
        length = Number(data.readBigUInt64BE(at + 2));
        offset = at + 10;
      }
      if (data.length < offset + length) break;
      this.frame(first, data.subarray(offset, offset + length));
      at = offset + length;
      if (this.closed) return;
    }
    if (at < data.length) this.buffered = Buffer.from(data.subarray(at));
  }

  private frame(first: number, payload: Buffer): void {
    const opcode = first & 0x0f;
    const fin = (first & 0x80) !== 0;
    if (opcode === OP_CLOSE) return this.ended(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
    if (opcode === OP_PING) return this.control(0xa, payload);
    if (opcode === OP_BINARY || opcode === OP_TEXT || opcode === 0) {
      if (!fin || this.fragments.length > 0) {
        this.fragments.push(Buffer.from(payload));
        if (!fin) return;
        const whole = Buffer.concat(this.fragments);
        this.fragments = [];
        this.onMessage(whole);
        return;
      }
      this.onMessage(payload);
    }
  }

  private control(opcode: number, payload: Buffer): void {
    const frame = Buffer.alloc(6 + payload.length);
    frame[0] = 0x80 | opcode;
    frame[1] = 0x80 | payload.length;
    frame.set(payload, 6);
    this.socket.write(frame);
  }
}
