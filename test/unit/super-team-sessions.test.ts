/** The SDK's supergroup sessions: the server's counts, moved on by newer live messages only. */
import { describe, expect, it } from 'vitest';
import { SuperTeamSessions } from '../../client/super-team-sessions.ts';

const sid = 'superTeam-7';
const msg = (seq: number, extra: Record<string, unknown> = {}) => ({ scene: 'superTeam', to: '7', sessionId: sid, seq, time: 1000 + seq, idServer: `s${seq}`, flow: 'in', type: 'text', ...extra });

describe('SuperTeamSessions', () => {
  it('counts from the server session; messages it already counted change nothing', () => {
    const s = new SuperTeamSessions();
    s.note([{ id: sid, scene: 'superTeam', to: '7', unread: 2, updateTime: 1005, isTop: false, lastMsg: msg(5) }]);
    expect(s.onMessage(msg(4))).toBeUndefined();
    expect(s.onMessage(msg(5))).toBeUndefined();
    expect(s.onMessage(msg(6))).toMatchObject({ unread: 3, updateTime: 1006, lastMsg: { seq: 6 } });
    expect(s.onMessage(msg(7, { flow: 'out' }))).toMatchObject({ unread: 3, lastMsg: { seq: 7 } });
    expect(s.onMessage(msg(8, { type: 'notification', isUnreadable: false }))).toMatchObject({ unread: 3, lastMsg: { seq: 8 } });
  });

  it('a reset taken from the server keeps the newer last message seen live', () => {
    const s = new SuperTeamSessions();
    s.onMessage(msg(3));
    s.note([{ id: sid, scene: 'superTeam', to: '7', unread: 0, updateTime: 2000, isTop: false, lastMsg: msg(1) }]);
    expect(s.onMessage(msg(3))).toBeUndefined();
    expect(s.onMessage(msg(4))).toMatchObject({ unread: 1, lastMsg: { seq: 4 } });
  });

  it('leaves other scenes alone', () => {
    const s = new SuperTeamSessions();
    s.note([{ id: 'team-7', scene: 'team', to: '7', unread: 1, updateTime: 1, isTop: false }]);
    expect(s.onMessage({ ...msg(1), scene: 'team', sessionId: 'team-7' })).toBeUndefined();
    expect(s.onMessage({ ...msg(1), scene: 'p2p', sessionId: 'p2p-x' })).toBeUndefined();
  });
});
