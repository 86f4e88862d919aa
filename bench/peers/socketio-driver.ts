/**
 * Drives the Socket.IO relay through `socket.io-client` (websocket
 * transport): `pairs` sender/receiver pairs for `seconds`, each sender with
 * `window` sends in flight, or with `--rate r` sending r per second. Checks
 * every delivered message like the Parley scenarios (DeliveryCheck) and
 * prints one JSON line: delivered count, seconds, latency p50/p99, missing,
 * duplicates, order errors.
 *
 *   node --import tsx bench/peers/socketio-driver.ts <port> <pairs> <seconds> <window|0> [rate]
 */
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { DeliveryCheck, stampedText } from '../driver/scenario.ts';
import { percentile } from '../driver/run-scenario.ts';

const [portArg, pairsArg, secondsArg, windowArg, rateArg] = process.argv.slice(2);
const url = `http://127.0.0.1:${portArg}`;
const pairs = Number(pairsArg);
const seconds = Number(secondsArg);
const window = Number(windowArg);
const rate = Number(rateArg ?? 0);
const now = () => performance.timeOrigin + performance.now();

function open(account: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ['websocket'], auth: { account }, reconnection: false });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

const latencies: number[] = [];
let delivered = 0;
let missing = 0;
let duplicates = 0;
let orderErrors = 0;
const opened = await Promise.all(Array.from({ length: pairs }, async (_, i) => ({ a: await open(`a${i}`), b: await open(`b${i}`), i })));
const from = now() + 1000;
const until = from + seconds * 1000;
await Promise.all(
  opened.map(async ({ a, b, i }) => {
    const check = new DeliveryCheck();
    b.on('msg', (m: { text: string; seq: number }) => {
      const at = now();
      const sentAt = check.deliver(m.text, m.seq);
      if (sentAt >= from && sentAt < until) {
        latencies.push(at - sentAt);
        delivered++;
      }
    });
    let k = 0;
    let acked = 0;
    const send = () => a.emitWithAck('send', { to: `b${i}`, text: stampedText(++k, now(), 100) }).then(() => void acked++);
    if (window > 0) {
      await Promise.all(Array.from({ length: window }, async () => {
        while (now() < until) await send();
      }));
    } else {
      const sends: Promise<void>[] = [];
      await new Promise((r) => setTimeout(r, (i % 97) * (1000 / rate / 97)));
      while (now() < until) {
        sends.push(send());
        await new Promise((r) => setTimeout(r, 1000 / rate));
      }
      await Promise.all(sends);
    }
    const deadline = now() + 10_000;
    while (check.delivered < acked && now() < deadline) await new Promise((r) => setTimeout(r, 20));
    missing += check.missing(acked);
    duplicates += check.duplicates;
    orderErrors += check.orderErrors;
    a.close();
    b.close();
  }),
);
const sorted = Float64Array.from(latencies).sort();
console.log(JSON.stringify({ delivered, seconds, from, until, p50: percentile(sorted, 50), p99: percentile(sorted, 99), missing, duplicates, orderErrors }));
process.exit(0);
