/**
 * The login sync's signaling part: `signalingChannelsSyncNotify` with the
 * channels the account is in (each read from its channel actor, so one that
 * closed or expired meanwhile is left out, and forgotten), then
 * `signalingUnreadMessageSyncNotify` with the signals kept for the account
 * (`offlineEnabled`) and not yet marked read, page by page. Each is sent
 * only when it has something.
 */
import type { SignalingSyncReply } from '../../actors/presence/calls.ts';
import { presenceCalls } from '../../actors/presence/calls.ts';
import { channelCalls } from '../../actors/channel/calls.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import { channelAddress, channelNameOf } from '../../engine/protocol/methods/signaling.ts';
import type { ChannelInfo } from '../../engine/protocol/methods/signaling.ts';
import { presenceAddress } from '../../engine/subjects.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';

export class SignalingSyncSource implements LoginSyncSource {
  readonly name = 'signaling';

  async sync(run: LoginSyncRun): Promise<void> {
    const account = run.conn.account;
    const presence = presenceAddress(account);
    let from = 0;
    for (;;) {
      const a: { from: number; maxBytes?: number } = { from };
      if (run.paging.ask !== undefined) a.maxBytes = run.paging.ask;
      const pulled = await run.pull(
        () => run.read(presence, 'signalingSync', a, presenceCalls.signalingSync.retry) as Promise<SignalingSyncReply>,
        () => {},
      );
      if (pulled === undefined) return;
      const page = pulled.page;
      if (from === 0 && page.channels.length > 0) {
        const channels = await this.channelsOf(run, page.channels);
        if (channels.length > 0) run.send({ ev: 'signalingChannelsSyncNotify', d: channels });
      }
      if (page.signals.length > 0) run.send({ ev: 'signalingUnreadMessageSyncNotify', d: page.signals });
      if (page.next === undefined) return;
      from = page.next;
    }
  }

  /** The channels of `ids` that are open and have the account as a member; the others are forgotten. */
  private async channelsOf(run: LoginSyncRun, ids: string[]): Promise<ChannelInfo[]> {
    const account = run.conn.account;
    const infos = await Promise.all(
      ids.map(async (channelId) => {
        try {
          const info = (await run.read(channelAddress(channelNameOf(channelId) ?? channelId), 'info', { channelId }, channelCalls.info.retry)) as ChannelInfo;
          if (info.members.some((m) => m.account === account)) return info;
        } catch (err) {
          if (!(err instanceof ParleyError && err.name === 'NOT_FOUND')) throw err;
        }
        // Closed, expired, or left: the presence actor stops listing it.
        void run.read(presenceAddress(account), 'channelIn', { channelId, in: false, at: 0 }, presenceCalls.channelIn.retry).catch(() => {});
        return undefined;
      }),
    );
    return infos.filter((i): i is ChannelInfo => i !== undefined);
  }
}
