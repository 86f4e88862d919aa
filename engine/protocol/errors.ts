/**
 * The one error table of PROTOCOL.md, shared by the engine, the wire and the SDK.
 * Browser-safe: no Node imports.
 */

/**
 * Whether a failed attempt may be tried again:
 * - `yes`: it surely did not run (nobody served it), so any method may be repeated;
 * - `ifIdempotent`: it may have run, so only a method whose retry class allows
 *   repeating (`idClient` or `idempotent`, see registry.ts) is tried again;
 * - `no`: the answer is final.
 */
export type Retryable = 'yes' | 'ifIdempotent' | 'no';

/** Every error name with its stable numeric code, its HTTP status (admin API), what it means, and whether a retry may help. */
export const ERRORS = {
  BAD_REQUEST: { code: 414, http: 400, retryable: 'no', meaning: 'malformed frame, unknown method, missing or invalid argument, value over a limit' },
  UNAUTHORIZED: { code: 302, http: 401, retryable: 'no', meaning: 'login missing or failed' },
  FORBIDDEN: { code: 403, http: 403, retryable: 'no', meaning: 'allowed for somebody, not for this account' },
  NOT_FOUND: { code: 404, http: 404, retryable: 'no', meaning: 'the named message, team, user or channel does not exist' },
  TOO_LARGE: { code: 413, http: 413, retryable: 'no', meaning: 'a field over its size limit' },
  RATE_LIMITED: { code: 416, http: 429, retryable: 'no', meaning: 'too many requests' },
  CONFLICT: { code: 417, http: 409, retryable: 'no', meaning: 'already exists or already done' },
  EXPIRED: { code: 508, http: 410, retryable: 'no', meaning: 'past a window (recall window, invitation)' },
  BLOCKED: { code: 7101, http: 403, retryable: 'no', meaning: 'the recipient has the sender in their blocklist' },
  TEAM_FULL: { code: 801, http: 409, retryable: 'no', meaning: 'member limit reached' },
  NOT_MEMBER: { code: 804, http: 403, retryable: 'no', meaning: 'not a member of the team' },
  MUTED: { code: 812, http: 403, retryable: 'no', meaning: 'the sender or the whole team is muted' },
  UNAVAILABLE: { code: 415, http: 503, retryable: 'yes', meaning: 'the owning actor is not reachable now; safe to retry' },
  TIMEOUT: { code: 408, http: 504, retryable: 'ifIdempotent', meaning: 'the request took too long inside the engine' },
  INTERNAL: { code: 500, http: 500, retryable: 'no', meaning: 'a bug: logged with a correlation id, the message carries it' },
} as const satisfies Record<string, { code: number; http: number; retryable: Retryable; meaning: string }>;

export type ErrorName = keyof typeof ERRORS;

/** The `e` member of a failure frame. */
export interface WireError {
  code: number;
  name: string;
  message: string;
}

const byCode = new Map<number, ErrorName>(
  (Object.keys(ERRORS) as ErrorName[]).map((name) => [ERRORS[name].code, name]),
);

/** Looks up an error name by its numeric code. */
export function errorNameOf(code: number): ErrorName | undefined {
  return byCode.get(code);
}

export function isErrorName(name: unknown): name is ErrorName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, name);
}

/** An error with a protocol name and code; `address` names the actor that raised it, when one did. */
export class ParleyError extends Error {
  override readonly name: ErrorName;
  readonly code: number;
  readonly address: string | undefined;

  constructor(name: ErrorName, message: string, options?: { cause?: unknown; address?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    this.code = ERRORS[name].code;
    this.address = options?.address;
  }

  toWire(): WireError {
    return { code: this.code, name: this.name, message: this.message };
  }

  /** Rebuilds an error received in a failure frame; unknown names become INTERNAL. */
  static fromWire(e: unknown): ParleyError {
    const w = (e ?? {}) as Partial<WireError>;
    const name = isErrorName(w.name) ? w.name : errorNameOf(Number(w.code)) ?? 'INTERNAL';
    return new ParleyError(name, typeof w.message === 'string' ? w.message : 'unknown error');
  }
}

export function isParleyError(err: unknown): err is ParleyError {
  return err instanceof ParleyError;
}

/** Shorthand used by handlers: `throw fail('NOT_FOUND', 'no team 42')`. */
export function fail(name: ErrorName, message: string, address?: string): ParleyError {
  return new ParleyError(name, message, address === undefined ? undefined : { address });
}
