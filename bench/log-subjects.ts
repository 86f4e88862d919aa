/**
 * What one actor subject costs JetStream: starts a nats-server on this
 * machine, appends one 200-byte entry to each of `n` distinct Log subjects
 * (spread over the 64 partitions and 8 streams, 512 appends in flight), and
 * prints the append rate and the server's resident memory per subject.
 *
 *   node --import tsx bench/log-subjects.ts [n=300000]
 */
import { readFileSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { JetStreamLog } from '../engine/log/jetstream-log.ts';
import { logger } from '../engine/logger.ts';
import { startNatsServer } from '../test/helpers/nats-server.ts';

logger.setLevel('warn');
const n = Number(process.argv[2] ?? 300_000);
const server = await startNatsServer({ jetstream: true });
const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]) / 1024;
const nc = await connect({ servers: server.url });
try {
  const log = new JetStreamLog(nc, { streams: 8, partitions: 64 });
  await log.ensureStreams();
  const before = rssMiB();
  const data = new Uint8Array(200);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      const k = next++;
      await log.append(`parley.log.${k % 64}.conv.s${k}`, data, 0);
    }
  };
  await Promise.all(Array.from({ length: 512 }, worker));
  const seconds = (performance.now() - started) / 1000;
  const after = rssMiB();
  console.log(
    JSON.stringify({
      subjects: n,
      appendsPerSec: Math.round(n / seconds),
      serverRssMiB: { before: Math.round(before), after: Math.round(after) },
      serverBytesPerSubject: Math.round(((after - before) * 1024 * 1024) / n),
    }),
  );
  await log.close();
} finally {
  await nc.close();
  await server.stop();
}
