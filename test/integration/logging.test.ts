/**
 * Structured logs: pino JSON lines at the configured level, one line per
 * login and logout (and per partition move in a cluster), correlation ids
 * shared by a request's lines and its INTERNAL error, and never a token or a
 * message's text.
 */
import { Writable } from 'node:stream';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { logger } from '../../engine/logger.ts';
import { EmbeddedBus } from '../../engine/bus/embedded-bus.ts';
import { LmdbLog } from '../../engine/log/lmdb-log.ts';
import { StateStore } from '../../engine/store.ts';
import { ActorHost } from '../../engine/actor/host.ts';
import { StaticOwnership } from '../../engine/actor/ownership.ts';
import { ActorClient } from '../../engine/actor/call.ts';
import type { ActorBehavior } from '../../engine/actor/behavior.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { startEngine, tempDir, tokenFor } from '../helpers/engine.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';

/** Every line the logger writes while the file runs. */
const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(line);
    done();
  },
});

beforeAll(() => {
  logger.setDestination(sink);
});
afterAll(() => {
  logger.setDestination(pino.destination({ fd: 2, sync: true }));
});

/** The parsed lines with `msg`, whose fields include `fields`. */
function linesOf(msg: string, fields: Record<string, unknown> = {}): Record<string, unknown>[] {
  return lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
}

let accountSeq = 0;
function account(name: string): string {
  return `${name}${++accountSeq}l${Date.now().toString(36)}`;
}

describeBothModes('logs', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_LOG_LEVEL: 'debug' } });
  const conns = useConnections(() => engine.url);

  it('writes JSON lines, one per login and logout, without the token or the text', async () => {
    const alice = account('alice');
    const bob = account('bob');
    const token = await tokenFor(alice);
    const text = `a very private text ${Math.random().toString(36).slice(2)}`;
    const a = await conns.client(alice, { token, deviceId: 'phone-1', deviceType: 'android' });
    const b = await conns.client(bob);
    let got = 0;
    b.on('msg', () => got++);
    await a.sendText({ scene: 'p2p', to: bob, text });
    await waitFor('the delivery', () => got === 1);
    await a.disconnect();
    await waitFor('the logout line', () => linesOf('logout', { account: alice }).length === 1);

    expect(linesOf('login', { account: alice, deviceId: 'phone-1', deviceType: 'android' })).toHaveLength(1);
    expect(linesOf('login', { account: alice })[0]!.cid).toMatch(/#\d+$/);
    expect(linesOf('logout', { account: alice, deviceId: 'phone-1' })).toHaveLength(1);
    for (const line of lines) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(typeof parsed.level).toBe('string');
      expect(typeof parsed.time).toBe('string');
      expect(typeof parsed.msg).toBe('string');
    }
    const all = lines.join('\n');
    expect(all).not.toContain(token);
    expect(all).not.toContain(token.split('.')[2]!);
    expect(all).not.toContain(text);
    // At debug level there are lines about this work at all, so the greps above had something to look at.
    expect(linesOf('login').length).toBeGreaterThan(0);
  });

  if (mode.name === 'nats') {
    it('writes one line per partition move', async () => {
      const before = linesOf('partition acquired').length;
      const actors = await startEngine(mode.engineOptions({ role: 'actors', env: { PARLEY_LOG_LEVEL: 'debug' } }));
      try {
        await waitFor('partitions to move', () => linesOf('partition acquired', { takeover: true }).length > 0 && linesOf('partition handed over').length > 0, 15_000);
      } finally {
        await actors.stop();
      }
      const moved = linesOf('partition acquired').slice(before);
      // One line per move, naming its partition.
      expect(moved.length).toBeGreaterThan(0);
      for (const l of moved) expect(Number.isInteger(l.partition) && typeof l.takeover === 'boolean').toBe(true);
      for (const l of linesOf('partition handed over')) expect(Number.isInteger(l.partition)).toBe(true);
    });
  }
});

describe('logs: correlation ids', () => {
  it('names the same id in the INTERNAL error and in the actor host line about it', async () => {
    const dir = tempDir();
    const bus = new EmbeddedBus();
    const log = new LmdbLog(join(dir, 'log'));
    const store = new StateStore(dir);
    const failing: ActorBehavior<object, never> = {
      kind: 'failing',
      reads: new Set(),
      load: () => ({ state: {}, logSeq: 0 }),
      handle: () => {
        throw new TypeError('cannot read a property of undefined');
      },
      apply: (s) => s,
      persist: () => {},
      effects: () => [],
    };
    const host = new ActorHost({
      bus,
      log,
      store,
      ownership: new StaticOwnership(4),
      behaviors: [failing],
      nodeId: 'test',
      partitions: 4,
      mailboxLimit: 10,
      actorIdleMs: 60_000,
      callTimeoutMs: 2000,
    });
    await host.start();
    try {
      const caller = { account: 'alice', deviceId: 'd1', deviceType: 'web' as const, conn: 'edge-a/17' };
      const err = await rejectionOf(new ActorClient(bus, { partitions: 4, timeoutMs: 2000 }).callRaw('failing:x', 'poke', {}, caller, 2000, 42));
      expect(err.name).toBe('INTERNAL');
      expect(err.message).toContain('correlation id edge-a/17#42');
      const logged = linesOf('actor command failed', { cid: 'edge-a/17#42' });
      expect(logged).toHaveLength(1);
      expect(logged[0]!.address).toBe('failing:x');
      expect((logged[0]!.err as { message: string }).message).toBe('cannot read a property of undefined');
    } finally {
      await host.stop();
      await log.close();
      await store.close();
      await bus.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
