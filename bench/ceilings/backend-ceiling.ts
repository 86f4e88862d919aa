/**
 * One backend ceiling, run as its own process so its CPU is counted apart:
 *
 *   pubsub <natsUrl> <seconds>     NATS core: publish 200-byte messages, one subscriber in this process
 *   jetstream <natsUrl> <seconds>  JetStream: publish 200-byte messages to a file stream, acks pipelined (1024 in flight)
 *   lmdb <dir> <seconds>           LMDB: 200-byte puts, batched into write transactions by lmdb-js
 *
 * Prints one JSON line: `{ops, seconds}` (messages received, appends
 * acknowledged, or puts committed).
 */
import { connect, createInbox } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { open } from 'lmdb';

const [kind, target, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const payload = new Uint8Array(200).fill(7);
/** When the timed loop began (set by each ceiling once it is set up). */
let loopStart = 0;
let loopEnd = 0;
const timed = () => ((loopStart = performance.now()), loopStart + seconds * 1000);

async function pubsub(url: string): Promise<number> {
  const nc = await connect({ servers: url });
  let received = 0;
  const sub = nc.subscribe('bench.pubsub');
  void (async () => {
    for await (const _ of sub) received++;
  })();
  await nc.flush();
  const until = timed();
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) nc.publish('bench.pubsub', payload);
    await nc.flush();
  }
  const count = received;
  loopEnd = performance.now();
  await nc.close();
  return count;
}

async function jetstream(url: string): Promise<number> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH', subjects: ['bench.js.>'] });
  const inbox = createInbox();
  let acked = 0;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const sub = nc.subscribe(inbox);
  void (async () => {
    for await (const _ of sub) {
      acked++;
      inFlight--;
      wake?.();
    }
  })();
  const until = timed();
  let k = 0;
  while (performance.now() < until) {
    while (inFlight < 1024) {
      nc.publish(`bench.js.${k++ % 64}`, payload, { reply: inbox });
      inFlight++;
    }
    await new Promise<void>((r) => (wake = r));
  }
  const count = acked;
  loopEnd = performance.now();
  await nc.close();
  return count;
}

async function lmdb(dir: string): Promise<number> {
  const db = open({ path: dir, compression: false });
  let committed = 0;
  let k = 0;
  const until = timed();
  while (performance.now() < until) {
    const batch: Promise<boolean>[] = [];
    for (let i = 0; i < 5000; i++) batch.push(db.put(`k${String(k++).padStart(12, '0')}`, payload));
    await Promise.all(batch);
    committed += batch.length;
  }
  loopEnd = performance.now();
  await db.close();
  return committed;
}

const ops = kind === 'pubsub' ? await pubsub(target!) : kind === 'jetstream' ? await jetstream(target!) : kind === 'lmdb' ? await lmdb(target!) : NaN;
if (Number.isNaN(ops)) throw new Error(`unknown ceiling '${kind}'`);
console.log(JSON.stringify({ ops, seconds: (loopEnd - loopStart) / 1000 }));
process.exit(0);
