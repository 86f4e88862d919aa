/**
 * The p2p loop shared by the peer drivers: `pairs` sender/receiver pairs for
 * `seconds` after a one-second warm-up, each sender with `window` sends in
 * flight, or (window 0) sending `rate` per second. Every delivered message
 * is checked like in the Parley scenarios (DeliveryCheck). Prints one JSON
 * line: delivered in the window, the window, latency p50/p99, missing,
 * duplicates and order errors.
 */
import { DeliveryCheck, stampedText } from '../driver/scenario.ts';
import { percentile } from '../driver/run-scenario.ts';

export interface PeerPair {
  /** Sends `text` from the sender to the receiver; resolves when the server has acknowledged it. */
  send(text: string): Promise<void>;
  /** Called by the receiver for every delivered message, with its per-stream sequence number. */
  onMessage(deliver: (text: string, seq: number) => void): void;
  close(): void;
}

export interface PairOptions {
  pairs: number;
  seconds: number;
  window: number;
  rate: number;
  open(i: number): Promise<PeerPair>;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function drivePairs(o: PairOptions): Promise<void> {
  const latencies: number[] = [];
  let delivered = 0;
  let missing = 0;
  let duplicates = 0;
  let orderErrors = 0;
  const opened: PeerPair[] = [];
  for (let i = 0; i < o.pairs; i++) opened.push(await o.open(i));
  const from = now() + 1000;
  const until = from + o.seconds * 1000;
  await Promise.all(
    opened.map(async (pair, i) => {
      const check = new DeliveryCheck();
      pair.onMessage((text, seq) => {
        const at = now();
        const sentAt = check.deliver(text, seq);
        if (sentAt >= from && sentAt < until) {
          latencies.push(at - sentAt);
          delivered++;
        }
      });
      let k = 0;
      let acked = 0;
      const send = () => pair.send(stampedText(++k, now(), 100)).then(() => void acked++);
      if (o.window > 0) {
        await Promise.all(
          Array.from({ length: o.window }, async () => {
            while (now() < until) await send();
          }),
        );
      } else {
        const sends: Promise<void>[] = [];
        await sleep((i % 97) * (1000 / o.rate / 97));
        while (now() < until) {
          sends.push(send());
          await sleep(1000 / o.rate);
        }
        await Promise.all(sends);
      }
      const deadline = now() + 10_000;
      while (check.delivered < acked && now() < deadline) await sleep(20);
      missing += check.missing(acked);
      duplicates += check.duplicates;
      orderErrors += check.orderErrors;
      pair.close();
    }),
  );
  const sorted = Float64Array.from(latencies).sort();
  console.log(JSON.stringify({ delivered, seconds: o.seconds, from, until, p50: percentile(sorted, 50), p99: percentile(sorted, 99), missing, duplicates, orderErrors }));
}
