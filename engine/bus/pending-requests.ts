/**
 * Requests waiting for their replies, shared by both Buses: a map by request
 * number and one timer for all of them, armed for the nearest deadline. A
 * request costs one record and no timer or closure of its own; a request
 * whose reply comes in time never touches the timer (the sweep that finds
 * nothing due re-arms it for the next deadline).
 */
import { ParleyError } from '../protocol/errors.ts';

/** Told how one request ended, once: its reply's bytes, or the error it failed with. */
export interface ReplyWaiter {
  resolve(data: Uint8Array): void;
  reject(err: Error): void;
}

/** One request waiting for its reply. */
export class PendingRequest {
  readonly subject: string;
  readonly timeoutMs: number;
  /** When it times out, on the `performance.now()` clock. */
  readonly deadline: number;
  private readonly waiter: ReplyWaiter;

  constructor(subject: string, timeoutMs: number, waiter: ReplyWaiter) {
    this.subject = subject;
    this.timeoutMs = timeoutMs;
    this.deadline = performance.now() + timeoutMs;
    this.waiter = waiter;
  }

  resolve(data: Uint8Array): void {
    this.waiter.resolve(data);
  }

  reject(err: Error): void {
    this.waiter.reject(err);
  }
}

export class PendingRequests {
  private readonly waiting = new Map<number, PendingRequest>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Deadline the timer is armed for; Infinity when it is not armed. */
  private timerAt = Infinity;
  private readonly sweepNow = (): void => this.sweep();

  get size(): number {
    return this.waiting.size;
  }

  /** Waits for the reply to request `id`; it times out with TIMEOUT unless taken before its deadline. */
  add(id: number, request: PendingRequest): void {
    this.waiting.set(id, request);
    if (request.deadline < this.timerAt) this.arm(request.deadline);
  }

  /** The request `id` when it still waits (it then no longer does), else undefined (timed out, answered, failed). */
  take(id: number): PendingRequest | undefined {
    const request = this.waiting.get(id);
    if (request === undefined) return undefined;
    this.waiting.delete(id);
    // Nothing left to time out: no timer keeps the process alive.
    if (this.waiting.size === 0) this.disarm();
    return request;
  }

  /** True while request `id` waits for its reply. */
  has(id: number): boolean {
    return this.waiting.has(id);
  }

  /** Every request still waiting, which then no longer do; the timer stops. */
  takeAll(): PendingRequest[] {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    this.disarm();
    return all;
  }

  /** Rejects the requests that are due, then arms the timer for the nearest deadline left. */
  private sweep(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const [id, request] of this.waiting) {
      if (request.deadline <= now) {
        this.waiting.delete(id);
        request.reject(new ParleyError('TIMEOUT', `no reply on ${request.subject} within ${request.timeoutMs} ms`));
      } else if (request.deadline < next) next = request.deadline;
    }
    if (next !== Infinity) this.arm(next);
  }

  private arm(deadline: number): void {
    this.disarm();
    this.timerAt = deadline;
    this.timer = setTimeout(this.sweepNow, Math.max(0, Math.ceil(deadline - performance.now())));
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}
