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
  /** `anon`: RssAnon, the process's own allocations (heap, malloc) without mapped files such as LMDB's pages. */
  procs: Record<string, { cpuUs: number; rss: number; anon: number }>;
}

function readProc(pid: number): { cpuUs: number; rss: number; anon: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    return { cpuUs: (ticks * 1_000_000) / TICKS_PER_SEC, rss: kib('VmRSS'), anon: kib('RssAnon') };
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
    const rss = process.memoryUsage().rss;
    procs[DRIVER] = { cpuUs: cpu.user + cpu.system, rss, anon: rss };
    const sample = { at: performance.timeOrigin + performance.now(), procs };
    this.samples.push(sample);
    return sample;
  }

  /** The sample nearest to `at` (of those that have process `name`, when given). */
  nearest(at: number, name?: string): Sample {
    const samples = name === undefined ? this.samples : this.samples.filter((s) => s.procs[name] !== undefined);
    return (samples.length > 0 ? samples : this.samples).reduce((best, s) => (Math.abs(s.at - at) < Math.abs(best.at - at) ? s : best));
  }

  /**
   * CPU cores each process used between `from` and `until` (its nearest
   * samples: a process that ended early is taken up to its last sample),
   * times the window: CPU µs over the window. Also the window's seconds.
   */
  cpuBetween(from: number, until: number): { seconds: number; cpuUs: Record<string, number> } {
    const seconds = (this.nearest(until).at - this.nearest(from).at) / 1000;
    const names = new Set(this.samples.flatMap((s) => Object.keys(s.procs)));
    const cpuUs: Record<string, number> = {};
    for (const name of names) {
      const a = this.nearest(from, name);
      const b = this.nearest(until, name);
      const spanSec = (b.at - a.at) / 1000;
      const used = b.procs[name]!.cpuUs - a.procs[name]!.cpuUs;
      cpuUs[name] = spanSec > 0 ? (used / spanSec) * seconds : used;
    }
    return { seconds, cpuUs };
  }
}
