/**
 * Reports the devices of silent edges disconnected. Every
 * `PRESENCE_SWEEP_MS` an actor node looks at the edges its presence actors
 * hold devices of (`DeviceIndex`); for each edge whose heartbeat went
 * silent (`EdgeLiveness`) it calls `sweep` on those accounts' presence
 * actors, which drop the devices and publish status 3 to their
 * subscribers. So a device of an edge killed with its sockets is reported
 * within EDGE_SILENCE_MS + PRESENCE_SWEEP_MS (8 s) and a call.
 */
import type { ActorClient } from '../../engine/actor/call.ts';
import { logger } from '../../engine/logger.ts';
import { presenceAddress } from '../../engine/subjects.ts';
import type { DeviceIndex } from './events.ts';
import type { IsEdgeAlive } from './logic.ts';
import { presenceCalls } from './calls.ts';

/** How often a node looks for silent edges, ms. */
export const PRESENCE_SWEEP_MS = 1000;

export class PresenceSweeper {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly index: DeviceIndex;
  private readonly alive: IsEdgeAlive;
  private readonly actors: ActorClient;

  constructor(index: DeviceIndex, alive: IsEdgeAlive, actors: ActorClient) {
    this.index = index;
    this.alive = alive;
    this.actors = actors;
  }

  start(): void {
    this.timer ??= setInterval(() => this.sweep(), PRESENCE_SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass: every account holding devices of a silent edge is swept. */
  sweep(): void {
    for (const edge of this.index.edges()) {
      if (this.alive(edge)) continue;
      const accounts = this.index.take(edge);
      logger.info('edge silent: reporting its devices disconnected', { edge, accounts: accounts.length });
      for (const account of accounts) {
        this.actors
          .holdRaw(presenceAddress(account), 'sweep', {}, undefined, presenceCalls.sweep.retry)
          .catch((err: unknown) => logger.warn('presence sweep failed', { account, edge, err }));
      }
    }
  }
}
