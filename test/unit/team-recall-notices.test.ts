/** A supergroup's recall notices for a logging-in device, page by page, without servers. */
import { describe, expect, it } from 'vitest';
import { keepRecall, type MemberRow } from '../../actors/team/logic.ts';
import { recallNoticePage } from '../../actors/team/recall-notices.ts';
import type { Team } from '../../engine/protocol/methods/teams.ts';
import type { SysMsg } from '../../engine/protocol/objects.ts';
import { freshTeamState } from '../helpers/team-state.ts';

const member = (account: string, joinTime: number): MemberRow => ({
  teamId: 's1', account, type: 'normal', muteNotiType: '0', mute: false, invitorAccid: '', joinTime, updateTime: joinTime, valid: true, base: 0,
});

const notice = (seq: number, time: number): SysMsg => ({
  type: 'deleteMsg', scene: 'superTeam', from: 'owner', to: 's1', idServer: `r${seq}`, time,
  msg: { scene: 'superTeam', from: 'owner', to: 's1', time: seq, idServer: `m${seq}`, idClient: `c${seq}`, type: 'text' },
} as SysMsg);

/** A supergroup with `ann` (joined at 100) and the recalls of `recalls` ([seq, recall time]), their notices by seq. */
function group(recalls: Array<[number, number]>) {
  const state = freshTeamState('superTeam', 's1');
  state.team = { teamId: 's1', valid: true } as Team;
  state.members.set('ann', member('ann', 100));
  const rows = new Map<number, SysMsg>();
  for (const [seq, at] of recalls) {
    keepRecall(state, seq, 'owner', seq, at);
    rows.set(seq, notice(seq, at));
  }
  return { state, noticeOf: (seq: number) => rows.get(seq) };
}

const ids = (p: { sysmsgs: SysMsg[] }) => p.sysmsgs.map((m) => m.idServer);

describe('supergroup recall notices', () => {
  it('keeps the recall time, and marks a recall of a message that never counted', () => {
    const state = freshTeamState('superTeam', 's1');
    keepRecall(state, 1, 'a', 10, 20);
    keepRecall(state, 2, 'a', 11, 21, true);
    expect(state.recalls).toEqual([[1, 'a', 10, 20], [2, 'a', 11, 21, true]]);
  });

  it("sends those made while the viewer was a member and after the device's cursor, oldest recall first", () => {
    const { state, noticeOf } = group([[5, 300], [2, 200], [1, 90], [4, 250]]);
    expect(ids(recallNoticePage(state, { viewer: 'ann' }, 1 << 20, noticeOf))).toEqual(['r2', 'r4', 'r5']);
    expect(ids(recallNoticePage(state, { viewer: 'ann', since: 200 }, 1 << 20, noticeOf))).toEqual(['r4', 'r5']);
    expect(ids(recallNoticePage(state, { viewer: 'ann', since: 300 }, 1 << 20, noticeOf))).toEqual([]);
    expect(recallNoticePage(state, { viewer: 'ben' }, 1 << 20, noticeOf)).toEqual({ sysmsgs: [] });
  });

  it('pages by bytes, one notice at least, resuming after the last one sent', () => {
    const { state, noticeOf } = group([[1, 200], [2, 200], [3, 201]]);
    const first = recallNoticePage(state, { viewer: 'ann' }, 1, noticeOf);
    expect(ids(first)).toEqual(['r1']);
    expect(first.next).toEqual([200, 1]);
    const second = recallNoticePage(state, { viewer: 'ann', after: first.next! }, 1, noticeOf);
    expect(ids(second)).toEqual(['r2']);
    const third = recallNoticePage(state, { viewer: 'ann', after: second.next! }, 1, noticeOf);
    expect(ids(third)).toEqual(['r3']);
    expect(third.next).toBeUndefined();
  });

  it('reads the time of a recall kept before its time was from its notice', () => {
    const { state, noticeOf } = group([[1, 150], [2, 250]]);
    state.recalls = [[1, 'owner', 1], [2, 'owner', 2]];
    expect(ids(recallNoticePage(state, { viewer: 'ann', since: 200 }, 1 << 20, noticeOf))).toEqual(['r2']);
  });
});
