/**
 * Server message ids: decimal strings of a 63-bit number made of the time in
 * ms (41 bits), a node discriminator (10 bits) and a per-ms counter (12 bits).
 * Unique across nodes with distinct discriminators; sortable by time.
 */
import { hash32 } from './subjects.ts';

/** The ids' epoch: ms since the Unix epoch at which the time part is 0. */
const EPOCH_MS = 1_600_000_000_000;
/** 2^22: the time part's place value (the node and counter parts below it). */
const TIME_PLACE = 0x40_0000;
const MILLION = 1_000_000;

/**
 * The decimal string of `time · 2^22 + low` (time < 2^41, low < 2^22), in
 * float arithmetic: the value reaches 2^63, past what a double holds
 * exactly, so it is put together from parts that each stay below 2^53.
 * Every message gets an id, and BigInt arithmetic allocates at every step.
 */
export function idDecimal(time: number, low: number): string {
  const timeHigh = Math.floor(time / MILLION);
  const timeLow = time - timeHigh * MILLION;
  // value = timeHigh · 2^22 · 10^6 + (timeLow · 2^22 + low); both products < 2^44.
  const under = timeLow * TIME_PLACE + low;
  const carry = Math.floor(under / MILLION);
  const high = timeHigh * TIME_PLACE + carry;
  const last6 = under - carry * MILLION;
  if (high === 0) return String(last6);
  const digits = String(last6);
  return String(high) + '000000'.slice(digits.length) + digits;
}

export class IdServerGenerator {
  private readonly node: number;
  private lastMs = 0;
  private counter = 0;

  constructor(nodeId: string) {
    this.node = hash32(nodeId) & 0x3ff;
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
    return idDecimal(this.lastMs - EPOCH_MS, this.node * 0x1000 + this.counter);
  }
}
