/**
 * Nothing a client sends may crash the engine, get INTERNAL, or go
 * unanswered: property-based runs (fast-check) over real uWS sockets against
 * the real engine, embedded and on NATS. Frames are random bytes, mutated
 * requests, hostile MessagePack values (extensions, 0xc1, non-string keys,
 * deep nesting) and requests for every method with arguments generated from
 * its schema, valid or with one member broken. Afterwards a fresh login, a
 * send and a history read must work.
 *
 * Seeded: PARLEY_FUZZ_SEED replays a run (the default is fixed, so CI is
 * repeatable); PARLEY_FUZZ_RUNS scales the number of runs per property.
 * `scripts/fuzz-long.ts` is the long run (a million frames and more).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeBothModes } from '../helpers/modes.ts';
import { setupOrFail } from '../helpers/setup-or-fail.ts';
import { EXTENSIONS, METHOD_NAMES, anyFrame, brokenRequest, methodRequests, validRequest, validValue, writeMsgpackRequest } from '../fuzz/arbitraries.ts';
import { methods } from '../../engine/protocol/methods.ts';
import { nested } from '../fuzz/msgpack-writer.ts';
import type { FuzzFrame } from '../fuzz/arbitraries.ts';
import { FuzzSocket, sendBatch } from '../fuzz/driver.ts';
import { fuzzTokens, healthCheck } from '../fuzz/tokens.ts';
import type { FuzzTokens } from '../fuzz/tokens.ts';

const SEED = Number(process.env.PARLEY_FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.PARLEY_FUZZ_RUNS ?? 300);
/** Wall-clock bound of each property, ms: the runs stop early rather than overrun CI. */
const PROPERTY_MS = 7_000;

describeBothModes('edge fuzz', ({ name, useEngine }) => {
  const engine = useEngine();
  let tokens: FuzzTokens;
  /** A logged-in socket reused across runs until something closes it. */
  let ready: FuzzSocket | undefined;
  const opened: FuzzSocket[] = [];
  let frames = 0;

  setupOrFail(async () => {
    tokens = await fuzzTokens(SEED);
  });

  afterAll(async () => {
    for (const s of opened) s.terminate();
  });

  async function fresh(): Promise<FuzzSocket> {
    const s = await FuzzSocket.open(engine.url);
    opened.push(s);
    return s;
  }

  async function loggedIn(): Promise<FuzzSocket> {
    if (ready?.open) return ready;
    const s = await fresh();
    const problems = await sendBatch(s, [tokens.login()]);
    expect(problems).toEqual([]);
    expect(s.replies.at(-1)?.r, JSON.stringify(s.replies.at(-1))).toBeTypeOf('object');
    ready = s;
    return s;
  }

  async function check(socket: FuzzSocket, batch: readonly FuzzFrame[]): Promise<void> {
    frames += batch.length;
    const problems = await sendBatch(socket, batch);
    expect(problems, `seed ${SEED} (${name})`).toEqual([]);
  }

  const params = (runs: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs, interruptAfterTimeLimit: PROPERTY_MS, markInterruptAsFailure: false, endOnFailure: true });

  it('answers every method, valid or with one argument broken, naming the broken one', { timeout: 60_000 }, async () => {
    const notLogin = METHOD_NAMES.filter((m) => m !== 'login');
    const request = methodRequests(notLogin, tokens.overrides);
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 24 }), async (batch) => {
        await check(await loggedIn(), batch);
      }),
      params(RUNS),
    );
  });

  it('answers a login, valid or with one argument broken, on a fresh socket', { timeout: 60_000 }, async () => {
    const login = fc.oneof(validRequest('login', tokens.overrides), brokenRequest('login', tokens.overrides));
    await fc.assert(
      fc.asyncProperty(login, async (frame) => {
        const s = await fresh();
        // A token that is not a valid login makes a valid-looking login fail with UNAUTHORIZED, as it must.
        await check(s, [tokens.expectFor(frame)]);
        s.terminate();
      }),
      params(Math.ceil(RUNS / 2)),
    );
  });

  it('survives any frames, on fresh and logged-in sockets, with no INTERNAL and no silence', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(anyFrame(tokens.overrides), { minLength: 1, maxLength: 32 }), async (logIn, batch) => {
        const s = logIn ? await loggedIn() : await fresh();
        await check(s, batch);
        if (!logIn) s.terminate();
      }),
      params(RUNS * 2),
    );
  });

  it('refuses an extension or deep nesting in every member of every method, naming the member', { timeout: 60_000 }, async () => {
    // A socket of its own: the earlier properties may leave theirs mid-way (a malformed frame last, replies still due).
    ready = undefined;
    const socket = await loggedIn();
    for (const m of METHOD_NAMES) {
      const base = fc.sample(validValue(methods[m], '', tokens.overrides), { seed: SEED, numRuns: 1 })[0] as Record<string, unknown>;
      for (const member of Object.keys(methods[m].shape)) {
        const batch: FuzzFrame[] = [];
        for (const value of [...EXTENSIONS, nested(64)]) {
          const frame = writeMsgpackRequest(m, { ...base, [member]: value }, { kind: 'broken', path: member, names: ['BAD_REQUEST'] });
          // A well-formed request after each, so the socket is not closed for malformed frames in a row.
          batch.push(frame, writeMsgpackRequest('getServerTime', {}, { kind: 'valid' }));
        }
        await check(socket, batch);
      }
    }
    expect(socket.open).toBe(true);
  });

  it('serves a fresh login, a send and a history read afterwards', { timeout: 30_000 }, async () => {
    expect(frames).toBeGreaterThan(100);
    await healthCheck(engine.url);
    const res = await fetch(`http://127.0.0.1:${engine.port}/healthz`);
    expect(res.status).toBe(200);
  });
});
