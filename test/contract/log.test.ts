/**
 * The Log contract: one suite, run against LmdbLog (a temporary directory)
 * and JetStreamLog (a real nats-server). Tests share one store per suite and
 * keep apart by using subjects of their own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { LogConflictError, type Log, type LogEntry } from '../../engine/log/log.ts';
import { LmdbLog } from '../../engine/log/lmdb-log.ts';
import { JetStreamLog, logStreamConfig } from '../../engine/log/jetstream-log.ts';
import { connectNats } from '../../engine/bus/nats-bus.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import { logger } from '../../engine/logger.ts';
import { startNatsServer, useNatsServer, type NatsServer } from '../helpers/nats-server.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';
import { setupOrFail } from '../helpers/setup-or-fail.ts';

logger.setLevel('warn');

interface LogTarget {
  /** Called once before the suite (start servers, make directories). */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** Opens the suite's store. */
  open(): Promise<Log>;
  /** Closes `log` and opens the same store afresh (LMDB: the directory again; JetStream: a new connection). */
  reopen(log: Log): Promise<Log>;
  /** Positions are 1, 2, 3… per subject (LMDB) rather than stream-wide (JetStream). */
  contiguous: boolean;
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const texts = (entries: LogEntry[]) => entries.map((e) => dec(e.data));

let subjectCounter = 0;
const run = Date.now().toString(36);
/** A Log subject no other test uses: `parley.log.<partition>.conv.<unique>`. */
function freshSubject(partition = 3, name = 's'): string {
  return `parley.log.${partition}.conv.${run}-${name}-${++subjectCounter}`;
}

/** Appends `values` one after the other, each naming the previous position; returns the positions. */
async function appendAll(log: Log, subject: string, values: string[]): Promise<number[]> {
  const positions: number[] = [];
  let last = await log.lastSeq(subject);
  for (const v of values) {
    last = await log.append(subject, enc(v), last);
    positions.push(last);
  }
  return positions;
}

function logContract(name: string, target: LogTarget): void {
  describe(`Log contract: ${name}`, () => {
    let log: Log;

    setupOrFail(() => target.setup());
    afterAll(() => target.teardown());
    beforeEach(async () => {
      log = await target.open();
    });
    afterEach(() => log?.close());

    it('reports 0 and no entries for a subject never written', async () => {
      const s = freshSubject();
      expect(await log.lastSeq(s)).toBe(0);
      expect(await log.read(s, 0)).toEqual([]);
      expect(await log.read(s, 1)).toEqual([]);
    });

    it('accepts expected position 0 on an empty subject', async () => {
      const s = freshSubject();
      const seq = await log.append(s, enc('first'), 0);
      expect(seq).toBeGreaterThan(0);
      if (target.contiguous) expect(seq).toBe(1);
      expect(await log.lastSeq(s)).toBe(seq);
      const entries = await log.read(s, 0);
      expect(entries.map((e) => e.seq)).toEqual([seq]);
      expect(texts(entries)).toEqual(['first']);
    });

    it('gives increasing positions', async () => {
      const s = freshSubject();
      const positions = await appendAll(log, s, ['a', 'b', 'c', 'd', 'e']);
      for (let i = 1; i < positions.length; i++) expect(positions[i]!).toBeGreaterThan(positions[i - 1]!);
      if (target.contiguous) expect(positions).toEqual([1, 2, 3, 4, 5]);
      expect(await log.lastSeq(s)).toBe(positions[4]);
    });

    it('refuses a wrong expected position, too low or too high, and leaves the subject unchanged', async () => {
      const s = freshSubject();
      const [p1, p2] = await appendAll(log, s, ['a', 'b']);
      for (const wrong of [0, p1!, p2! - 1, p2! + 1, p2! + 1000]) {
        if (wrong === p2) continue;
        const err = await rejectionOf(log.append(s, enc('x'), wrong));
        expect(err).toBeInstanceOf(LogConflictError);
        expect((err as LogConflictError).subject).toBe(s);
        expect((err as LogConflictError).expected).toBe(wrong);
      }
      expect(await log.lastSeq(s)).toBe(p2);
      expect(texts(await log.read(s, 0))).toEqual(['a', 'b']);
      const p3 = await log.append(s, enc('c'), p2!);
      expect(p3).toBeGreaterThan(p2!);
    });

    it('lets exactly one of several concurrent appends with the same expectation win', async () => {
      const s = freshSubject();
      for (let round = 0; round < 3; round++) {
        const expected = await log.lastSeq(s);
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => log.append(s, enc(`r${round}-${i}`), expected)),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(LogConflictError);
        expect(await log.lastSeq(s)).toBe((won[0] as PromiseFulfilledResult<number>).value);
      }
      expect(await log.read(s, 0)).toHaveLength(3);
    });

    it('reads from the start, from the middle, with a limit, and from past the end', async () => {
      const s = freshSubject();
      const values = Array.from({ length: 10 }, (_, i) => `v${i}`);
      const p = await appendAll(log, s, values);

      const all = await log.read(s, 0);
      expect(all.map((e) => e.seq)).toEqual(p);
      expect(texts(all)).toEqual(values);
      expect(texts(await log.read(s, 1))).toEqual(values);

      expect(texts(await log.read(s, p[4]!))).toEqual(values.slice(4));
      expect(texts(await log.read(s, p[4]! + 1))).toEqual(values.slice(5));
      expect(texts(await log.read(s, 0, 3))).toEqual(values.slice(0, 3));
      expect((await log.read(s, p[2]!, 2)).map((e) => e.seq)).toEqual([p[2], p[3]]);
      expect(await log.read(s, p[9]! + 1)).toEqual([]);
      expect(await log.read(s, p[9]! + 1000)).toEqual([]);
      expect(await log.read(s, 0, 0)).toEqual([]);
    });

    it('reads pages of the default size (1000) and continues from the last position', async () => {
      const s = freshSubject();
      const values = Array.from({ length: 1203 }, (_, i) => `page-${i}`);
      let expected = 0;
      const positions: number[] = [];
      for (const v of values) {
        const seq = await log.append(s, enc(v), expected);
        positions.push(seq);
        expected = seq;
      }
      const first = await log.read(s, 0);
      expect(first).toHaveLength(1000);
      const rest = await log.read(s, first[999]!.seq + 1);
      expect(texts([...first, ...rest])).toEqual(values);
    });

    it('keeps subjects independent', async () => {
      const a = freshSubject(3, 'ab');
      const b = `${a}x`; // a string prefix of b
      const c = `${a}.c`; // a token below a
      const pb = await log.append(b, enc('b1'), 0);
      const pc = await log.append(c, enc('c1'), 0);
      const pa = await appendAll(log, a, ['a1', 'a2', 'a3']);
      expect(await log.lastSeq(b)).toBe(pb);
      expect(await log.lastSeq(c)).toBe(pc);
      expect(await log.lastSeq(a)).toBe(pa[2]);
      expect(texts(await log.read(b, 0))).toEqual(['b1']);
      expect(texts(await log.read(c, 0))).toEqual(['c1']);
      expect(texts(await log.read(a, 0))).toEqual(['a1', 'a2', 'a3']);
      // b's own expectation still holds even though a moved.
      const pb2 = await log.append(b, enc('b2'), pb);
      expect(pb2).toBeGreaterThan(pb);
      await expect(log.append(a, enc('late'), pa[1]!)).rejects.toBeInstanceOf(LogConflictError);
    });

    it('fences appends on another subject: they pass while its position holds and fail once it moves', async () => {
      const fence = `parley.log.5.fence${run}-${++subjectCounter}`;
      const a = freshSubject(5, 'fa');
      const b = freshSubject(5, 'fb');
      const f1 = await log.append(fence, enc('owner 1'), 0);
      // Several writers append concurrently under one fence position.
      const [a1, b1, a2] = await Promise.all([
        log.append(a, enc('a1'), f1, fence),
        log.append(b, enc('b1'), f1, fence),
        log.append(`${a}x`, enc('ax'), f1, fence),
      ]);
      expect(a1).toBeGreaterThan(0);
      expect(b1).toBeGreaterThan(0);
      expect(a2).toBeGreaterThan(0);
      expect(await log.lastSeq(fence)).toBe(f1);
      const f2 = await log.append(fence, enc('owner 2'), f1);
      const err = await log.append(a, enc('stale'), f1, fence).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LogConflictError);
      expect((err as LogConflictError).subject).toBe(fence);
      expect(texts(await log.read(a, 0))).toEqual(['a1']);
      await log.append(a, enc('a2'), f2, fence);
      expect(texts(await log.read(a, 0))).toEqual(['a1', 'a2']);
    });

    it('lists the subjects of a partition written last, within a window before its newest entry', async () => {
      const p = 40 + (++subjectCounter % 20);
      const tag = `${run}-${subjectCounter}`;
      const old = `parley.log.${p}.conv.old${tag}`;
      await log.append(old, enc('x'), 0);
      const gapStart = Date.now();
      await waitFor('a clear gap in time', () => Date.now() - gapStart > 300);
      const fresh = [`parley.log.${p}.conv.a${tag}`, `parley.log.${p}.user.b${tag}`];
      for (const s of fresh) await log.append(s, enc('y'), 0);
      await log.append(fresh[0]!, enc('z'), await log.lastSeq(fresh[0]!));
      await log.append(`parley.log.${p}.fence`, enc('not an actor'), await log.lastSeq(`parley.log.${p}.fence`));
      await log.append(`parley.log.${(p + 1) % 64}.conv.elsewhere${tag}`, enc('w'), 0);
      expect((await log.recentSubjects(`parley.log.${p}.*.*`, 200, 100)).sort()).toEqual([...fresh].sort());
      expect((await log.recentSubjects(`parley.log.${p}.*.*`, 60_000, 100)).sort()).toEqual([...fresh, old].sort());
      expect(await log.recentSubjects(`parley.log.${p}.conv.*`, 200, 100)).toEqual([fresh[0]]);
      expect(await log.recentSubjects(`parley.log.${p}.*.*`, 60_000, 1)).toHaveLength(1);
    });

    it('handles many subjects in one partition and across partitions', async () => {
      const inOne = Array.from({ length: 150 }, (_, i) => freshSubject(5, `one${i}`));
      const across = Array.from({ length: 64 }, (_, p) => freshSubject(p, `part${p}`));
      const subjects = [...inOne, ...across];
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          subjects.map(async (s) => {
            const last = await log.lastSeq(s);
            await log.append(s, enc(`${s}#${round}`), last);
          }),
        );
      }
      for (const s of subjects) {
        const entries = await log.read(s, 0);
        expect(texts(entries)).toEqual([0, 1, 2].map((r) => `${s}#${r}`));
        expect(await log.lastSeq(s)).toBe(entries[2]!.seq);
        if (target.contiguous) expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
      }
    });

    it('resolves a large batch of pipelined appends on different subjects with correct positions', async () => {
      const subjects = Array.from({ length: 3000 }, (_, i) => freshSubject(i % 64, `bulk${i}`));
      // All issued in one tick, nothing awaited in between.
      const positions = await Promise.all(subjects.map((s, i) => log.append(s, enc(`bulk-${i}`), 0)));
      if (target.contiguous) expect(new Set(positions)).toEqual(new Set([1]));
      for (const p of positions) expect(p).toBeGreaterThan(0);
      expect(await Promise.all(subjects.map((s) => log.lastSeq(s)))).toEqual(positions);
      const reads = await Promise.all(subjects.map((s) => log.read(s, 0)));
      for (let i = 0; i < subjects.length; i++) {
        expect(reads[i]!.map((e) => e.seq)).toEqual([positions[i]]);
        expect(dec(reads[i]![0]!.data)).toBe(`bulk-${i}`);
      }
      // A second wave naming the first wave's positions succeeds everywhere.
      const second = await Promise.all(subjects.map((s, i) => log.append(s, enc(`again-${i}`), positions[i]!)));
      for (let i = 0; i < subjects.length; i++) expect(second[i]!).toBeGreaterThan(positions[i]!);
    });

    it('keeps bytes intact', async () => {
      const s = freshSubject();
      const bin = Uint8Array.from({ length: 256 }, (_, i) => i);
      const big = new Uint8Array(256 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      const p1 = await log.append(s, bin, 0);
      const p2 = await log.append(s, big, p1);
      const p3 = await log.append(s, new Uint8Array(0), p2);
      const entries = await log.read(s, 0);
      expect(entries.map((e) => e.seq)).toEqual([p1, p2, p3]);
      expect(Buffer.from(entries[0]!.data).equals(Buffer.from(bin))).toBe(true);
      expect(Buffer.from(entries[1]!.data).equals(Buffer.from(big))).toBe(true);
      expect(entries[2]!.data.length).toBe(0);
    });

    it('keeps everything across closing and reopening', async () => {
      const s = freshSubject();
      const other = freshSubject(9);
      const p = await appendAll(log, s, ['x', 'y', 'z']);
      const q = await log.append(other, enc('o'), 0);
      log = await target.reopen(log);
      expect(await log.lastSeq(s)).toBe(p[2]);
      expect(await log.lastSeq(other)).toBe(q);
      const entries = await log.read(s, 0);
      expect(entries.map((e) => e.seq)).toEqual(p);
      expect(texts(entries)).toEqual(['x', 'y', 'z']);
      await expect(log.append(s, enc('stale'), p[1]!)).rejects.toBeInstanceOf(LogConflictError);
      expect(await log.append(s, enc('w'), p[2]!)).toBeGreaterThan(p[2]!);
    });

    it('refuses to work once closed', async () => {
      const s = freshSubject();
      await log.close();
      await log.close(); // idempotent
      for (const op of [log.append(s, enc('x'), 0), log.read(s, 0), log.lastSeq(s)]) {
        const err = await rejectionOf(op);
        expect(err).toBeInstanceOf(ParleyError);
        expect(err.name).toBe('UNAVAILABLE');
      }
      log = await target.open();
      expect(await log.lastSeq(s)).toBe(0);
    });
  });
}

// ---------------------------------------------------------------- LMDB

let lmdbDir = '';
logContract('LmdbLog', {
  contiguous: true,
  setup: async () => {
    lmdbDir = mkdtempSync(join(tmpdir(), 'parley-lmdb-log-'));
  },
  teardown: async () => {
    rmSync(lmdbDir, { recursive: true, force: true });
  },
  open: async () => new LmdbLog(join(lmdbDir, 'log')),
  reopen: async (log) => {
    await log.close();
    return new LmdbLog(join(lmdbDir, 'log'));
  },
});

describe('LmdbLog durability', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-lmdb-kill-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second instance on the same directory in one process', async () => {
    const first = new LmdbLog(join(dir, 'twice'));
    try {
      expect(() => new LmdbLog(join(dir, 'twice'))).toThrow(/already open/);
    } finally {
      await first.close();
    }
  });

  it('stays correct when its table of last positions forgets subjects', async () => {
    const log = new LmdbLog(join(dir, 'small-cache'), { maxCachedSubjects: 10 });
    try {
      const subjects = Array.from({ length: 100 }, (_, i) => `parley.log.2.conv.evict${i}`);
      for (let round = 0; round < 3; round++) {
        const positions = await Promise.all(subjects.map((s) => log.append(s, enc(`${s}#${round}`), round)));
        expect(positions).toEqual(subjects.map(() => round + 1));
        // Stale expectations are refused whether or not the subject is still in memory.
        const stale = await Promise.allSettled(subjects.map((s) => log.append(s, enc('stale'), round)));
        for (const r of stale) expect(r.status === 'rejected' && r.reason instanceof LogConflictError).toBe(true);
      }
      for (const s of subjects) {
        expect(await log.lastSeq(s)).toBe(3);
        expect(texts(await log.read(s, 0))).toEqual([0, 1, 2].map((r) => `${s}#${r}`));
      }
    } finally {
      await log.close();
    }
  });

  it('keeps every acknowledged append when the process is killed with SIGKILL', async () => {
    const path = join(dir, 'killed');
    const module = fileURLToPath(new URL('../../engine/log/lmdb-log.ts', import.meta.url));
    // The child appends in pipelined batches and prints each position once its promise resolved.
    const program = `
      import { LmdbLog } from ${JSON.stringify(module)};
      const log = new LmdbLog(${JSON.stringify(path)});
      const last = new Map();
      for (let batch = 0; ; batch++) {
        const subjects = Array.from({ length: 50 }, (_, i) => 'parley.log.1.conv.k' + i);
        await Promise.all(subjects.map(async (s) => {
          const seq = await log.append(s, new TextEncoder().encode(s + '@' + batch), last.get(s) ?? 0);
          last.set(s, seq);
          process.stdout.write(s + ' ' + seq + '\\n');
        }));
      }`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: fileURLToPath(new URL('../../', import.meta.url)),
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitFor('the child to acknowledge 2000 appends', () => out.split('\n').length > 2000 || child.exitCode !== null, 20_000);
      expect(child.exitCode, err).toBeNull();
      child.kill('SIGKILL');
      await exited;
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const acked = new Map<string, number>();
    for (const line of out.split('\n')) {
      const [s, seq] = line.split(' ');
      if (s !== undefined && seq !== undefined && seq !== '') acked.set(s, Math.max(acked.get(s) ?? 0, Number(seq)));
    }
    expect(acked.size).toBe(50);
    const log = new LmdbLog(path);
    try {
      for (const [s, seq] of acked) {
        expect(await log.lastSeq(s)).toBeGreaterThanOrEqual(seq);
        const entries = await log.read(s, 0, 100_000);
        expect(entries.map((e) => e.seq).slice(0, seq)).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
      }
    } finally {
      await log.close();
    }
  });
});

// ---------------------------------------------------------------- JetStream

let jsServer: NatsServer | undefined;
const connections = new Map<Log, NatsConnection>();

type JetStreamLogOptions = ConstructorParameters<typeof JetStreamLog>[1];

async function openJetStreamLog(server: NatsServer, options: JetStreamLogOptions = {}, ensure = true): Promise<JetStreamLog> {
  const nc = await connectNats(server.url, 'log-contract');
  const log = new JetStreamLog(nc, { streams: 4, partitions: 64, ...options });
  if (ensure) await log.ensureStreams();
  connections.set(log, nc);
  return log;
}

async function closeJetStreamLog(log: Log): Promise<void> {
  await log.close();
  const nc = connections.get(log);
  connections.delete(log);
  if (nc !== undefined && !nc.isClosed()) await nc.close();
}

logContract('JetStreamLog', {
  contiguous: false,
  setup: async () => {
    jsServer = await startNatsServer({ jetstream: true });
  },
  teardown: async () => {
    for (const log of [...connections.keys()]) await closeJetStreamLog(log);
    await jsServer?.stop();
  },
  open: () => openJetStreamLog(jsServer!),
  reopen: async (log) => {
    await closeJetStreamLog(log);
    return openJetStreamLog(jsServer!);
  },
});

describe('JetStreamLog on nats-server', () => {
  const nats = useNatsServer({ jetstream: true, syncInterval: 'always' });
  const opened: JetStreamLog[] = [];
  const open = async (options: JetStreamLogOptions = {}, ensure = true) => {
    const log = await openJetStreamLog(nats(), options, ensure);
    opened.push(log);
    return log;
  };
  afterEach(async () => {
    for (const log of opened.splice(0)) await closeJetStreamLog(log);
  });

  it('creates one stream per group of partitions, idempotently', async () => {
    const log = await open({ streams: 4, partitions: 64 });
    await log.ensureStreams();
    await log.ensureStreams();
    const jsm = await jetstreamManager(connections.get(log)!);
    for (let i = 0; i < 4; i++) {
      const info = await jsm.streams.info(`PARLEY_LOG_${i}`);
      expect(info.config.subjects).toEqual(logStreamConfig(i, 4, 64, 1).subjects);
      expect(info.config.subjects).toHaveLength(16);
      for (const subject of info.config.subjects) expect(Number(subject.split('.')[2]) % 4).toBe(i);
      expect(info.config.storage).toBe('file');
      expect(info.config.allow_direct).toBe(true);
      expect(info.config.num_replicas).toBe(1);
    }
    // Appends land in the stream of their partition.
    await log.append('parley.log.6.conv.layout', enc('x'), 0);
    const stream2 = await jsm.streams.info('PARLEY_LOG_2', { subjects_filter: 'parley.log.6.>' });
    expect(stream2.state.subjects?.['parley.log.6.conv.layout']).toBe(1);
  });

  it("can take last positions from the stream leader, agreeing with direct gets", async () => {
    const direct = await open();
    const leader = await open({ leaderLastSeq: true }, false);
    const s = `parley.log.9.conv.leader-${Date.now()}`;
    expect(await leader.lastSeq(s)).toBe(0);
    const p1 = await direct.append(s, enc('a'), 0);
    const p2 = await direct.append(s, enc('b'), p1);
    expect(await leader.lastSeq(s)).toBe(p2);
    expect(await direct.lastSeq(s)).toBe(p2);
  });

  it('accepts expected position 0 only while the subject is empty (nats-server 2.12 semantics)', async () => {
    const log = await open();
    const s = freshSubject(7, 'zero');
    const first = await log.append(s, enc('1'), 0);
    const err = await rejectionOf(log.append(s, enc('2'), 0));
    expect(err).toBeInstanceOf(LogConflictError);
    expect(await log.append(s, enc('2'), first)).toBeGreaterThan(first);
  });

  it('refuses subjects outside the Log with BAD_REQUEST', async () => {
    const log = await open();
    for (const bad of ['other.subject', 'parley.log.x.conv.a', 'parley.log.64.conv.a', 'parley.log.3']) {
      const err = await rejectionOf(log.append(bad, enc('x'), 0));
      expect(err.name).toBe('BAD_REQUEST');
    }
  });

  it('fails with UNAVAILABLE when no stream holds the subject, and with an unknown outcome when no ack comes', async () => {
    await open(); // the streams, for 64 partitions
    // A Log configured for more partitions than the streams hold (and not allowed to change them).
    const log = await open({ partitions: 128, ackTimeoutMs: 300 }, false);
    const noStream = await rejectionOf(log.append('parley.log.100.conv.a', enc('x'), 0));
    expect(noStream.name).toBe('UNAVAILABLE');
    expect(noStream.message).toMatch(/nothing was written/);
    // Something that swallows the publish and never acknowledges it.
    const nc = connections.get(log)!;
    const sink = nc.subscribe('parley.log.101.>', { callback: () => {} });
    await nc.flush();
    try {
      const started = Date.now();
      const silent = await rejectionOf(log.append('parley.log.101.conv.a', enc('x'), 0));
      expect(silent.name).toBe('UNAVAILABLE');
      expect(silent.message).toMatch(/outcome unknown/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    } finally {
      sink.unsubscribe();
    }
  });

  it('reads past the byte cap of one direct-get batch', async () => {
    // JetStream ends a batch early once it has sent max_bytes (by default the server's max_pending, 64 MB).
    {
      const log = await open({ readBatchBytes: 512 * 1024 });
      const s = freshSubject(11, 'capped');
      const entry = new Uint8Array(200 * 1024);
      let last = 0;
      const positions: number[] = [];
      for (let i = 0; i < 40; i++) {
        entry[0] = i;
        last = await log.append(s, entry, last);
        positions.push(last);
      }
      const all = await log.read(s, 0);
      expect(all.map((e) => e.seq)).toEqual(positions);
      expect(all.map((e) => e.data[0])).toEqual(positions.map((_, i) => i));
      const some = await log.read(s, positions[3]!, 12);
      expect(some.map((e) => e.seq)).toEqual(positions.slice(3, 15));
    }
  });

  it('keeps acknowledged appends through a nats-server crash (sync_interval always), failing fast while it is down', async () => {
    let log = await open();
    const subjects = Array.from({ length: 20 }, (_, i) => freshSubject(i, 'crash'));
    const positions = await Promise.all(subjects.map((s, i) => log.append(s, enc(`before-${i}`), 0)));

    const server = nats();
    await server.kill('SIGKILL');
    await waitFor('the client to notice', async () => {
      const err = await rejectionOf(log.append(subjects[0]!, enc('x'), positions[0]!));
      return err.name === 'UNAVAILABLE' && /not connected/.test(err.message);
    });
    const started = Date.now();
    const down = await rejectionOf(log.lastSeq(subjects[0]!));
    expect(down.name).toBe('UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(1000);

    await server.restart();
    // The old connection reconnects by itself…
    await waitFor('reconnect', async () => (await log.lastSeq(subjects[0]!).catch(() => -1)) === positions[0], 15_000);
    // …and a new one sees the same entries.
    log = await open();
    for (let i = 0; i < subjects.length; i++) {
      expect(await log.lastSeq(subjects[i]!)).toBe(positions[i]);
      const entries = await log.read(subjects[i]!, 0);
      expect(texts(entries)).toEqual([`before-${i}`]);
    }
    expect(await log.append(subjects[0]!, enc('after'), positions[0]!)).toBeGreaterThan(positions[0]!);
  });
});
