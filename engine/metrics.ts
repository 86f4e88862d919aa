/**
 * Prometheus metrics of one node, served on `GET /metrics` of every role.
 * Each node owns its registry (several nodes may share a process in tests
 * and embedding applications). Names are `parley_*` with their unit.
 *
 * Hot counters (deliveries, commands) are plain numbers the code increments
 * and the registry reads at scrape time; gauges of live state (sockets,
 * actors, mailboxes, partitions) are computed at scrape time too, so a
 * request or a delivery costs a field increment, and a request's latency
 * one histogram observation.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metric } from 'prom-client';

/** One sample as prom-client's registry formats it. */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** Buckets of request-like latencies, seconds: 0.5 ms to 10 s. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Buckets of events per Log entry. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/** A counter whose value is a number the code keeps, read at each scrape. */
function readCounter(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      const v = read();
      if (v > 0) this.inc(v);
    },
  });
}

/** What the actor host shows the metrics (read at scrape time). */
export interface HostGauges {
  readonly stats: { readonly commands: number; readonly deferred: number; readonly activations: number; readonly passivations: number };
  readonly activeCount: number;
  /** Commands queued in every mailbox, and in the fullest one. */
  mailboxDepth(): { total: number; max: number };
  /** Partitions this host serves now. */
  partitionsServed(): number;
}

/** What the edge shows the metrics (read at scrape time). */
export interface EdgeGauges {
  /** Open sockets by device type; sockets not logged in yet count as `none`. */
  connectionsByDeviceType(): Map<string, number>;
}

/** The counts of one series of a `HotHistogram`: `observe` is a bucket search and three additions. */
export class HistogramSeries {
  /** Observations per bucket (not cumulative): `perBucket[i]` counts values in (bounds[i-1], bounds[i]]; the last slot, values above every bound. */
  private readonly perBucket: Float64Array;
  sum = 0;
  count = 0;
  readonly bounds: readonly number[];
  readonly label: string | undefined;

  constructor(bounds: readonly number[], label: string | undefined) {
    this.bounds = bounds;
    this.label = label;
    this.perBucket = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.perBucket[i]!++;
    this.sum += value;
    this.count++;
  }

  /** Forgets every observation. */
  clear(): void {
    this.perBucket.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** Observations at or below `bounds[i]`. */
  cumulative(): number[] {
    const out: number[] = [];
    let total = 0;
    for (let i = 0; i < this.bounds.length; i++) out.push((total += this.perBucket[i]!));
    return out;
  }
}

/**
 * A histogram observed on the hot path: every request, Bus call and Log
 * append, two to four times per message. prom-client's Histogram checks and
 * hashes its labels and makes a closure at each observation (about a
 * microsecond, and some 2.5% of the bytes a message allocates); this one is
 * a series per label value, looked up once by the caller (`series`), that
 * counts into a typed array. At a scrape it hands prom-client's registry the
 * values a prom-client Histogram would, in the same shape, so the exposition
 * (buckets, `+Inf`, `_sum`, `_count`) is prom-client's own formatting.
 */
export class HotHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  private readonly labelName: string | undefined;
  private readonly bySeries = new Map<string, HistogramSeries>();
  /** The series of an unlabelled histogram, reported from the start (as prom-client does). */
  private readonly plain: HistogramSeries | undefined;

  constructor(registry: Registry, options: { name: string; help: string; buckets: readonly number[]; labelName?: string }) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = [...options.buckets].sort((a, b) => a - b);
    this.labelName = options.labelName;
    this.plain = options.labelName === undefined ? new HistogramSeries(this.bounds, undefined) : undefined;
    registry.registerMetric(this as unknown as Metric);
  }

  /** Observes `value` in the unlabelled series; a labelled histogram takes its observations through `series`. */
  observe(value: number): void {
    if (this.plain === undefined) throw new Error(`${this.name} is labelled by ${this.labelName}: observe through series(value)`);
    this.plain.observe(value);
  }

  /** The series of label value `label`, made on first use (one map lookup per observation; callers may also keep it). */
  series(label: string): HistogramSeries {
    let series = this.bySeries.get(label);
    if (series === undefined) {
      series = new HistogramSeries(this.bounds, label);
      this.bySeries.set(label, series);
    }
    return series;
  }

  /** What the registry formats at a scrape (prom-client's `MetricObjectWithValues`). */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Sample[] }> {
    const values: Sample[] = [];
    const all = this.plain !== undefined ? [this.plain] : [...this.bySeries.values()];
    for (const series of all) {
      const labels: Record<string, string | number> = this.labelName === undefined ? {} : { [this.labelName]: series.label! };
      const cumulative = series.cumulative();
      for (let i = 0; i < this.bounds.length; i++) {
        values.push({ metricName: `${this.name}_bucket`, labels: { le: this.bounds[i]!, ...labels }, value: cumulative[i]! });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }

  /** Forgets every observation (the registry's `resetMetrics`). */
  reset(): void {
    // Callers keep their series: each is emptied, none is dropped.
    for (const series of this.bySeries.values()) series.clear();
    this.plain?.clear();
  }
}

export class Metrics {
  readonly registry = new Registry();

  // ---- edge ------------------------------------------------------------------------------
  /** Frames fanned out to sockets from delivery subscriptions. */
  deliveries = 0;
  /** Bus messages received on account delivery subjects. */
  deliveryBusMessages = 0;
  /** Bus messages received on supergroup subjects (one per supergroup message per edge with members online). */
  groupBusMessages = 0;
  /** Frames written to sockets from supergroup subjects. */
  groupDeliveries = 0;
  /** Sockets closed as slow consumers. */
  slowConsumers = 0;
  readonly logins: Counter<'device_type'>;
  readonly loginFailures: Counter<'error'>;
  readonly logouts: Counter<'device_type'>;
  readonly requests: Counter<'method' | 'error'>;
  readonly requestSeconds: HotHistogram;
  private readonly okChildren = new Map<string, { inc(): void }>();

  // ---- bus -------------------------------------------------------------------------------
  readonly busRequestSeconds: HotHistogram;
  readonly natsReconnects: Counter;
  readonly natsDisconnects: Counter;

  // ---- actor host, log and store ---------------------------------------------------------
  readonly logAppendSeconds: HotHistogram;
  readonly logAppendEvents: HotHistogram;
  readonly lmdbCommitSeconds: HotHistogram;

  // ---- partitions (cluster) --------------------------------------------------------------
  readonly leaseRenewals: Counter;
  readonly leaseRenewalFailures: Counter;
  readonly partitionAcquisitions: Counter;
  readonly partitionTakeovers: Counter;
  readonly partitionHandovers: Counter;
  readonly partitionsLost: Counter;

  private host: HostGauges | undefined;
  private edge: EdgeGauges | undefined;

  /** `defaults`: also Node's process metrics (prom-client's default set). Default true. */
  constructor(options: { defaults?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaults !== false) collectDefaultMetrics({ register: this.registry });

    readCounter(this.registry, 'parley_deliveries_total', 'Frames delivered to sockets from delivery subscriptions.', () => this.deliveries);
    readCounter(this.registry, 'parley_delivery_bus_messages_total', 'Bus messages received on account delivery subjects.', () => this.deliveryBusMessages);
    readCounter(this.registry, 'parley_group_bus_messages_total', 'Bus messages received on supergroup subjects: one per message per edge with members online.', () => this.groupBusMessages);
    readCounter(this.registry, 'parley_group_deliveries_total', 'Frames written to sockets from supergroup subjects.', () => this.groupDeliveries);
    readCounter(this.registry, 'parley_slow_consumers_dropped_total', 'Sockets closed for exceeding the backpressure bound or draining nothing.', () => this.slowConsumers);
    const self = this;
    new Gauge({
      name: 'parley_connections',
      help: 'Open WebSocket connections on this edge, by device type (none: not logged in yet).',
      labelNames: ['device_type'],
      registers,
      collect() {
        this.reset();
        const edge = self.edge;
        if (edge === undefined) return;
        for (const [type, n] of edge.connectionsByDeviceType()) this.set({ device_type: type }, n);
      },
    });
    this.logins = new Counter({ name: 'parley_logins_total', help: 'Successful logins, by device type.', labelNames: ['device_type'], registers });
    this.loginFailures = new Counter({ name: 'parley_login_failures_total', help: 'Refused or failed logins, by error name.', labelNames: ['error'], registers });
    this.logouts = new Counter({ name: 'parley_logouts_total', help: 'Logged-in sockets closed, by device type.', labelNames: ['device_type'], registers });
    this.requests = new Counter({
      name: 'parley_requests_total',
      help: 'Requests answered by the edge, by method and error name (none: success).',
      labelNames: ['method', 'error'],
      registers,
    });
    this.requestSeconds = new HotHistogram(this.registry, {
      name: 'parley_request_duration_seconds',
      help: 'Time from a request frame to its answer at the edge, by method.',
      labelName: 'method',
      buckets: LATENCY_BUCKETS,
    });

    this.busRequestSeconds = new HotHistogram(this.registry, {
      name: 'parley_bus_request_duration_seconds',
      help: 'Time of one request/reply over the Bus to an actor (one attempt).',
      buckets: LATENCY_BUCKETS,
    });
    this.natsReconnects = new Counter({ name: 'parley_nats_reconnects_total', help: 'Reconnections to a NATS server.', registers });
    this.natsDisconnects = new Counter({ name: 'parley_nats_disconnects_total', help: 'Losses of the NATS connection.', registers });

    readCounter(this.registry, 'parley_actor_commands_total', 'Commands run by actors on this host.', () => self.host?.stats.commands ?? 0);
    readCounter(this.registry, 'parley_actor_events_deferred_total', 'Events of deferring calls (session updates) applied before their Log entry, written with a later one.', () => self.host?.stats.deferred ?? 0);
    readCounter(this.registry, 'parley_actor_activations_total', 'Actors loaded into memory on this host.', () => self.host?.stats.activations ?? 0);
    readCounter(this.registry, 'parley_actor_passivations_total', 'Idle actors dropped from memory on this host.', () => self.host?.stats.passivations ?? 0);
    new Gauge({
      name: 'parley_actors_active',
      help: 'Actors in memory on this host.',
      registers,
      collect() {
        this.set(self.host?.activeCount ?? 0);
      },
    });
    new Gauge({
      name: 'parley_actor_mailbox_depth',
      help: 'Commands waiting in actor mailboxes on this host: all (sum) and the fullest mailbox (max).',
      labelNames: ['stat'],
      registers,
      collect() {
        const d = self.host?.mailboxDepth() ?? { total: 0, max: 0 };
        this.set({ stat: 'sum' }, d.total);
        this.set({ stat: 'max' }, d.max);
      },
    });
    new Gauge({
      name: 'parley_partitions_owned',
      help: 'Actor partitions this host serves now.',
      registers,
      collect() {
        this.set(self.host?.partitionsServed() ?? 0);
      },
    });
    this.logAppendSeconds = new HotHistogram(this.registry, {
      name: 'parley_log_append_duration_seconds',
      help: 'Time to append one entry to the Log and commit the rows it produces.',
      buckets: LATENCY_BUCKETS,
    });
    this.logAppendEvents = new HotHistogram(this.registry, {
      name: 'parley_log_append_batch_events',
      help: 'Events batched into one Log entry.',
      buckets: BATCH_BUCKETS,
    });
    this.lmdbCommitSeconds = new HotHistogram(this.registry, {
      name: 'parley_lmdb_commit_duration_seconds',
      help: 'Time of one LMDB write transaction of the state store, until committed.',
      buckets: LATENCY_BUCKETS,
    });

    this.leaseRenewals = new Counter({ name: 'parley_lease_renewals_total', help: 'Partition leases renewed.', registers });
    this.leaseRenewalFailures = new Counter({ name: 'parley_lease_renewal_failures_total', help: 'Partition lease renewals that failed.', registers });
    this.partitionAcquisitions = new Counter({ name: 'parley_partition_acquisitions_total', help: 'Partitions this host took, at start or later.', registers });
    this.partitionTakeovers = new Counter({
      name: 'parley_partition_takeovers_total',
      help: 'Partitions this host took after its first lease round (moved here from another host).',
      registers,
    });
    this.partitionHandovers = new Counter({ name: 'parley_partition_handovers_total', help: 'Partitions this host handed over gracefully.', registers });
    this.partitionsLost = new Counter({ name: 'parley_partitions_lost_total', help: 'Partitions this host lost (its lease lapsed or changed hands).', registers });
  }

  /** Reads the actor host's live state at each scrape. */
  watchHost(host: HostGauges): void {
    this.host = host;
  }

  /** Reads the edge's live sockets at each scrape. */
  watchEdge(edge: EdgeGauges): void {
    this.edge = edge;
  }

  /** Counts one answered request and observes its latency (`startedMs` from `performance.now()`). */
  request(method: string, error: string | undefined, startedMs: number): void {
    this.requestSeconds.series(method).observe((performance.now() - startedMs) / 1000);
    if (error === undefined) {
      let c = this.okChildren.get(method);
      if (c === undefined) {
        c = this.requests.labels(method, 'none');
        this.okChildren.set(method, c);
      }
      c.inc();
    } else this.requests.inc({ method, error });
  }

  /**
   * Observes one Log append that started at `startedMs` (`performance.now()`)
   * and carried `events`; `committed`: the append was also the LMDB commit of
   * its rows (the embedded Log shares the state environment).
   */
  logAppended(startedMs: number, events: number, committed: boolean): void {
    const seconds = secondsSince(startedMs);
    this.logAppendSeconds.observe(seconds);
    this.logAppendEvents.observe(events);
    if (committed) this.lmdbCommitSeconds.observe(seconds);
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Seconds since `startedMs` (a `performance.now()` reading). */
export function secondsSince(startedMs: number): number {
  return (performance.now() - startedMs) / 1000;
}
