/**
 * Tracks whether a NATS connection is up, for the parts that must fail fast
 * rather than queue while it is down (the Bus's requests, the Log's appends).
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
