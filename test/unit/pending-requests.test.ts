/**
 * The Buses' shared request timeouts: one timer serves requests of any
 * deadlines, each times out at its own, and an answered one never does.
 */
import { describe, expect, it } from 'vitest';
import { PendingRequest, PendingRequests } from '../../engine/bus/pending-requests.ts';
import { isParleyError } from '../../engine/protocol/errors.ts';

function request(pending: PendingRequests, id: number, timeoutMs: number): Promise<string> {
  return new Promise<Uint8Array>((resolve, reject) => pending.add(id, new PendingRequest(`s.${id}`, timeoutMs, { resolve, reject }))).then(
    (data) => `reply ${data.length}`,
    (err: unknown) => (isParleyError(err) && err.name === 'TIMEOUT' ? `timeout ${performance.now() - started >= timeoutMs - 1}` : `other ${String(err)}`),
  );
}
let started = 0;

describe('pending requests', () => {
  it('times each request out at its own deadline, and not one that was answered', async () => {
    const pending = new PendingRequests();
    started = performance.now();
    const slow = request(pending, 1, 300);
    const fast = request(pending, 2, 60);
    const answered = request(pending, 3, 100);
    pending.take(3)!.resolve(new Uint8Array(2));
    const order: string[] = [];
    await Promise.all([slow.then(() => order.push('slow')), fast.then(() => order.push('fast')), answered.then(() => order.push('answered'))]);
    expect(order).toEqual(['answered', 'fast', 'slow']);
    expect(await fast).toBe('timeout true');
    expect(await slow).toBe('timeout true');
    expect(await answered).toBe('reply 2');
    expect(pending.size).toBe(0);
    expect(pending.take(1)).toBeUndefined();
  });

  it('hands every waiting request over at once', () => {
    const pending = new PendingRequests();
    const noop = () => {};
    pending.add(1, new PendingRequest('a', 10_000, { resolve: noop, reject: noop }));
    pending.add(2, new PendingRequest('b', 20_000, { resolve: noop, reject: noop }));
    expect(pending.takeAll().map((r) => r.subject)).toEqual(['a', 'b']);
    expect(pending.size).toBe(0);
  });
});
