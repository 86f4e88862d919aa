/**
 * The calls a channel actor receives: the edge reading a channel the
 * account is in, for the login sync (`info`). Declared here, by the receiver.
 */
import type { ChannelInfo } from '../../engine/protocol/methods/signaling.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';

export interface InfoArgs {
  channelId: string;
}

export const channelCalls = {
  info: internal({
    doc: 'The open channel of `channelId` with its members; NOT_FOUND once it closed or expired.',
    args: takes<InfoArgs>(),
    result: returns<ChannelInfo>(),
    retry: 'idempotent',
  }),
};
