/** The SDK's sync state for system notifications, deletes-for-self and conversation changes, without servers. */
import { describe, expect, it } from 'vitest';
import { SyncState } from '../../client/sync-state.ts';

const stored = (idServer: string, time: number) => ({ type: 'custom', idServer, time, sendToOnlineUsersOnly: false });

describe('SyncState for notifications', () => {
  it('moves the sysmsgs cursor only with stored custom notifications and drops repeats by idServer', () => {
    const s = new SyncState(3);
    expect(s.noteSysMsg(stored('a', 100))).toBe(true);
    expect(s.noteSysMsg({ type: 'custom', idServer: 'b', time: 900, sendToOnlineUsersOnly: true })).toBe(true);
    expect(s.noteSysMsg({ type: 'deleteMsg', idServer: 'c', time: 800 })).toBe(true);
    expect(s.loginCursors()).toEqual({ sysmsgs: 100 });
    expect(s.noteSysMsg(stored('a', 100))).toBe(false);
    // The memory of idServers is bounded by the window.
    s.noteSysMsg(stored('d', 101));
    expect(s.noteSysMsg(stored('a', 100))).toBe(true);
    expect(s.snapshot()).toEqual({ sessions: 0, seqs: {}, sysmsgs: 101 });
    expect(new SyncState(3, { sysmsgs: 5 }).loginCursors()).toEqual({ sysmsgs: 5 });
  });

  it("moves the sysmsgs cursor with a supergroup's recall notices, heard or its own recall's reply, never back; not with other recalls", () => {
    const s = new SyncState(3, { sysmsgs: 50 });
    expect(s.noteSysMsg({ type: 'deleteMsg', scene: 'team', idServer: 'a', time: 90 })).toBe(true);
    expect(s.loginCursors()).toEqual({ sysmsgs: 50 });
    expect(s.noteSysMsg({ type: 'deleteMsg', scene: 'superTeam', idServer: 'b', time: 60 })).toBe(true);
    expect(s.loginCursors()).toEqual({ sysmsgs: 60 });
    s.noteOwnRecall({ type: 'deleteMsg', scene: 'p2p', idServer: 'c', time: 95 });
    s.noteOwnRecall({ type: 'deleteMsg', scene: 'superTeam', idServer: 'd', time: 70 });
    s.noteOwnRecall({ type: 'deleteMsg', scene: 'superTeam', idServer: 'e', time: 65 });
    expect(s.loginCursors()).toEqual({ sysmsgs: 70 });
    // Its own recall's reply is not a notice heard: the same notice arriving later is still new.
    expect(s.noteSysMsg({ type: 'deleteMsg', scene: 'superTeam', idServer: 'd', time: 70 })).toBe(true);
  });

  it('moves the sessions cursor with the deletedTime of DeleteMsgSelf, never back', () => {
    const s = new SyncState(3, { sessions: 50 });
    s.noteSelfDeletes([{ deletedTime: 40 }, { deletedTime: 70 }, { nothing: 1 }]);
    s.noteSelfDeletes('not a list');
    expect(s.loginCursors()).toEqual({ sessions: 70 });
  });

  it('moves the sessions cursor with the time of pin, quick comment and clear changes, never back', () => {
    const s = new SyncState(3, { sessions: 50 });
    s.noteConvChange({ type: 'add', sessionId: 'p2p-bob', pin: {}, time: 60 });
    s.noteConvChange({ msg: {}, comment: { time: 10 }, time: 40 });
    expect(s.loginCursors()).toEqual({ sessions: 60 });
    s.noteConvChange([{ sessionId: 'p2p-bob', time: 80 }, { sessionId: 'p2p-carol', time: 75 }]);
    s.noteConvChange({ type: 'add' });
    s.noteConvChange('nothing');
    expect(s.loginCursors()).toEqual({ sessions: 80 });
  });
});
