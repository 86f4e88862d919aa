/**
 * The login sync's parts kept by the account's user actor besides its
 * sessions: the pinned sessions (`StickTopSessions`, the whole list, at most
 * `MAX_STICK_TOP_SESSIONS`), the messages hidden for self since the device's
 * `sessions` cursor (`DeleteMsgSelf`), and the system notifications
 * (`offlinesysmsgs`: every unacknowledged one; `offlinecustomsysmsgs`:
 * stored custom ones from the device's `sysmsgs` cursor on), closed by the
 * unread counts (`sysmsgunread`). Each is pulled a page at a time.
 */
import { userCalls } from '../../actors/user/calls.ts';
import type { SelfDeleteSyncPage } from '../../actors/user/self-deletes.ts';
import type { SysMsgSyncPage } from '../../actors/user/sysmsgs.ts';
import { userAddress } from '../../engine/subjects.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';
import { isPlainObject, isUint } from '../wire.ts';

/** Most pages one source reads in one login: a bound on a misbehaving reply, far above what a store holds. */
const MAX_PAGES = 10_000;

function cursor(run: LoginSyncRun, name: 'sessions' | 'sysmsgs'): number | undefined {
  const c = run.cursors;
  return isPlainObject(c) && isUint(c[name]) ? c[name] : undefined;
}

/** `StickTopSessions`: the account's pinned sessions. */
export class StickTopSyncSource implements LoginSyncSource {
  readonly name = 'stick-top sessions';

  async sync(run: LoginSyncRun): Promise<void> {
    const address = userAddress(run.conn.account);
    await run.pull(
      async () => (await run.read(address, 'getStickTopSessions', {}, 'idempotent')) as { sessionList?: unknown[] } | undefined,
      (page) => run.send({ ev: 'StickTopSessions', d: Array.isArray(page?.sessionList) ? page.sessionList : [] }),
    );
  }
}

/** `DeleteMsgSelf`: messages hidden for self since the device's `sessions` cursor; nothing for a device without one. */
export class SelfDeletesSyncSource implements LoginSyncSource {
  readonly name = 'deletes for self';

  async sync(run: LoginSyncRun): Promise<void> {
    const since = cursor(run, 'sessions');
    if (since === undefined || since === 0) return;
    const address = userAddress(run.conn.account);
    let after: unknown;
    for (let pages = 0; pages < MAX_PAGES && !run.conn.closed; pages++) {
      const a: Record<string, unknown> = { since };
      if (run.paging.ask !== undefined) a.maxBytes = run.paging.ask;
      if (after !== undefined) a.after = after;
      const pulled = await run.pull(
        async () => (await run.read(address, 'syncSelfDeletes', a, userCalls.syncSelfDeletes.retry)) as SelfDeleteSyncPage | undefined,
        (page) => {
          if (Array.isArray(page?.deleted) && page.deleted.length > 0) run.send({ ev: 'DeleteMsgSelf', d: page.deleted });
        },
      );
      if (pulled === undefined || pulled.page?.next === undefined) return;
      after = pulled.page.next;
    }
  }
}

/** `offlinesysmsgs` and `offlinecustomsysmsgs`, page by page, then `sysmsgunread`. */
export class SysMsgsSyncSource implements LoginSyncSource {
  readonly name = 'system notifications';

  async sync(run: LoginSyncRun): Promise<void> {
    const since = cursor(run, 'sysmsgs');
    const address = userAddress(run.conn.account);
    let after: number | undefined;
    let unread: unknown;
    for (let pages = 0; pages < MAX_PAGES && !run.conn.closed; pages++) {
      const a: Record<string, unknown> = {};
      if (since !== undefined) a.since = since;
      if (run.paging.ask !== undefined) a.maxBytes = run.paging.ask;
      if (after !== undefined) a.after = after;
      const pulled = await run.pull(
        async () => (await run.read(address, 'syncSysMsgs', a, userCalls.syncSysMsgs.retry)) as SysMsgSyncPage | undefined,
        (page) => {
          if (Array.isArray(page?.sysmsgs) && page.sysmsgs.length > 0) run.send({ ev: 'offlinesysmsgs', d: page.sysmsgs });
          if (Array.isArray(page?.custom) && page.custom.length > 0) run.send({ ev: 'offlinecustomsysmsgs', d: page.custom });
        },
      );
      if (pulled === undefined) return;
      unread = pulled.page?.unread;
      const next = pulled.page?.next;
      if (!isUint(next) || (after !== undefined && next <= after)) break;
      after = next;
    }
    if (!run.conn.closed && isPlainObject(unread)) run.send({ ev: 'sysmsgunread', d: unread });
  }
}
