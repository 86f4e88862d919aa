/**
 * The admin API's request handling, independent of the HTTP server that
 * carries it: the key check (several keys for rotation, compared in constant
 * time), a token bucket per key, JSON in and out, and errors from the one
 * error table with their HTTP status. The edge mounts it on its port.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { ERRORS, ParleyError } from '../protocol/errors.ts';
import { logger } from '../logger.ts';
import { adminMethods } from './methods.ts';
import type { AdminContext, AdminMethod } from './methods.ts';
import { ADMIN_PREFIX, openApiDocument } from './openapi.ts';

export interface AdminApiOptions {
  /** Accepted keys; none: the API is off and every path answers 404. */
  keys: readonly string[];
  /** Requests per second per key, and the burst a key may spend at once. */
  ratePerSec: number;
  context: AdminContext;
  /** Shown in the OpenAPI document. */
  version?: string;
}

export interface AdminRequest {
  method: string;
  /** The URL path, e.g. `/v1/admin/sendMsg`. */
  path: string;
  authorization: string | undefined;
  body: Uint8Array;
}

export interface AdminResponse {
  status: number;
  body: string;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

function failure(err: ParleyError): AdminResponse {
  return { status: ERRORS[err.name].http, body: JSON.stringify({ error: err.toWire() }) };
}

export class AdminApi {
  private readonly keys: Buffer[];
  private readonly ratePerSec: number;
  private readonly context: AdminContext;
  private readonly methods: Readonly<Record<string, AdminMethod>>;
  private readonly buckets = new Map<number, { tokens: number; at: number }>();
  private readonly version: string;
  private document: string | undefined;

  constructor(options: AdminApiOptions) {
    this.keys = options.keys.filter((k) => k !== '').map(digest);
    this.ratePerSec = options.ratePerSec;
    this.context = options.context;
    this.methods = adminMethods();
    this.version = options.version ?? '1';
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  /** Whether `path` is the admin API's. */
  static owns(path: string): boolean {
    return path.startsWith(ADMIN_PREFIX);
  }

  async handle(req: AdminRequest): Promise<AdminResponse> {
    if (!this.enabled) return { status: 404, body: JSON.stringify({ error: { code: ERRORS.NOT_FOUND.code, name: 'NOT_FOUND', message: 'the admin API is off: set PARLEY_ADMIN_API_KEY' } }) };
    const name = req.path.slice(ADMIN_PREFIX.length);
    if (name === 'openapi.json' && req.method === 'GET') {
      this.document ??= JSON.stringify(openApiDocument(this.methods, this.version));
      return { status: 200, body: this.document };
    }
    const key = this.keyOf(req.authorization);
    if (key === undefined) return failure(new ParleyError('UNAUTHORIZED', 'a valid admin key is required: `Authorization: Bearer <key>`'));
    if (!this.take(key)) return failure(new ParleyError('RATE_LIMITED', `more than ${this.ratePerSec} admin requests per second with this key`));
    if (req.method !== 'POST') return failure(new ParleyError('BAD_REQUEST', `admin methods are called with POST, not ${req.method}`));
    const method = Object.hasOwn(this.methods, name) ? this.methods[name] : undefined;
    if (method === undefined) return failure(new ParleyError('NOT_FOUND', `no admin method \`${name.slice(0, 64)}\``));
    let body: unknown;
    try {
      body = req.body.byteLength === 0 ? {} : JSON.parse(Buffer.from(req.body).toString('utf8'));
    } catch (err) {
      return failure(new ParleyError('BAD_REQUEST', `the body is not JSON: ${(err as Error).message}`));
    }
    try {
      const result = await method.run(this.context, body);
      return { status: 200, body: JSON.stringify({ result: result ?? null }) };
    } catch (err) {
      if (err instanceof ParleyError) return failure(err);
      const correlationId = randomUUID().slice(0, 12);
      logger.error('admin method failed', { method: name, correlationId, err });
      return failure(new ParleyError('INTERNAL', `internal error (correlation id ${correlationId})`));
    }
  }

  /** The index of the key the header carries, or undefined. */
  private keyOf(authorization: string | undefined): number | undefined {
    const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    if (match === null) return undefined;
    const given = digest(match[1]!.trim());
    let found: number | undefined;
    // Every key is compared, so the time taken does not tell which one matched.
    this.keys.forEach((k, i) => {
      if (timingSafeEqual(k, given)) found = i;
    });
    return found;
  }

  /** Spends one request of `key`'s bucket; false when it is empty. */
  private take(key: number): boolean {
    const now = Date.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.ratePerSec, at: now };
    bucket.tokens = Math.min(this.ratePerSec, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSec);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
