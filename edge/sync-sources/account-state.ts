/**
 * The login sync's parts kept by the account's user actor besides its
 * sessions, read in one call (`syncAccount`) and then, only where more is
 * left, page by page: the pinned sessions (`StickTopSessions`, when there
 * are any), the messages hidden for self after the device's `sessions`
 * cursor (`DeleteMsgSelf`), the pin, quick comment and synced clear changes
 * of its conversations after that cursor (`PinMsgChange`, `QuickComment`,
 * `DeleteQuickComment`, `ClearServerHistoryMsgs`, as delivered live, oldest
 * first), the system notifications (`offlinesysmsgs`:
 * every unacknowledged one; `offlinecustomsysmsgs`: stored custom ones
 * after the device's `sysmsgs` cursor), and the unread counts
 * (`sysmsgunread`: when any is unread, or when the device synced before and
 * may hold older counts).
 */
import { userCalls } from '../../actors/user/calls.ts';
import type { AccountSyncPage } from '../../actors/user/account-sync.ts';
import type { SelfDeleteSyncPage } from '../../actors/user/self-deletes.ts';
import type { ConvChangeSyncPage } from '../../actors/user/conv-changes.ts';
import type { SysMsgSyncPage } from '../../actors/user/sysmsgs.ts';
import { userAddress } from '../../engine/subjects.ts';
import type { LoginSyncRun, LoginSyncSource } from '../login-sync.ts';
import { isPlainObject, isUint } from '../wire.ts';

/** Most follow-up pages one part reads in one login: a bound on a misbehaving reply, far above what a store holds. */
const MAX_PAGES = 10_000;

function cursorOf(run: LoginSyncRun, name: 'sessions' | 'sysmsgs'): number | undefined {
  const c = run.cursors;
  return isPlainObject(c) && isUint(c[name]) ? c[name] : undefined;
}

function writeSelfDeletes(run: LoginSyncRun, page: SelfDeleteSyncPage | undefined): void {
  if (Array.isArray(page?.deleted) && page.deleted.length > 0) run.send({ ev: 'DeleteMsgSelf', d: page.deleted });
}

function writeChanges(run: LoginSyncRun, page: ConvChangeSyncPage | undefined): void {
  if (!Array.isArray(page?.changes)) return;
  for (const c of page.changes) if (isPlainObject(c) && typeof c.ev === 'string') run.send({ ev: c.ev, d: c.d });
}

function writeSysMsgs(run: LoginSyncRun, page: SysMsgSyncPage | undefined): void {
  if (Array.isArray(page?.sysmsgs) && page.sysmsgs.length > 0) run.send({ ev: 'offlinesysmsgs', d: page.sysmsgs });
  if (Array.isArray(page?.custom) && page.custom.length > 0) run.send({ ev: 'offlinecustomsysmsgs', d: page.custom });
}

/** Pinned sessions, deletes-for-self, conversation changes and system notifications. */
export class AccountStateSyncSource implements LoginSyncSource {
  readonly name = 'pinned sessions, deletes for self, conversation changes and system notifications';

  async sync(run: LoginSyncRun): Promise<void> {
    const address = userAddress(run.conn.account);
    const sessions = cursorOf(run, 'sessions');
    const sysmsgs = cursorOf(run, 'sysmsgs');
    const withCursors = (a: Record<string, unknown>): Record<string, unknown> => {
      if (run.paging.ask !== undefined) a.maxBytes = run.paging.ask;
      return a;
    };
    const first: Record<string, unknown> = {};
    if (sessions !== undefined) first.sessions = sessions;
    if (sysmsgs !== undefined) first.sysmsgs = sysmsgs;
    // The change and notification pages are written after every page of deletes: each kind arrives in order.
    let heldChanges: ConvChangeSyncPage | undefined;
    let heldSysMsgs: SysMsgSyncPage | undefined;
    const pulled = await run.pull(
      async () => (await run.read(address, 'syncAccount', withCursors(first), userCalls.syncAccount.retry)) as AccountSyncPage | undefined,
      (page) => {
        if (Array.isArray(page?.pinned) && page.pinned.length > 0) run.send({ ev: 'StickTopSessions', d: page.pinned });
        writeSelfDeletes(run, page?.selfDeletes);
        heldChanges = page?.changes;
        heldSysMsgs = page?.sysmsgs;
      },
    );
    if (pulled === undefined || run.conn.closed) return;

    let afterDeletes: unknown = pulled.page?.selfDeletes?.next;
    for (let pages = 0; afterDeletes !== undefined && pages < MAX_PAGES && !run.conn.closed; pages++) {
      const a = withCursors({ since: sessions, after: afterDeletes });
      const more = await run.pull(
        async () => (await run.read(address, 'syncSelfDeletes', a, userCalls.syncSelfDeletes.retry)) as SelfDeleteSyncPage | undefined,
        (page) => writeSelfDeletes(run, page),
      );
      if (more === undefined) return;
      afterDeletes = more.page?.next;
    }
    if (run.conn.closed) return;

    writeChanges(run, heldChanges);
    let afterChanges: unknown = heldChanges?.next;
    for (let pages = 0; afterChanges !== undefined && pages < MAX_PAGES && !run.conn.closed; pages++) {
      const a = withCursors({ since: sessions, after: afterChanges });
      const more = await run.pull(
        async () => (await run.read(address, 'syncConvChanges', a, userCalls.syncConvChanges.retry)) as ConvChangeSyncPage | undefined,
        (page) => writeChanges(run, page),
      );
      if (more === undefined) return;
      afterChanges = more.page?.next;
    }
    if (run.conn.closed) return;

    writeSysMsgs(run, heldSysMsgs);
    let unread = heldSysMsgs?.unread;
    let after = heldSysMsgs?.next;
    for (let pages = 0; isUint(after) && pages < MAX_PAGES && !run.conn.closed; pages++) {
      const a: Record<string, unknown> = { after };
      if (sysmsgs !== undefined) a.since = sysmsgs;
      const more = await run.pull(
        async () => (await run.read(address, 'syncSysMsgs', withCursors(a), userCalls.syncSysMsgs.retry)) as SysMsgSyncPage | undefined,
        (page) => writeSysMsgs(run, page),
      );
      if (more === undefined) return;
      unread = more.page?.unread ?? unread;
      const next = more.page?.next;
      after = isUint(next) && next > after ? next : undefined;
    }
    if (run.conn.closed || !isPlainObject(unread)) return;
    const synced = sessions !== undefined || sysmsgs !== undefined;
    if (synced || (isUint(unread.total) && unread.total > 0)) run.send({ ev: 'sysmsgunread', d: unread });
  }
}
