/**
 * What a scenario file in bench/scenarios/ exports: its options (with the
 * smaller smoke values), the behaviour of one virtual user, and its checks
 * and thresholds. A scenario file is imported both by the runner (for its
 * options and thresholds) and by every driver worker (for `vu`).
 *
 * Thresholds are k6-like strings, `<metric>[.<stat>] <op> <number>`:
 * `latency.p99 < 5`, `missing == 0`, `delivered.rate > 1000`. Stats of a
 * trend: count, avg, min, max, p50, p90, p95, p99; of a counter: count (the
 * default) and rate (per second over the measured window). `checks` hold in
 * every run, the smoke run included (loss, duplicates, order); `thresholds`
 * are about speed and are skipped by `--smoke`.
 */
export interface ScenarioOptions {
  /** Virtual users (or pairs, or clients: the scenario says). */
  vus: number;
  /** Measured seconds (time-based scenarios). */
  duration: number;
  /** Seconds run before measuring (time-based scenarios). */
  warmup: number;
  /** Anything else the scenario reads (window, rate, messages, …). */
  [key: string]: number;
}

export interface Client {
  request(method: string, a?: Record<string, unknown>): Promise<any>;
  onEvent: (frame: { ev?: string; d?: any }) => void;
  onClose: (code: number) => void;
  readonly isOpen: boolean;
  close(): void;
}

export interface LoginArgs {
  deviceId?: string;
  cursors?: { sessions?: number; seqs?: Record<string, number> };
}

/** What a virtual user is given. Times are ms on one clock shared by all workers (`now()`). */
export interface VuContext {
  /** This VU's number, 0 … vus-1 over all workers. */
  readonly vu: number;
  readonly options: ScenarioOptions;
  /** A numeric option; throws when the scenario has none of that name. */
  opt(name: string): number;
  /** A tag unique to this run, to prefix account names with. */
  readonly tag: string;
  /** Milliseconds on the run's clock (epoch-based, the same in every worker). */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** The URL of the edge this VU is spread to (or of `edge`). */
  url(edge?: number): string;
  /** Logs `account` in on an edge (VUs are spread over the edges; `edge` picks one) and resolves at `syncdone`. */
  login(account: string, args?: LoginArgs & { edge?: number }): Promise<{ client: Client; sync: { ev?: string; d?: any }[] }>;
  /** Waits until every VU of the run has arrived here; resolves with the release time. */
  barrier(name: string): Promise<number>;
  /** Adds `n` to a counter at `at` (default now). */
  count(metric: string, n?: number, at?: number): void;
  /** Records one sample (ms, or whatever unit the metric states) of a trend at `at` (default now). */
  trend(metric: string, value: number, at?: number): void;
  /** Declares the measured window (first call wins); rates and the CPU figures are taken over it. */
  window(from: number, until: number): void;
}

export interface Scenario {
  name: string;
  /** One sentence: what is measured. */
  describe: string;
  options: ScenarioOptions;
  /** Overrides of `options` for `--smoke`. */
  smoke: Partial<ScenarioOptions>;
  /** Overrides of `options` for one topology (`cluster`, `embedded`), under `smoke` and the command line; the scenario says why. */
  byMode?: Record<string, Partial<ScenarioOptions>>;
  /** Counter whose total is "messages delivered" for CPU per delivered message. */
  delivered?: string;
  /** Counter whose total is "connections held" for RSS per connection (read at the barrier `held`). */
  connections?: string;
  /** The headline figures of the report, as `metric.stat` keys. */
  headline: string[];
  checks: string[];
  thresholds: string[];
  /** Extra PARLEY_* environment of the engine processes. */
  engineEnv?: Record<string, string>;
  vu(ctx: VuContext): Promise<void>;
}

export function defineScenario(scenario: Scenario): Scenario {
  return scenario;
}

/** Text of `n` bytes that starts with the driver's send counter and send time: `<k>:<sentAt>:xxxx…`. */
export function stampedText(k: number, sentAt: number, bytes: number): string {
  const head = `${k}:${sentAt.toFixed(3)}:`;
  return head.length >= bytes ? head : head + 'x'.repeat(bytes - head.length);
}

/** The send counter and send time of a `stampedText`. */
export function readStamp(text: string): { k: number; sentAt: number } {
  const first = text.indexOf(':');
  const second = text.indexOf(':', first + 1);
  return { k: Number(text.slice(0, first)), sentAt: Number(text.slice(first + 1, second)) };
}

/**
 * Checks one one-way stream of stamped messages at its receiver: every send
 * counter seen once (else a duplicate), `seq` going up by exactly one from
 * the first (else an order error), latency from the stamped send time.
 * `missing(acked)` is what was acknowledged to the sender but never arrived.
 */
export class DeliveryCheck {
  delivered = 0;
  duplicates = 0;
  orderErrors = 0;
  private readonly seen = new Set<number>();
  private lastSeq = 0;

  /** Records one delivered message; returns its send time. */
  deliver(text: string, seq: number): number {
    const { k, sentAt } = readStamp(text);
    if (this.seen.has(k)) this.duplicates++;
    else {
      this.seen.add(k);
      this.delivered++;
    }
    if (seq !== this.lastSeq + 1) this.orderErrors++;
    this.lastSeq = seq;
    return sentAt;
  }

  missing(acked: number): number {
    return Math.max(0, acked - this.delivered);
  }
}
