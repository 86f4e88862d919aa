/**
 * Correlation ids: the id a request's log lines carry (`cid`) and an
 * INTERNAL error's message names, so an operator goes from a client's error
 * to the lines about it, on the edge and on the actor host alike.
 *
 * A client request's id is `<edge node>/<socket>#<request id>`, which both
 * the edge and the actor (from the request's caller and `q`) derive without
 * carrying another string; anything else gets a random one.
 */
import { randomBytes } from 'node:crypto';

/** The correlation id of request `requestId` from the socket `conn` (`Caller.conn`), or a fresh random one. */
export function correlationId(conn?: string, requestId?: number): string {
  if (conn !== undefined && requestId !== undefined) return `${conn}#${requestId}`;
  return randomBytes(6).toString('hex');
}
