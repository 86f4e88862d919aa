/**
 * A Parley cluster for tests, as real processes on 127.0.0.1: one nats-server
 * with JetStream, `parley edge` and `parley actors` processes on random ports,
 * each with its own node id (`edge-1`, `actors-2`, …), temporary data
 * directory and log file. `stop()` ends everything (kill -9 whatever is left)
 * and removes the temporary directories, also after a failed test.
 *
 * The harness also looks inside NATS the way an operator would: the lease
 * table (`parley-leases` KV bucket, key `p.<partition>`, value
 * `{"node", "since"}`), so tests wait on "every partition is owned by a live
 * host" instead of sleeping.
 *
 * Node logs go to `<cluster dir>/logs/<nodeId>.log` at PARLEY_TEST_LOG_LEVEL
 * (default info). A test that fails prints the tail of every log; set
 * PARLEY_TEST_KEEP_CLUSTER=1 to keep the directory of a failed test as well
 * (`always`: of every test).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { onTestFinished } from 'vitest';
import { connect as natsConnect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import type { KV } from '@nats-io/kv';
import { startNatsServer } from '../helpers/nats-server.ts';
import { killAtExit } from '../helpers/exit-hook.ts';
import type { NatsServer, NatsServerOptions } from '../helpers/nats-server.ts';
import { TEST_SECRET, freePort, healthy } from '../helpers/engine.ts';
import { partitionOf } from '../../engine/subjects.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'engine/cli.ts');

/** KV bucket of partition leases and of host heartbeats (engine contract). */
export const LEASES_BUCKET = 'parley-leases';
export const HOSTS_BUCKET = 'parley-hosts';

export type ProcRole = 'edge' | 'actors';

/** How a process ended: its exit code, or the signal that ended it. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One Parley process of the cluster. */
export interface Proc {
  readonly nodeId: string;
  readonly role: ProcRole;
  /** Port of `/healthz` (and `/v1/ws` for an edge). Kept when the node is restarted. */
  readonly port: number;
  /** LMDB data directory. Kept when the node is restarted. */
  readonly dataDir: string;
  /** `ws://127.0.0.1:<port>/v1/ws` for an edge, `http://127.0.0.1:<port>` for an actor host. */
  readonly url: string;
  readonly process: ChildProcess;
  /** Resolves once the process has ended. */
  readonly exited: Promise<ExitStatus>;
  /** True until the process has ended. */
  readonly running: boolean;
  /** True between `pause()` and `resume()`. */
  readonly paused: boolean;
  /** Sends `signal` (default SIGKILL) and waits for the process to end (SIGKILL after 15 s if it has not). */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /**
   * Graceful stop: SIGTERM, then waits up to `timeoutMs` (default 15000) for
   * the exit. Rejects (after a SIGKILL) when the process did not exit in time.
   */
  stop(timeoutMs?: number): Promise<ExitStatus>;
  /** SIGSTOP: the process freezes, its sockets stay open. */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
}

export interface ClusterOptions {
  /** Edge processes (`edge-1` …). Default 2. */
  edges?: number;
  /** Actor host processes (`actors-1` …). Default 2. */
  actors?: number;
  /** PARLEY_LEASE_TTL_MS of every process, ms. Default 2000. */
  leaseTtlMs?: number;
  /** Extra environment of every Parley process (PARLEY_*). */
  env?: Record<string, string>;
  /** Extra environment of the edges or of the actor hosts only, over `env` (e.g. the edges' PARLEY_REQUEST_TIMEOUT_MS). */
  roleEnv?: Partial<Record<ProcRole, Record<string, string>>>;
  /** Options of the nats-server. Default: JetStream with the server's defaults. */
  nats?: NatsServerOptions;
  /** Wait, before resolving, until the leases are spread evenly over the actor hosts. Default true. */
  waitForBalance?: boolean;
  /** Deadline of each process's start-up (healthy), ms. Default 30000. */
  startTimeoutMs?: number;
}

/** A lease as stored in the `parley-leases` bucket. */
export interface Lease {
  node: string;
  since: number;
}

export interface Cluster {
  readonly nats: NatsServer;
  /** Edges in start order; a restarted edge keeps its index. */
  readonly edges: Proc[];
  /** Actor hosts in start order; a restarted host keeps its index. */
  readonly actors: Proc[];
  /** WebSocket URLs of the edges (`edges[i].url`); stable across edge restarts. */
  readonly urls: string[];
  readonly leaseTtlMs: number;
  /** PARLEY_PARTITIONS of the cluster. */
  readonly partitions: number;
  /** Temporary directory holding data directories and logs. */
  readonly dir: string;
  /**
   * Starts an actor host: `nodeId` of a stopped host restarts it on its data
   * directory and port; a new or omitted id adds a host (`actors-<n+1>`).
   */
  startActors(nodeId?: string): Promise<Proc>;
  /** Starts an edge; same rules as `startActors`. */
  startEdge(nodeId?: string): Promise<Proc>;
  /** The process of a node id. */
  proc(nodeId: string): Proc;
  /** A NATS connection of the test itself (reconnects across server restarts), closed by `stop()`. */
  connection(): Promise<NatsConnection>;
  /** The current lease of every partition that has one. */
  leases(): Promise<Map<number, Lease>>;
  /** The partition of an actor address (`conv:a|b`, `user:a`). */
  partitionOf(address: string): number;
  /** Waits until `ok(leases)` is true; the timeout error shows the last lease table. */
  waitForLeases(what: string, ok: (leases: Map<number, Lease>) => boolean, timeoutMs?: number): Promise<Map<number, Lease>>;
  /**
   * Waits until every partition's lease names one of `nodeIds` (default: the
   * running actor hosts) and each of them holds ⌊P/n⌋ or ⌈P/n⌉ partitions.
   */
  waitForBalance(nodeIds?: string[], timeoutMs?: number): Promise<Map<number, Lease>>;
  /** The last `lines` lines of a node's log (every restart appends to it). */
  logTail(nodeId: string, lines?: number): string;
  /** Registers a clean-up (e.g. destroying clients) that `stop()` runs first, last registered first. */
  defer(fn: () => Promise<void> | void): void;
  /** Marks the run as failed: `stop()` prints every node's log tail (and keeps the directory with PARLEY_TEST_KEEP_CLUSTER=1). */
  markFailed(): void;
  /** Stops everything, removes the temporary directories. Idempotent; never throws. */
  stop(): Promise<void>;
}

function tail(text: string, lines: number): string {
  const all = text.split('\n');
  if (all.length > 0 && all[all.length - 1] === '') all.pop();
  return all.slice(-lines).join('\n');
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * Polls `probe` until it returns a value other than undefined. Errors thrown
 * by the probe count as "not yet"; the timeout error names `what`, the last
 * error and `describe()` of the last state.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  describe?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      const state = describe === undefined ? '' : `\n${describe()}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}${state}`, { cause: lastError });
    }
    await delay(pause);
  }
}

function exitOf(child: ChildProcess): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
}

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((done) => {
    timer = setTimeout(() => done(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface NodeSlot {
  nodeId: string;
  role: ProcRole;
  port: number;
  dataDir: string;
  logPath: string;
  index: number;
  proc: Proc | undefined;
  /** Resolves once `port` is chosen. */
  ready: Promise<void>;
}

class ProcImpl implements Proc {
  readonly nodeId: string;
  readonly role: ProcRole;
  readonly port: number;
  readonly dataDir: string;
  readonly url: string;
  readonly process: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  running = true;
  paused = false;

  constructor(slot: NodeSlot, child: ChildProcess) {
    this.nodeId = slot.nodeId;
    this.role = slot.role;
    this.port = slot.port;
    this.dataDir = slot.dataDir;
    this.url = slot.role === 'edge' ? `ws://127.0.0.1:${slot.port}/v1/ws` : `http://127.0.0.1:${slot.port}`;
    this.process = child;
    this.exited = exitOf(child).then((status) => {
      this.running = false;
      this.paused = false;
      return status;
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus> {
    if (this.running) {
      this.process.kill(signal);
      // A stopped process acts on no signal but SIGKILL until it is continued.
      if (this.paused && signal !== 'SIGKILL') this.resume();
    }
    const status = await withDeadline(this.exited, 15_000);
    if (status !== undefined) return status;
    this.process.kill('SIGKILL');
    return this.exited;
  }

  async stop(timeoutMs = 15_000): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    this.process.kill('SIGTERM');
    if (this.paused) this.resume();
    const status = await withDeadline(this.exited, timeoutMs);
    if (status !== undefined) return status;
    this.process.kill('SIGKILL');
    await this.exited;
    throw new Error(`${this.nodeId} did not exit within ${timeoutMs} ms of SIGTERM (killed)`);
  }

  pause(): void {
    if (!this.running) throw new Error(`${this.nodeId} is not running`);
    this.process.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.running) return;
    this.process.kill('SIGCONT');
    this.paused = false;
  }
}

class ClusterImpl implements Cluster {
  readonly nats: NatsServer;
  readonly edges: Proc[] = [];
  readonly actors: Proc[] = [];
  readonly urls: string[] = [];
  readonly leaseTtlMs: number;
  readonly partitions: number;
  readonly dir: string;
  private readonly env: Record<string, string>;
  private readonly roleEnv: Partial<Record<ProcRole, Record<string, string>>>;
  private readonly startTimeoutMs: number;
  private readonly slots = new Map<string, NodeSlot>();
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private nc: Promise<NatsConnection> | undefined;
  private kv: Promise<KV> | undefined;
  private failed = false;
  private stopping: Promise<void> | undefined;

  constructor(nats: NatsServer, dir: string, opts: ClusterOptions) {
    this.nats = nats;
    this.dir = dir;
    this.leaseTtlMs = opts.leaseTtlMs ?? 2000;
    this.env = opts.env ?? {};
    this.roleEnv = opts.roleEnv ?? {};
    this.partitions = Number(this.env.PARLEY_PARTITIONS ?? 64);
    this.startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  }

  startActors(nodeId?: string): Promise<Proc> {
    return this.start('actors', nodeId);
  }

  startEdge(nodeId?: string): Promise<Proc> {
    return this.start('edge', nodeId);
  }

  proc(nodeId: string): Proc {
    const proc = this.slots.get(nodeId)?.proc;
    if (proc === undefined) throw new Error(`no node ${nodeId} in this cluster`);
    return proc;
  }

  private async slotFor(role: ProcRole, nodeId: string | undefined): Promise<NodeSlot> {
    // Reserve the id and the index synchronously: several starts may run at once.
    const ofRole = [...this.slots.values()].filter((s) => s.role === role).length;
    const id = nodeId ?? `${role}-${ofRole + 1}`;
    const existing = this.slots.get(id);
    if (existing !== undefined) {
      if (existing.role !== role) throw new Error(`${id} is not ${role === 'edge' ? 'an edge' : 'an actor host'}`);
      if (existing.proc?.running) throw new Error(`${id} is still running`);
      await existing.ready;
      return existing;
    }
    const dataDir = join(this.dir, 'data', id);
    mkdirSync(dataDir, { recursive: true });
    const slot: NodeSlot = {
      nodeId: id,
      role,
      port: 0,
      dataDir,
      logPath: join(this.dir, 'logs', `${id}.log`),
      index: ofRole,
      proc: undefined,
      ready: freePort().then((port) => {
        slot.port = port;
        if (role === 'edge') this.urls[slot.index] = `ws://127.0.0.1:${port}/v1/ws`;
      }),
    };
    this.slots.set(id, slot);
    await slot.ready;
    return slot;
  }

  private async start(role: ProcRole, nodeId: string | undefined): Promise<Proc> {
    if (this.stopping !== undefined) throw new Error('the cluster is stopped');
    const slot = await this.slotFor(role, nodeId);
    const env: Record<string, string | undefined> = {
      ...process.env,
      PARLEY_PORT: String(slot.port),
      PARLEY_HOST: '127.0.0.1',
      PARLEY_DATA_DIR: slot.dataDir,
      PARLEY_JWT_SECRET: TEST_SECRET,
      PARLEY_NATS_URL: this.nats.url,
      PARLEY_NODE_ID: slot.nodeId,
      PARLEY_LEASE_TTL_MS: String(this.leaseTtlMs),
      PARLEY_LOG_LEVEL: process.env.PARLEY_TEST_LOG_LEVEL ?? 'info',
      ...this.env,
      ...this.roleEnv[role],
    };
    const fd = openSync(slot.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, ['--import', 'tsx', CLI, role], { cwd: ROOT, env, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    killAtExit(child);
    const proc = new ProcImpl(slot, child);
    slot.proc = proc;
    const list = role === 'edge' ? this.edges : this.actors;
    list[slot.index] = proc;
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    spawnError.catch(() => {});
    try {
      await Promise.race([
        spawnError,
        until(
          `${slot.nodeId} (port ${slot.port}) to answer /healthz 200`,
          async () => {
            if (!proc.running) throw new Error(`${slot.nodeId} exited before it was healthy`);
            return (await healthy(slot.port)) ? true : undefined;
          },
          this.startTimeoutMs,
          () => `--- ${slot.nodeId} log ---\n${this.logTail(slot.nodeId, 30)}`,
        ),
      ]);
    } catch (err) {
      await proc.kill('SIGKILL');
      throw err;
    }
    return proc;
  }

  connection(): Promise<NatsConnection> {
    if (this.nc === undefined) {
      this.nc = natsConnect({
        servers: this.nats.url,
        name: 'cluster-test',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 100,
      });
      this.nc.catch(() => (this.nc = undefined));
    }
    return this.nc;
  }

  private bucket(): Promise<KV> {
    if (this.kv === undefined) {
      this.kv = this.connection().then((nc) => new Kvm(nc).open(LEASES_BUCKET));
      this.kv.catch(() => (this.kv = undefined));
    }
    return this.kv;
  }

  async leases(): Promise<Map<number, Lease>> {
    const kv = await this.bucket();
    const keys: string[] = [];
    for await (const key of await kv.keys('p.>')) keys.push(key);
    const out = new Map<number, Lease>();
    await Promise.all(
      keys.map(async (key) => {
        const entry = await kv.get(key);
        if (entry === null || entry.operation !== 'PUT' || entry.value.length === 0) return;
        const lease = parseLease(entry.string());
        if (lease !== undefined) out.set(Number(key.slice(2)), lease);
      }),
    );
    return out;
  }

  partitionOf(address: string): number {
    return partitionOf(address, this.partitions);
  }

  async waitForLeases(what: string, ok: (leases: Map<number, Lease>) => boolean, timeoutMs = 15_000): Promise<Map<number, Lease>> {
    let last: Map<number, Lease> | undefined;
    return until(
      what,
      async () => {
        last = await this.leases();
        return ok(last) ? last : undefined;
      },
      timeoutMs,
      () => `lease table: ${last === undefined ? '(not read)' : describeLeases(last, this.partitions)}`,
    );
  }

  waitForBalance(nodeIds?: string[], timeoutMs = 15_000): Promise<Map<number, Lease>> {
    const nodes = nodeIds ?? this.actors.filter((p) => p.running && !p.paused).map((p) => p.nodeId);
    if (nodes.length === 0) throw new Error('waitForBalance: no actor host to balance over');
    const low = Math.floor(this.partitions / nodes.length);
    const high = Math.ceil(this.partitions / nodes.length);
    return this.waitForLeases(
      `the ${this.partitions} partitions to be spread evenly over ${nodes.join(', ')}`,
      (leases) => {
        const counts = new Map(nodes.map((n) => [n, 0]));
        for (let p = 0; p < this.partitions; p++) {
          const node = leases.get(p)?.node;
          if (node === undefined || !counts.has(node)) return false;
          counts.set(node, counts.get(node)! + 1);
        }
        return [...counts.values()].every((c) => c >= low && c <= high);
      },
      timeoutMs,
    );
  }

  logTail(nodeId: string, lines = 40): string {
    const slot = this.slots.get(nodeId);
    if (slot === undefined || !existsSync(slot.logPath)) return '(no log)';
    return tail(readFileSync(slot.logPath, 'utf8'), lines);
  }

  defer(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  markFailed(): void {
    this.failed = true;
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await withDeadline(Promise.resolve().then(fn), 15_000);
      } catch (err) {
        console.error('cluster clean-up failed', err);
      }
    }
    const procs = [...this.slots.values()].map((s) => s.proc).filter((p): p is Proc => p !== undefined);
    await Promise.all(procs.map((p) => p.kill('SIGKILL').catch(() => {})));
    if (this.nc !== undefined) {
      try {
        const nc = await this.nc;
        await withDeadline(nc.close(), 5000);
      } catch {
        // never connected, or already closed
      }
    }
    await this.nats.stop().catch((err: unknown) => console.error('nats-server stop failed', err));
    if (this.failed) {
      const logs = [...this.slots.keys()].map((id) => `--- ${id} (last 60 lines) ---\n${this.logTail(id, 60)}`);
      console.log(`cluster logs (${this.dir}):\n${logs.join('\n')}`);
    }
    const keep = process.env.PARLEY_TEST_KEEP_CLUSTER;
    if (keep === 'always' || (this.failed && keep === '1')) console.log(`cluster directory kept: ${this.dir}`);
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

function parseLease(text: string): Lease | undefined {
  try {
    const value = JSON.parse(text) as Partial<Lease>;
    if (typeof value?.node !== 'string') return undefined;
    return { node: value.node, since: typeof value.since === 'number' ? value.since : 0 };
  } catch {
    return undefined;
  }
}

/** `actors-1: 32, actors-2: 31, none: [17]` — for timeout messages. */
export function describeLeases(leases: Map<number, Lease>, partitions: number): string {
  const counts = new Map<string, number>();
  const none: number[] = [];
  for (let p = 0; p < partitions; p++) {
    const node = leases.get(p)?.node;
    if (node === undefined) none.push(p);
    else counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  const parts = [...counts].sort().map(([n, c]) => `${n}: ${c}`);
  if (none.length > 0) parts.push(`none: [${none.join(',')}]`);
  return parts.join(', ');
}

/** Starts nats-server and the Parley processes; on any failure stops what it started and rethrows. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cluster-'));
  mkdirSync(join(dir, 'logs'));
  let nats: NatsServer;
  try {
    nats = await startNatsServer({ jetstream: true, ...opts.nats });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const cluster = new ClusterImpl(nats, dir, opts);
  try {
    const actors = opts.actors ?? 2;
    const edges = opts.edges ?? 2;
    // Actor hosts first, so the edges come up onto served partitions.
    await Promise.all(Array.from({ length: actors }, () => cluster.startActors()));
    await Promise.all(Array.from({ length: edges }, () => cluster.startEdge()));
    if (actors > 0 && (opts.waitForBalance ?? true)) await cluster.waitForBalance();
  } catch (err) {
    cluster.markFailed();
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/**
 * `startCluster` inside a test: the cluster is stopped when the test ends and
 * prints its nodes' logs when the test fails.
 */
export async function startTestCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const cluster = await startCluster(opts);
  // onTestFinished runs before onTestFailed: read the verdict here.
  onTestFinished((ctx) => {
    if (ctx.task.result?.state === 'fail') cluster.markFailed();
    return cluster.stop();
  });
  return cluster;
}
