/**
 * Login by asking the host: the edge POSTs `{token, deviceId, deviceType,
 * ip}` as JSON to `PARLEY_AUTH_CALLBACK_URL`. A 200 answer
 * `{account, expiresAt?}` logs the device in as `account` (under the wire's
 * identifier rule; `expiresAt` in ms since the epoch, past it the answer is
 * refused); any other status refuses the login (UNAUTHORIZED); no answer
 * within the timeout, or no connection, is UNAVAILABLE, so the client tries
 * again rather than giving up.
 *
 * Answers may be kept for `cacheMs` (never past their `expiresAt`), keyed by
 * everything the host was told, so a reconnect storm costs the host one call
 * per device.
 */
import { ParleyError } from '../protocol/errors.ts';
import { echo } from '../protocol/schema.ts';
import { checkAccount } from './verifier.ts';
import type { LoginContext, TokenVerifier, VerifiedLogin } from './verifier.ts';

export interface CallbackOptions {
  url: string;
  /** How long the host may take, ms. Default 3000. */
  timeoutMs?: number;
  /** How long an accepted answer is reused for the same login, ms. Default 0: never. */
  cacheMs?: number;
}

/** Most answers kept; the oldest go first. */
const CACHE_ENTRIES = 10_000;

export class CallbackVerifier implements TokenVerifier {
  readonly enabled = true;
  readonly description: string;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly cache = new Map<string, { login: VerifiedLogin; until: number }>();

  constructor(options: CallbackOptions) {
    this.url = new URL(options.url).href;
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.cacheMs = options.cacheMs ?? 0;
    this.description = `HTTP callback ${this.url} (timeout ${this.timeoutMs} ms${this.cacheMs > 0 ? `, answers kept ${this.cacheMs} ms` : ''})`;
  }

  async verify(token: string, context?: LoginContext): Promise<VerifiedLogin> {
    if (typeof token !== 'string' || token === '') throw new ParleyError('UNAUTHORIZED', 'the token is missing');
    const body = JSON.stringify({ token, deviceId: context?.deviceId ?? '', deviceType: context?.deviceType ?? 'web', ip: context?.ip ?? '' });
    const cached = this.cacheMs > 0 ? this.cache.get(body) : undefined;
    if (cached !== undefined) {
      if (cached.until > Date.now()) return cached.login;
      this.cache.delete(body);
    }
    const login = await this.ask(body);
    if (this.cacheMs > 0) this.remember(body, login);
    return login;
  }

  private async ask(body: string): Promise<VerifiedLogin> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      const why = timedOut ? `did not answer within ${this.timeoutMs} ms` : `could not be reached (${(err as Error).message})`;
      throw new ParleyError('UNAVAILABLE', `the login could not be checked: the auth callback ${why}`, { cause: err });
    }
    let answer: unknown;
    try {
      answer = await res.json();
    } catch {
      answer = undefined;
    }
    if (res.status !== 200) {
      const said = typeof (answer as { message?: unknown })?.message === 'string' ? `: ${echo((answer as { message: string }).message)}` : '';
      throw new ParleyError('UNAUTHORIZED', `the host refused the login (HTTP ${res.status})${said}`);
    }
    const { account, expiresAt } = (answer ?? {}) as { account?: unknown; expiresAt?: unknown };
    const login: VerifiedLogin = { account: checkAccount(account, "the auth callback's `account`") };
    if (expiresAt !== undefined && expiresAt !== null) {
      if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) throw new ParleyError('UNAUTHORIZED', "the auth callback's `expiresAt` is not a time in ms");
      if (expiresAt <= Date.now()) throw new ParleyError('UNAUTHORIZED', 'the login has expired (`expiresAt` from the auth callback is in the past)');
      login.expiresAt = expiresAt;
    }
    return login;
  }

  private remember(key: string, login: VerifiedLogin): void {
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { login, until: Math.min(Date.now() + this.cacheMs, login.expiresAt ?? Infinity) });
  }
}
