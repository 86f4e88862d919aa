/**
 * Small checks and errors the edge's parts share: the shapes a decoded
 * frame's values may take, and the BAD_REQUEST and INTERNAL errors the edge
 * answers with.
 */
import { ParleyError } from '../engine/protocol/errors.ts';
import type { WireError } from '../engine/protocol/errors.ts';
import { logger } from '../engine/logger.ts';
import { correlationId } from '../engine/correlation.ts';

/** True for a decoded map: an object that is neither an array nor a binary. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** True for an unsigned safe integer (ids, seqs). */
export function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A BAD_REQUEST error with `message`. */
export function badRequest(message: string): ParleyError {
  return new ParleyError('BAD_REQUEST', message);
}

/** Logs an unexpected failure with its correlation id `cid` (default a fresh one) and returns the INTERNAL error that names it. */
export function internalError(err: unknown, context: Record<string, unknown>, cid = correlationId()): WireError {
  logger.error('internal error', { cid, err, ...context });
  return new ParleyError('INTERNAL', `internal error (correlation id ${cid})`).toWire();
}
