/**
 * Methods of the connection itself, answered by the edge: the login, the
 * server clock, and kicking the account's other devices. Browser-safe.
 */
import * as s from '../schema.ts';
import { DEVICE_TYPES } from '../objects.ts';
import type { DeviceType } from '../objects.ts';
import { edgeMethod, returns } from '../registry.ts';
import { id, sessionId, time } from './common.ts';

/** Device ids one `kick` may name. */
export const MAX_KICK_DEVICE_IDS = 10;

export const connectionMethods = {
  login: edgeMethod({
    doc: 'First frame of a socket: verifies the token, then streams the login sync (`sessions`, `sessionsdeleted`, `offlinemsgs`, `StickTopSessions`, `DeleteMsgSelf`, the pin, quick comment and synced clear changes since the `sessions` cursor (`PinMsgChange`, `QuickComment`, `DeleteQuickComment`, `ClearServerHistoryMsgs`), `offlinesysmsgs`, `offlinecustomsysmsgs`, `sysmsgunread`, then `syncdone`).',
    args: s.object({
      token: s.string({ min: 1, max: 8192 }),
      deviceId: s.optional(id()),
      deviceType: s.optional(s.literal(DEVICE_TYPES), 'web' as DeviceType),
      cursors: s.optional(
        s.object({
          /** `updateTime` of the newest session this device has seen (ms). */
          sessions: s.optional(time()),
          /** Highest `seq` this device holds, per session id. */
          seqs: s.optional(s.record(s.int({ min: 0 }), { key: sessionId(), maxKeys: 10_000 })),
          /** `time` of the newest stored custom system notification or supergroup recall notice this device has seen (ms). */
          sysmsgs: s.optional(time()),
          /** `updateTime` of the newest friend change this device has seen (ms): the login sync sends friends changed after it. */
          friends: s.optional(time()),
          /** Newest group `updateTime` or `memberUpdateTime` this device has seen (ms): the login sync sends the groups changed after it. */
          teams: s.optional(time()),
        }),
      ),
    }),
    result: returns<{ account: string; deviceId: string; serverTime: number }>(),
    retry: 'never',
    errors: ['UNAUTHORIZED'],
  }),
  getServerTime: edgeMethod({
    doc: "The server's clock, ms since the epoch.",
    args: s.object({}),
    result: returns<number>(),
    retry: 'idempotent',
    errors: [],
  }),
  kick: edgeMethod({
    doc: "Forces the account's other devices with these ids offline, on every edge: each gets `kicked` (reason `kickedByOtherDevice`, `from` this device) and its socket closes; the remaining devices get `loginportschange`. Unknown ids are ignored. Answers with the ids asked for.",
    args: s.object({
      deviceIds: s.array(id(), { min: 1, max: MAX_KICK_DEVICE_IDS }),
    }),
    result: returns<{ deviceIds: string[] }>(),
    retry: 'idempotent',
    errors: [],
  }),
};
