/**
 * The people part of the login sync: `myinfo` (the account's profile),
 * `blacklist` and `mutelist` (both whole), then `friends` — those changed
 * since the device's `cursors.friends` (none: every current friend), in
 * pages ascending by `updateTime`; the first `friends` is sent even empty.
 */
import { userCalls } from '../../actors/user/calls.ts';
import type { PeopleSyncArgs, PeopleSyncPage } from '../../actors/user/people.ts';
import { userAddress } from '../../engine/subjects.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';
import { isPlainObject, isUint } from '../wire.ts';

export class PeopleSyncSource implements LoginSyncSource {
  readonly name = 'people';

  async sync(run: LoginSyncRun): Promise<void> {
    const { conn, paging } = run;
    const address = userAddress(conn.account);
    const cursor = isPlainObject(run.cursors) && isUint(run.cursors.friends) ? run.cursors.friends : 0;
    let after: number | undefined;
    for (let first = true; ; first = false) {
      const a: PeopleSyncArgs = { friends: cursor };
      if (paging.ask !== undefined) a.maxBytes = paging.ask;
      if (after !== undefined) a.after = after;
      const pulled = await run.pull(
        async () => (await run.read(address, 'people', a, userCalls.people.retry)) as PeopleSyncPage | undefined,
        (page) => {
          if (first) {
            run.send({ ev: 'myinfo', d: page?.myInfo ?? { account: conn.account, createTime: 0, updateTime: 0 } });
            run.send({ ev: 'blacklist', d: page?.blacklist ?? [] });
            run.send({ ev: 'mutelist', d: page?.mutelist ?? [] });
          }
          const friends = Array.isArray(page?.friends) ? page.friends : [];
          if (first || friends.length > 0) run.send({ ev: 'friends', d: friends });
        },
      );
      if (pulled === undefined || conn.closed) return;
      const next = pulled.page?.next;
      if (typeof next !== 'number' || next === after) return;
      after = next;
    }
  }
}
