/**
 * The login sync's event part: loads the account's live event
 * subscriptions from its presence actor into this edge's fan-out (so live
 * events reach the socket from now on), then sends `pushevents` with the
 * current events of the accounts watched that were published with
 * `broadcastType` 2 (for subscribers offline at the time), before `syncdone`.
 */
import { presenceCalls } from '../../actors/presence/calls.ts';
import { presenceAddress } from '../../engine/subjects.ts';
import type { EventFanout } from '../events.ts';
import { currentEvents, pushFrames } from '../events.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';

export class EventsSyncSource implements LoginSyncSource {
  readonly name = 'events';
  private readonly fanout: EventFanout;

  constructor(fanout: EventFanout) {
    this.fanout = fanout;
  }

  async sync(run: LoginSyncRun): Promise<void> {
    // Prepared before the read: a subscription change made meanwhile on another device applies here and is not undone by the read.
    this.fanout.prepare(run.conn);
    let subs: Array<[string, number]>;
    try {
      subs = (await run.read(presenceAddress(run.conn.account), 'eventSubs', {}, presenceCalls.eventSubs.retry)) as Array<[string, number]>;
    } catch (err) {
      this.fanout.abandon(run.conn);
      throw err;
    }
    this.fanout.attach(run.conn, subs);
    if (subs.length === 0) return;
    await this.fanout.flush();
    const events = await currentEvents((address, m, a) => run.read(address, m, a, 'idempotent'), subs.map(([p]) => p), true);
    for (const frame of pushFrames(events)) run.send(frame);
  }
}
