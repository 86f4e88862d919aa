/**
 * Samples CPU time (user + system, all threads, from /proc/<pid>/stat) and
 * resident memory (VmRSS) of every process a run started, and of the driver
 * itself (this process, worker threads included), every `intervalMs`.
 */
import { readFileSync } from 'node:fs';
import type { RunningProcess } from './topology.ts';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const TICKS_PER_SEC = 100;
export const DRIVER = 'driver';

export interface Sample {
  at: number;
  /** Process name → cumulative CPU µs and current RSS bytes. */
  procs: Record<string, { cpuUs: number; rss: number }>;
}

function readProc(pid: number): { cpuUs: number; rss: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rssKib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return { cpuUs: (ticks * 1_000_000) / TICKS_PER_SEC, rss: rssKib * 1024 };
  } catch {
    return undefined;
  }
}

export class Sampler {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;

  private readonly processes: RunningProcess[];
  private readonly intervalMs: number;

  constructor(processes: RunningProcess[], intervalMs = 500) {
    this.processes = processes;
    this.intervalMs = intervalMs;
  }

  start(): void {
    this.take();
    this.timer = setInterval(() => this.take(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.take();
  }

  take(): Sample {
    const procs: Sample['procs'] = {};
    for (const p of this.processes) {
      const r = readProc(p.pid);
      if (r !== undefined) procs[p.name] = r;
    }
    const cpu = process.cpuUsage();
    procs[DRIVER] = { cpuUs: cpu.user + cpu.system, rss: process.memoryUsage().rss };
    const sample = { at: performance.timeOrigin + performance.now(), procs };
    this.samples.push(sample);
    return sample;
  }

  /** The sample nearest to `at`. */
  nearest(at: number): Sample {
    return this.samples.reduce((best, s) => (Math.abs(s.at - at) < Math.abs(best.at - at) ? s : best));
  }

  /** CPU µs each process spent between `from` and `until` (nearest samples), and the seconds between those samples. */
  cpuBetween(from: number, until: number): { seconds: number; cpuUs: Record<string, number> } {
    const a = this.nearest(from);
    const b = this.nearest(until);
    const cpuUs: Record<string, number> = {};
    for (const [name, end] of Object.entries(b.procs)) cpuUs[name] = end.cpuUs - (a.procs[name]?.cpuUs ?? end.cpuUs);
    return { seconds: (b.at - a.at) / 1000, cpuUs };
  }
}
