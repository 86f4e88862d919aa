/** A supergroup's kept recalls and whom a recall counted for, without servers. */
import { describe, expect, it } from 'vitest';
import { KEPT_RECALLS, keepRecall, recallCountedFor, type MemberRow } from '../../actors/team/logic.ts';
import { freshTeamState } from '../helpers/team-state.ts';

const member = (account: string, joinTime: number): MemberRow => ({
  teamId: 's1', account, type: 'normal', muteNotiType: '0', mute: false, invitorAccid: '', joinTime, updateTime: joinTime, valid: true, base: 0,
});

describe('supergroup recalls', () => {
  it('keeps each recall once, the newest KEPT_RECALLS of them', () => {
    const state = freshTeamState('superTeam', 's1');
    keepRecall(state, 3, 'a', 30);
    keepRecall(state, 3, 'a', 30);
    expect(state.recalls).toEqual([[3, 'a', 30]]);
    for (let seq = 4; seq < 4 + KEPT_RECALLS + 10; seq++) keepRecall(state, seq, 'a', seq * 10);
    expect(state.recalls).toHaveLength(KEPT_RECALLS);
    expect(state.recalls[0]![0]).toBe(4 + 10);
    expect(state.recalls.at(-1)![0]).toBe(3 + KEPT_RECALLS + 10);
  });

  it("counts a recall for a member only for another's message sent once it was a member", () => {
    const ann = member('ann', 100);
    expect(recallCountedFor(ann, 'ben', 100)).toBe(true);
    expect(recallCountedFor(ann, 'ben', 150)).toBe(true);
    expect(recallCountedFor(ann, 'ben', 99)).toBe(false);
    expect(recallCountedFor(ann, 'ann', 150)).toBe(false);
  });
});
