/**
 * Small helpers the SDK's modules share: a plain-object check for decoded
 * frames, a promise settled from outside, and error normalisation.
 * Browser-safe: no Node APIs.
 */

/** True for a plain map (a decoded msgpack map), not an array or null. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Anything thrown, as an `Error` for `error` listeners. */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** A socket handler that ignores its event. */
export const noop = (): void => {};

/** A promise with its `resolve` / `reject` exposed and a flag saying whether either was called. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (err: unknown) => void;
  settled: boolean;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (err: unknown) => void;
  const d: Deferred<T> = {
    promise: new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    }),
    resolve: (v) => {
      d.settled = true;
      resolve(v);
    },
    reject: (err) => {
      d.settled = true;
      reject(err);
    },
    settled: false,
  };
  // Nobody has to await it; an unobserved rejection must not surface as unhandled.
  d.promise.catch(() => {});
  return d;
}
