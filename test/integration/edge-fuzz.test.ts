/**
 * Nothing a client sends may crash the edge or affect other clients: a
 * bounded run of random frames — random bytes, random msgpack values, and
 * well-formed requests with random arguments — against a real engine, with a
 * bystander that must keep being served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../engine/protocol/codec.ts';
import { methods } from '../../engine/protocol/methods.ts';
import { startEngine, tokenFor, type TestEngine } from '../helpers/engine.ts';
import { RawClient } from '../helpers/raw-client.ts';

/** A small deterministic generator, so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

function randomValue(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 2 ? 6 : 9));
  switch (k) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return Math.floor((r() - 0.5) * 2 ** (r() * 60));
    case 3: return r() * 1e6;
    case 4: return 'x'.repeat(Math.floor(r() * 40)) + String.fromCharCode(Math.floor(r() * 0xd7ff));
    case 5: return new Uint8Array(Math.floor(r() * 20)).map(() => Math.floor(r() * 256));
    case 6: return Array.from({ length: Math.floor(r() * 5) }, () => randomValue(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 5); i > 0; i--) {
        const key = ['id', 'm', 'a', 'scene', 'to', 'text', 'limit', '__proto__', 'constructor'][Math.floor(r() * 9)]!;
        // An own property even for `__proto__`, as a decoder would produce from the wire.
        Object.defineProperty(o, key, { value: randomValue(r, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
  }
}

describe('edge fuzz', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('survives random frames from logged-in and anonymous sockets, and keeps serving others', { timeout: 60_000 }, async () => {
    const seed = Number(process.env.PARLEY_FUZZ_SEED ?? Date.now() % 100_000);
    const r = rng(seed);
    const names = Object.keys(methods);
    const bystander = await RawClient.open(engine.url);
    await bystander.request('login', { token: await tokenFor('bystander') });

    for (let round = 0; round < 20; round++) {
      const c = await RawClient.open(engine.url);
      if (r() < 0.7) await c.request('login', { token: await tokenFor(`fuzz${round}`) });
      for (let i = 0; i < 50 && c.isOpen; i++) {
        const kind = r();
        if (kind < 0.25) c.sendBytes(new Uint8Array(Math.floor(r() * 64)).map(() => Math.floor(r() * 256)));
        else if (kind < 0.5) c.sendBytes(encode(randomValue(r)));
        else if (kind < 0.55) c.sendBytes(String(randomValue(r)));
        else {
          const a: Record<string, unknown> = { scene: 'p2p', to: `peer${round}`, text: 'hi' };
          for (let j = Math.floor(r() * 4); j > 0; j--) a[['scene', 'to', 'text', 'limit', 'idClient', 'sessionId', 'beginTime', 'msgTypes'][Math.floor(r() * 8)]!] = randomValue(r);
          c.sendBytes(encode({ id: Math.floor(r() * 2 ** 32), m: names[Math.floor(r() * names.length)], a }));
        }
      }
      c.terminate();
      const t = await bystander.request('getServerTime', undefined, 5000);
      expect(typeof t.r, `seed ${seed}, round ${round}`).toBe('number');
    }
    const res = await fetch(`http://127.0.0.1:${engine.port}/healthz`);
    expect(res.status, `seed ${seed}`).toBe(200);
    bystander.terminate();
  });
});
