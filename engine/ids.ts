/**
 * Server message ids: decimal strings of a 63-bit number made of the time in
 * ms (41 bits), a node discriminator (10 bits) and a per-ms counter (12 bits).
 * Unique across nodes with distinct discriminators; sortable by time.
 */
import { hash32 } from './subjects.ts';

export class IdServerGenerator {
  private readonly node: bigint;
  private lastMs = 0;
  private counter = 0;

  constructor(nodeId: string) {
    this.node = BigInt(hash32(nodeId) & 0x3ff);
  }

  next(nowMs: number): string {
    if (nowMs > this.lastMs) {
      this.lastMs = nowMs;
      this.counter = 0;
    } else if (++this.counter > 0xfff) {
      // More than 4096 ids in one ms: borrow the next millisecond.
      this.lastMs++;
      this.counter = 0;
    }
    const epoch = BigInt(this.lastMs - 1_600_000_000_000);
    return ((epoch << 22n) | (this.node << 12n) | BigInt(this.counter)).toString();
  }
}
