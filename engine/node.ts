/**
 * The composition root of every role. It picks the Bus and Log from the
 * configuration — in-process Bus and LMDB Log when `natsUrl` is empty, NATS
 * and JetStream when it is set — wires the actor host and the edge, and logs
 * what it chose.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Config } from './config.ts';
import type { Bus } from './bus/bus.ts';
import { EmbeddedBus } from './bus/embedded-bus.ts';
import { NatsBus, connectNats } from './bus/nats-bus.ts';
import type { Log } from './log/log.ts';
import { LmdbLog, adoptSeparateLog } from './log/lmdb-log.ts';
import { JetStreamLog } from './log/jetstream-log.ts';
import { StateStore } from './store.ts';
import { ActorHost } from './actor/host.ts';
import { StaticOwnership } from './actor/ownership.ts';
import { LeaseOwnership } from './actor/lease-ownership.ts';
import { verifierFromConfig } from './auth/configure.ts';
import type { TokenVerifier } from './auth/verifier.ts';
import type { RtcTokenProvider } from './rtc-token.ts';
import { channelBehavior } from '../actors/channel/behavior.ts';
import { logger } from './logger.ts';
import { Edge } from '../edge/edge.ts';
import { configureConversations, conversationBehavior } from '../actors/conversation/behavior.ts';
import { userBehavior } from '../actors/user/behavior.ts';
import { presenceBehavior } from '../actors/presence/behavior.ts';
import { EdgeLiveness } from './edge-liveness.ts';
import { DeviceIndex } from '../actors/presence/events.ts';
import { PresenceSweeper } from '../actors/presence/sweeper.ts';
import { DEFAULT_MAX_SUBSCRIPTIONS } from './protocol/methods/events.ts';
import { ActorClient } from './actor/call.ts';
import { Metrics } from './metrics.ts';
import { configureTeams, superTeamBehavior, teamBehavior } from '../actors/team/behavior.ts';
import { userTeamsBehavior } from '../actors/user-teams/behavior.ts';
import { tokenHolderBehavior } from '../actors/presence/token-holders.ts';
import type { PartitionOwnership, OwnershipListener } from './actor/ownership.ts';
import type { WebhookDeriver } from './webhooks/derive.ts';
import { WebhookFeed } from './webhooks/feed.ts';
import { createPushDeriver } from './webhooks/push.ts';
import { LmdbDeadEvents, KvDeadEvents, type DeadEvents } from './webhooks/dead-events.ts';
import { LmdbFeedIndex, LmdbFeedSource } from './webhooks/lmdb-source.ts';
import { JetStreamFeedSource, ensureFeedPositions } from './webhooks/jetstream-source.ts';
import { watchWebhookFeed } from './webhooks/metrics.ts';

export type Role = 'start' | 'edge' | 'actors';

export interface RunningNode {
  readonly role: Role;
  /** The port `/healthz` (and for `start`/`edge`, `/v1/ws`) listens on. */
  readonly port: number;
  /** The actor host, in roles that run one (`start`, `actors`). */
  readonly host: ActorHost | undefined;
  /** The edge, in roles that serve sockets (`start`, `edge`). */
  readonly edge: Edge | undefined;
  /** This node's metrics (served on `/metrics`); undefined when `config.metrics` is off. */
  readonly metrics: Metrics | undefined;
  /** Calls actors over this node's Bus (what webhook derivers such as the push hook read through). */
  readonly actors: ActorClient;
  /** The webhook feed, in roles with an actor host when a webhook URL is configured. */
  readonly webhooks: WebhookFeed | undefined;
  /** Drains (`/readyz` 503 for `drainGraceMs`), then stops serving, hands partitions back, closes the Bus and Log. */
  stop(): Promise<void>;
}

/** The actor kinds whose behaviour needs nothing from the node. */
export const BEHAVIORS = [conversationBehavior, userBehavior, teamBehavior, superTeamBehavior, userTeamsBehavior, tokenHolderBehavior];

/** Every actor kind this build knows: the presence actor reads which edges answer from `liveness`, channels take their lifetime from `config`. */
export function behaviorsFor(config: Pick<Config, 'signalingChannelTtlSec'> & Partial<Pick<Config, 'eventMaxSubscriptions' | 'eventSecondMs'>>, liveness: EdgeLiveness, index?: DeviceIndex) {
  const presence = presenceBehavior(liveness.isAlive, { maxSubscriptions: config.eventMaxSubscriptions ?? DEFAULT_MAX_SUBSCRIPTIONS, secondMs: config.eventSecondMs ?? 1000, ...(index === undefined ? {} : { index }) });
  return [...BEHAVIORS, presence, channelBehavior({ ttlMs: config.signalingChannelTtlSec * 1000 })];
}

/** The HTTP routes of a role without an edge: `/healthz` (alive), `/readyz` (serving) and `/metrics`, as the edge's (edge/http.ts). */
async function startHealthServer(config: Config, ready: () => boolean, metrics: Metrics | undefined): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') res.writeHead(404).end();
    else if (path === '/healthz') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    else if (path === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'unavailable');
    } else if (path === '/metrics' && metrics !== undefined) {
      metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (err: unknown) => {
          logger.error('metrics collection failed', { err });
          res.writeHead(500).end();
        },
      );
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address !== null ? address.port : config.port };
}

/** What an application embedding Parley may supply instead of configuring it. */
export interface NodeOptions {
  /** Decides logins instead of the verifier the configuration names. */
  verifier?: TokenVerifier;
  /** Signs RTC tokens for calls, instead of HS256 with PARLEY_RTC_TOKEN_SECRET. */
  rtcTokens?: RtcTokenProvider;
  /** Run by the webhook feed on every event it reads; what they return is sent after it, on its lane (engine/webhooks/derive.ts). */
  webhookDerivers?: readonly WebhookDeriver[];
}

/** Whether the configuration sends webhooks: a URL is set, the default one or an `env`'s. */
export function webhooksOn(config: Config): boolean {
  return config.webhookUrl !== '' || Object.keys(config.webhookEnvUrls).length > 0;
}

/** The webhook feed of a node that serves partitions (`owns`), as configured. */
function webhookFeed(config: Config, dead: DeadEvents, owns: (p: number) => boolean, derivers: readonly WebhookDeriver[]): WebhookFeed {
  return new WebhookFeed({
    url: config.webhookUrl,
    envUrls: config.webhookEnvUrls,
    secret: config.webhookSecret,
    retryMinMs: config.webhookRetryMinMs,
    retryMaxMs: config.webhookRetryMaxMs,
    retryForMs: config.webhookRetryHours * 60 * 60 * 1000,
    partitions: config.partitions,
    dead,
    owns,
    derivers,
  });
}

/** Ownership that also tells the webhook feed which partitions to read: it reads exactly the partitions its host serves. */
class FeedOwnership implements PartitionOwnership {
  private readonly inner: PartitionOwnership;
  private readonly feed: WebhookFeed;
  private readonly nc: import('@nats-io/transport-node').NatsConnection;
  private readonly positions: import('@nats-io/kv').KV;
  private readonly config: Config;
  private readonly sources = new Map<number, JetStreamFeedSource>();
  /** A partition's reader being stopped: the next one starts after. */
  private readonly removing = new Map<number, Promise<void>>();

  constructor(inner: PartitionOwnership, feed: WebhookFeed, nc: import('@nats-io/transport-node').NatsConnection, positions: import('@nats-io/kv').KV, config: Config) {
    this.inner = inner;
    this.feed = feed;
    this.nc = nc;
    this.positions = positions;
    this.config = config;
  }

  start(listener: OwnershipListener): Promise<void> {
    return this.inner.start({
      acquired: (p) => {
        listener.acquired(p);
        const source = new JetStreamFeedSource(this.nc, this.positions, p, { partitions: this.config.partitions, streams: this.config.logStreams });
        this.sources.set(p, source);
        // After the partition's previous reader here has fully stopped: its clean-up drops the partition's queued events.
        const previous = this.removing.get(p) ?? Promise.resolve();
        void previous
          .then(() => (this.sources.get(p) === source ? this.feed.addSource(source) : undefined))
          .catch((err: unknown) => logger.error('webhook feed cannot read a partition', { partition: p, err }));
      },
      released: async (p) => {
        const source = this.sources.get(p);
        this.sources.delete(p);
        if (source !== undefined) {
          const previous = this.removing.get(p) ?? Promise.resolve();
          const removed = previous.then(() => this.feed.removeSource(source, `parley.log.${p}.`)).catch((err: unknown) => logger.warn('webhook feed source stop failed', { partition: p, err }));
          this.removing.set(p, removed);
          await removed;
          if (this.removing.get(p) === removed) this.removing.delete(p);
        }
        await listener.released(p);
      },
    });
  }

  owns(partition: number): boolean {
    return this.inner.owns(partition);
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }
}

export async function startNode(role: Role, config: Config, options: NodeOptions = {}): Promise<RunningNode> {
  const cluster = config.natsUrl !== '';
  if ((role === 'edge' || role === 'actors') && !cluster) {
    throw new Error(`parley ${role} needs PARLEY_NATS_URL: it talks to the other roles over NATS`);
  }
  logger.setLevel(config.logLevel);
  logger.setBase({ role, node: config.nodeId });
  const metrics = config.metrics ? new Metrics() : undefined;
  /** Set when a graceful stop begins: `/readyz` answers 503 from then on. */
  let draining = false;

  const closers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        logger.warn('error while stopping', { err });
      }
    }
  };

  try {
    let bus: Bus;
    let log: Log | undefined;
    let nats: NatsBus | undefined;
    if (cluster) {
      nats = await NatsBus.connect(config.natsUrl, `parley-${role}-${config.nodeId}`);
      bus = nats;
      closers.push(() => nats!.close());
      if (metrics !== undefined) void countNatsStatus(nats, metrics);
      logger.info('bus: nats', { url: config.natsUrl });
    } else {
      bus = new EmbeddedBus({ maxPayloadBytes: config.embeddedMaxPayloadBytes });
      closers.push(() => bus.close());
      logger.info('bus: embedded', { maxPayloadBytes: config.embeddedMaxPayloadBytes });
    }

    let host: ActorHost | undefined;
    let feed: WebhookFeed | undefined;
    let feedStart: (() => Promise<void>) | undefined;
    let deadEvents: DeadEvents | undefined;
    const webhooks = webhooksOn(config);
    // The push hook reads the recipients' devices, preferences and unread through the node's Bus.
    const derivers: WebhookDeriver[] = [
      ...(webhooks && config.webhookPush ? [createPushDeriver({ actors: new ActorClient(bus, { partitions: config.partitions, timeoutMs: config.requestTimeoutMs }) })] : []),
      ...(options.webhookDerivers ?? []),
    ];
    if (webhooks && nats !== undefined) deadEvents = await KvDeadEvents.open(nats.connection, config.logReplicas);
    if (role !== 'edge') {
      let store: StateStore;
      if (nats !== undefined) {
        const js = new JetStreamLog(nats.connection, {
          partitions: config.partitions,
          streams: config.logStreams,
          replicas: config.logReplicas,
          writer: config.nodeId,
        });
        await js.ensureStreams();
        log = js;
        logger.info('log: jetstream', { streams: config.logStreams, replicas: config.logReplicas });
        store = new StateStore(config.dataDir, { metrics });
        closers.push(() => log!.close());
        closers.push(() => store.close());
      } else {
        // One environment for the Log and the rows: an entry and its rows commit under one fsync.
        store = new StateStore(config.dataDir, { syncCommits: true, metrics });
        closers.push(() => store.close());
        const lmdb = LmdbLog.sharing(store.env);
        log = lmdb;
        closers.push(() => lmdb.close());
        const legacyDir = join(config.dataDir, 'log');
        const adopted = await adoptSeparateLog(legacyDir, lmdb);
        if (adopted !== undefined) logger.info('log: moved into the state environment', { from: legacyDir, ...adopted });
        logger.info('log: lmdb', { path: store.path });
        if (webhooks) {
          const index = new LmdbFeedIndex(lmdb, store);
          deadEvents = new LmdbDeadEvents(store);
          feed = webhookFeed(config, deadEvents, () => true, derivers);
          const source = new LmdbFeedSource(index, lmdb);
          const running = feed;
          feedStart = () => running.addSource(source);
        }
      }
      const liveness = new EdgeLiveness();
      liveness.listen(bus);
      closers.push(async () => liveness.stop());
      configureTeams(config);
      configureConversations(config);
      const deviceIndex = new DeviceIndex();
      // Leases renew over a connection of their own, so a renewal's answer does not wait behind every request already
      // on its way to this host on the Bus's connection (a login storm's backlog). Closed after the host has handed
      // its partitions over.
      let leaseConnection: Awaited<ReturnType<typeof connectNats>> | undefined;
      if (nats !== undefined) {
        const connection = await connectNats(config.natsUrl, `parley-${role}-${config.nodeId}-leases`);
        leaseConnection = connection;
        closers.push(() => connection.close());
      }
      let ownership: PartitionOwnership =
        leaseConnection === undefined
          ? new StaticOwnership(config.partitions)
          : new LeaseOwnership(leaseConnection, {
              nodeId: config.nodeId,
              partitions: config.partitions,
              leaseTtlMs: config.leaseTtlMs,
              replicas: config.logReplicas,
              metrics,
            });
      if (webhooks && nats !== undefined) {
        // Before any actor appends: every entry from here on is after its partition's feed position.
        const positions = await ensureFeedPositions(nats.connection, { partitions: config.partitions, streams: config.logStreams, replicas: config.logReplicas });
        const leases = ownership;
        feed = webhookFeed(config, deadEvents!, (p) => leases.owns(p), derivers);
        ownership = new FeedOwnership(leases, feed, nats.connection, positions, config);
      }
      if (feed !== undefined) {
        const running = feed;
        if (metrics !== undefined) watchWebhookFeed(metrics, running);
        running.start();
        closers.push(() => running.stop());
      }
      host = new ActorHost({
        bus,
        log,
        store,
        ownership,
        behaviors: behaviorsFor(config, liveness, deviceIndex),
        nodeId: config.nodeId,
        partitions: config.partitions,
        mailboxLimit: config.mailboxLimit,
        actorIdleMs: config.actorIdleMs,
        touchLingerMs: config.touchLingerMs,
        deferWriteMs: config.deferWriteMs,
        callTimeoutMs: config.requestTimeoutMs,
        metrics,
      });
      await host.start();
      closers.push(() => host!.stop());
      if (feedStart !== undefined) await feedStart();
      if (feed !== undefined) {
        logger.info('webhooks', { url: config.webhookUrl === '' ? '(none)' : config.webhookUrl, envs: Object.keys(config.webhookEnvUrls), derivers: derivers.length });
      }
      const sweeper = new PresenceSweeper(deviceIndex, liveness.isAlive, new ActorClient(bus, { partitions: config.partitions, timeoutMs: config.requestTimeoutMs }));
      sweeper.start();
      closers.push(async () => sweeper.stop());
      logger.info('actor host serving', { partitions: config.partitions, data: config.dataDir });
    }

    let port: number;
    let edge: Edge | undefined;
    const ready = () => !draining && bus.connected;
    if (role === 'actors') {
      const health = await startHealthServer(config, ready, metrics);
      closers.push(() => new Promise<void>((resolve) => health.server.close(() => resolve())));
      port = health.port;
    } else {
      let verifier = options.verifier;
      if (verifier === undefined) ({ verifier, config } = await verifierFromConfig(config, cluster));
      logger.info('login verifier', { verifier: verifier.description ?? 'supplied by the embedding application' });
      edge = new Edge({
        config,
        bus,
        verifier,
        ...(options.rtcTokens === undefined ? {} : { rtcTokens: options.rtcTokens }),
        isReady: ready,
        metrics,
        ...(deadEvents === undefined ? {} : { deadWebhookEvents: deadEvents }),
      });
      const started = edge;
      port = (await started.start()).port;
      closers.push(() => started.stop());
    }
    logger.info('ready', { port, mode: cluster ? 'cluster' : 'embedded', metrics: metrics !== undefined });
    const stop = async () => {
      if (!draining) {
        draining = true;
        logger.info('draining', { graceMs: config.drainGraceMs });
        // Load balancers see /readyz answer 503 and move traffic away while this node still serves it.
        if (config.drainGraceMs > 0) await new Promise((resolve) => setTimeout(resolve, config.drainGraceMs));
      }
      await stopAll();
    };
    const actors = new ActorClient(bus, { partitions: config.partitions, timeoutMs: config.requestTimeoutMs, metrics });
    return { role, port, host, edge, metrics, actors, webhooks: feed, stop };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Counts the NATS connection's losses and reconnections until it closes. */
async function countNatsStatus(bus: NatsBus, metrics: Metrics): Promise<void> {
  try {
    for await (const s of bus.connection.status()) {
      if (s.type === 'disconnect') metrics.natsDisconnects.inc();
      else if (s.type === 'reconnect') metrics.natsReconnects.inc();
    }
  } catch (err) {
    logger.debug('nats status watch ended', { err });
  }
}
