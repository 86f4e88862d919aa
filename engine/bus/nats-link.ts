/**
 * Shared by the NATS Bus and the JetStream Log: whether the connection is up
 * (both fail fast rather than queue while it is down), and reply numbering.
 */
import type { NatsConnection, QueuedIterator, Status } from '@nats-io/transport-node';

export class NatsLink {
  /** True while the connection is established. */
  up: boolean;
  private readonly statusIter: AsyncIterable<Status>;

  /** `onDown` runs whenever the link drops or the connection closes, with the reason. */
  constructor(nc: NatsConnection, onDown: (reason: string) => void) {
    this.up = !nc.isClosed();
    this.statusIter = nc.status();
    void nc.closed().then(() => {
      this.up = false;
      onDown('the NATS connection closed');
    });
    void this.watch(onDown);
  }

  /** Stops watching the connection's status. */
  stop(): void {
    (this.statusIter as Partial<QueuedIterator<Status>>).stop?.();
  }

  private async watch(onDown: (reason: string) => void): Promise<void> {
    for await (const s of this.statusIter) {
      if (s.type === 'disconnect') {
        this.up = false;
        onDown('the NATS connection dropped');
      } else if (s.type === 'reconnect') {
        this.up = true;
      }
    }
  }
}

/**
 * The number a reply subject `<prefix><n>` ends with, read without allocating
 * (one wildcard subscription settles many pending requests by it); -1 when
 * the rest is not a decimal number.
 */
export function inboxNumber(subject: string, prefixLength: number): number {
  if (subject.length <= prefixLength) return -1;
  let n = 0;
  for (let i = prefixLength; i < subject.length; i++) {
    const c = subject.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
