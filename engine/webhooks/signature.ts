/**
 * Webhook signatures: `Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256
 * of "<t>.<body>">` with the shared secret. The timestamp is signed with the
 * body, so a receiver that checks it is recent also refuses a replayed request.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The `Parley-Signature` header of `body` signed with `secret` at `timeSec` (unix seconds, default now). */
export function signWebhook(secret: string, body: string, timeSec = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', secret).update(`${timeSec}.${body}`).digest('hex');
  return `t=${timeSec},v1=${v1}`;
}

/**
 * True when `header` signs `body` with `secret` and its timestamp is within
 * `toleranceSec` (default 300) of `nowSec`. Compares in constant time.
 */
export function verifyWebhook(secret: string, header: string | undefined, body: string, toleranceSec = 300, nowSec = Math.floor(Date.now() / 1000)): boolean {
  if (header === undefined) return false;
  const parts = new Map(header.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowSec - t) > toleranceSec || !/^[0-9a-f]{64}$/.test(v1)) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}
