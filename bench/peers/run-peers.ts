/**
 * Peer systems in the same run, through their own clients: the Socket.IO
 * relay (p2p throughput with a window, p2p latency at a fixed rate) and,
 * when its pinned binary can be had, Centrifugo. Server and client
 * processes are sampled; the figure that survives a heavy client is the
 * server CPU µs per delivered message.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Sampler } from '../driver/sampler.ts';
import { spawnServer, waitUntil } from '../driver/topology.ts';
import { runCentrifugo } from './run-centrifugo.ts';

export interface PeerResult {
  system: string;
  scenario: string;
  /** Delivered messages per second over the measured window. */
  rate: number;
  p50: number;
  p99: number;
  serverCpuUsPerMsg: number;
  clientCpuUsPerMsg: number;
  missing: number;
  duplicates: number;
  orderErrors: number;
  saturated: string;
}

const HERE = import.meta.dirname;

/** Starts a server that prints `listening <port>`. */
export async function listeningServer(name: string, args: string[]) {
  const server = spawnServer(name, process.execPath, ['--import', 'tsx', ...args]);
  let port = 0;
  server.child.stdout!.on('data', (chunk: Buffer) => {
    const m = /listening (\d+)/.exec(chunk.toString());
    if (m) port = Number(m[1]);
  });
  await waitUntil(name, 20_000, async () => port > 0);
  return { server, port };
}

/** Runs a driver script as a child while sampling it and the server; folds both into a PeerResult. */
export async function drivePeer(system: string, scenario: string, serverPid: number, driverArgs: string[]): Promise<PeerResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...driverArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  const sampler = new Sampler([{ name: 'server', pid: serverPid }, { name: 'client', pid: child.pid! }], 250);
  sampler.start();
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  sampler.stop();
  if (code !== 0) throw new Error(`${system} driver exited with ${code}: ${out}`);
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as { delivered: number; seconds: number; from: number; until: number; p50: number; p99: number; missing: number; duplicates: number; orderErrors: number };
  const cpu = sampler.cpuBetween(r.from, r.until);
  const serverCores = (cpu.cpuUs.server ?? 0) / 1e6 / cpu.seconds;
  const clientCores = (cpu.cpuUs.client ?? 0) / 1e6 / cpu.seconds;
  return {
    system,
    scenario,
    rate: Math.round(r.delivered / r.seconds),
    p50: +r.p50.toFixed(2),
    p99: +r.p99.toFixed(2),
    serverCpuUsPerMsg: +((cpu.cpuUs.server ?? 0) / r.delivered).toFixed(1),
    clientCpuUsPerMsg: +((cpu.cpuUs.client ?? 0) / r.delivered).toFixed(1),
    missing: r.missing,
    duplicates: r.duplicates,
    orderErrors: r.orderErrors,
    saturated: `${serverCores >= clientCores ? 'server' : 'client'} (server ${serverCores.toFixed(2)}, client ${clientCores.toFixed(2)} cores)`,
  };
}

async function socketIo(seconds: number): Promise<PeerResult[]> {
  const { server, port } = await listeningServer('socket.io', [join(HERE, 'socketio-server.ts')]);
  try {
    const driver = join(HERE, 'socketio-driver.ts');
    return [
      await drivePeer('Socket.IO', 'p2p-throughput', server.child.pid!, [driver, String(port), '40', String(seconds), '32']),
      await drivePeer('Socket.IO', 'p2p-latency', server.child.pid!, [driver, String(port), '50', String(seconds), '0', '10']),
    ];
  } finally {
    await server.stop();
  }
}

export async function runPeers(overrides: { duration?: number }): Promise<PeerResult[]> {
  const seconds = overrides.duration ?? 10;
  const results: PeerResult[] = [];
  process.stderr.write('peers: Socket.IO relay\n');
  results.push(...(await socketIo(seconds)));
  results.push(...(await runCentrifugo(seconds)));
  for (const p of results) process.stderr.write(`peer ${p.system} ${p.scenario}: ${p.rate} msgs/s, p99 ${p.p99} ms, server ${p.serverCpuUsPerMsg} µs/msg, missing ${p.missing}\n`);
  return results;
}
