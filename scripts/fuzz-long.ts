/**
 * The long wire fuzz run: the frames of the CI fuzz suite
 * (test/integration/edge-fuzz.test.ts), a million and more, over several
 * sockets at once against a real engine, checking after every batch that
 * each frame was answered (or the socket closed as PROTOCOL.md documents),
 * that nothing was INTERNAL, and that valid and broken arguments got the
 * answers they must. Ends with a fresh login, a send and a history read.
 *
 *   node --import tsx scripts/fuzz-long.ts [--frames 1000000] [--seed 1] [--sockets 4] [--data-dir /dev/shm] [--nats nats://127.0.0.1:4222]
 *
 * Embedded mode by default (a temporary data directory, under `--data-dir`
 * when given: tmpfs keeps fsync latency out of the run); `--nats` runs the
 * engine on an existing NATS server with JetStream. Exits 1 with the seed and
 * the offending batch on the first breach.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { METHOD_NAMES, anyFrame, brokenRequest, methodRequests, validRequest } from '../test/fuzz/arbitraries.ts';
import type { FuzzFrame } from '../test/fuzz/arbitraries.ts';
import { FuzzSocket, sendBatch, show } from '../test/fuzz/driver.ts';
import { fuzzTokens, healthCheck } from '../test/fuzz/tokens.ts';
import type { FuzzTokens } from '../test/fuzz/tokens.ts';
import { startEngine } from '../test/helpers/engine.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    frames: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    sockets: { type: 'string', default: '4' },
    nats: { type: 'string' },
  },
});
const target = Number(values.frames);
const seed = Number(values.seed);
const sockets = Number(values.sockets);

/** Batches drawn per `fc.sample` call. */
const CHUNK = 50;
/** Frames after which the run moves on to fresh accounts. */
const ROTATE_FRAMES = 50_000;

function batches(tokens: FuzzTokens): fc.Arbitrary<{ kind: 'methods' | 'any' | 'login'; logIn: boolean; frames: FuzzFrame[] }> {
  const notLogin = METHOD_NAMES.filter((m) => m !== 'login');
  const request = methodRequests(notLogin, tokens.overrides);
  const login = fc.oneof(validRequest('login', tokens.overrides), brokenRequest('login', tokens.overrides));
  return fc.oneof(
    { weight: 3, arbitrary: fc.array(request, { minLength: 1, maxLength: 32 }).map((frames) => ({ kind: 'methods' as const, logIn: true, frames })) },
    { weight: 6, arbitrary: fc.tuple(fc.boolean(), fc.array(anyFrame(tokens.overrides), { minLength: 1, maxLength: 48 })).map(([logIn, frames]) => ({ kind: 'any' as const, logIn, frames })) },
    { weight: 1, arbitrary: login.map((frame) => ({ kind: 'login' as const, logIn: false, frames: [tokens.expectFor(frame)] })) },
  );
}

async function main(): Promise<void> {
  // The run exercises the protocol, not the disk: a data directory on tmpfs (`--data-dir /dev/shm/…`) keeps fsync out of it.
  const dataDir = values['data-dir'] === undefined ? undefined : mkdtempSync(join(values['data-dir'], 'parley-fuzz-'));
  const engine = await startEngine({ ...(values.nats === undefined ? {} : { natsUrl: values.nats }), ...(dataDir === undefined ? {} : { dataDir }) });
  // Fresh accounts every ROTATE_FRAMES frames: each valid send adds a session to its sender, and an account with
  // tens of thousands of sessions makes every login of it slow, which would measure that instead of the wire.
  let generation = 0;
  let tokens = await fuzzTokens(seed);
  let arb = batches(tokens);
  let rotateAt = ROTATE_FRAMES;
  let rotating: Promise<void> | undefined;
  const rotate = async (): Promise<void> => {
    const next = await fuzzTokens(seed, generation + 1);
    generation++;
    tokens = next;
    arb = batches(next);
  };
  let sent = 0;
  let chunk = 0;
  let failed = false;
  const started = Date.now();
  let lastReport = started;

  const worker = async (w: number): Promise<void> => {
    let ready: FuzzSocket | undefined;
    let readyGeneration = -1;
    const loggedIn = async (): Promise<FuzzSocket> => {
      if (ready?.open && readyGeneration === generation) return ready;
      ready?.terminate();
      readyGeneration = generation;
      const s = await FuzzSocket.open(engine.url);
      const problems = await sendBatch(s, [tokens.login()]);
      if (problems.length > 0) throw new Error(`login failed: ${problems.join('; ')}`);
      ready = s;
      return s;
    };
    while (!failed && sent < target) {
      if (sent >= rotateAt) {
        rotateAt += ROTATE_FRAMES;
        rotating = rotate();
      }
      if (rotating !== undefined) await rotating;
      const n = chunk++;
      for (const batch of fc.sample(arb, { seed: seed * 7919 + n, numRuns: CHUNK })) {
        if (failed || sent >= target) break;
        const socket = batch.logIn ? await loggedIn() : await FuzzSocket.open(engine.url);
        const problems = await sendBatch(socket, batch.frames);
        sent += batch.frames.length;
        if (!batch.logIn) socket.terminate();
        if (problems.length > 0) {
          failed = true;
          console.error(`breach in worker ${w}, chunk ${n} of seed ${seed} (${batch.kind} batch):\n  ${problems.join('\n  ')}`);
          console.error(`the batch:\n  ${batch.frames.map(show).join('\n  ')}`);
        }
      }
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        const s = (lastReport - started) / 1000;
        console.log(`${sent} frames in ${s.toFixed(0)} s (${(sent / s).toFixed(0)}/s)`);
      }
    }
    ready?.terminate();
  };

  try {
    await Promise.all(Array.from({ length: sockets }, (_, w) => worker(w)));
    if (!failed) await healthCheck(engine.url);
  } finally {
    await engine.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`${failed ? 'FAILED' : 'ok'}: ${sent} frames in ${seconds.toFixed(1)} s (${(sent / seconds).toFixed(0)} frames/s), seed ${seed}, ${values.nats === undefined ? 'embedded' : 'nats'} mode, ${sockets} sockets`);
  process.exitCode = failed ? 1 : 0;
}

await main();
