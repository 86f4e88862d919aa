/** The group rules without servers: decisions over a state built by applying their own events. */
import { describe, expect, it } from 'vitest';
import { applyChange, quietFor, type TeamEvent, type TeamState } from '../../actors/team/logic.ts';
import { decideTeamSend } from '../../actors/team/messages.ts';
import * as rules from '../../actors/team/rules.ts';
import type { DecideContext } from '../../actors/team/rules.ts';
import { applyEvent } from '../../actors/conversation/logic.ts';
import { freshTeamState } from '../helpers/team-state.ts';
import type { Args } from '../../engine/protocol/methods.ts';

function fresh(): TeamState {
  return freshTeamState('team', 't1');
}

let ids = 0;
function apply(state: TeamState, events: TeamEvent[]): void {
  for (const e of events) {
    if (e.t === 'msg') {
      applyEvent(state.conv, e);
      if (!e.msg.isUnreadable) {
        state.quietTotal++;
        state.quietBy.set(e.msg.from, (state.quietBy.get(e.msg.from) ?? 0) + 1);
      }
    } else if (e.t === 'team' || e.t === 'members' || e.t === 'pending' || e.t === 'notice') applyChange(state, e);
  }
}

function ctxOf(state: TeamState, by: string, maxMembers = 10): DecideContext {
  const now = 1000 + ids;
  return {
    state,
    by,
    now,
    limits: { maxMembers },
    nextIdServer: () => `id${++ids}`,
    notify: (_change, attach, alsoTo) => {
      const idServer = `n${++ids}`;
      const e = decideTeamSend(state, { from: by, fromDeviceId: 'd', fromClientType: 'web', idClient: idServer, now, idServer, type: 'notification', body: { attach } as never, args: { isUnreadable: false } });
      if (alsoTo !== undefined) e.alsoTo = alsoTo;
      return [e];
    },
  };
}

const create = (over: Partial<Args<'createTeam'>> = {}): Args<'createTeam'> => ({
  type: 'advanced',
  name: 'g',
  joinMode: 'needVerify',
  beInviteMode: 'noVerify',
  inviteMode: 'manager',
  updateTeamMode: 'manager',
  updateCustomMode: 'manager',
  accounts: [],
  ps: '',
  ...over,
});

describe('group rules', () => {
  it('creates with the owner, joins invitees without consent, and reports every joiner to its index', () => {
    const state = fresh();
    const { reply, events } = rules.decideCreate(ctxOf(state, 'o'), create({ accounts: ['a', 'b', 'o'] }));
    expect(reply.accounts).toEqual(['a', 'b']);
    const notice = events.find((e) => e.t === 'notice');
    expect(notice?.t === 'notice' && notice.index.map((u) => u.account).sort()).toEqual(['a', 'b', 'o']);
    apply(state, events);
    expect(state.team).toMatchObject({ memberNum: 3, owner: 'o' });
    expect(state.version).toBe(1);
    expect(() => rules.decideCreate(ctxOf(state, 'o'), create())).toThrow(expect.objectContaining({ name: 'CONFLICT' }));
  });

  it('counts nothing from before a join, and no notification, as unread', () => {
    const state = fresh();
    apply(state, rules.decideCreate(ctxOf(state, 'o'), create({ accounts: ['a'] })).events);
    for (let i = 0; i < 3; i++) {
      apply(state, [decideTeamSend(state, { from: 'a', fromDeviceId: 'd', fromClientType: 'web', idClient: `c${i}`, now: 2000 + i, idServer: `s${i}`, type: 'text', body: { text: 'x' }, args: {} })]);
    }
    apply(state, rules.decideAdd(ctxOf(state, 'o'), { teamId: 't1', accounts: ['late'], ps: '' }).events);
    const late = state.members.get('late')!;
    const counted = (row: typeof late) => state.conv.lastSeq - (state.conv.sent.get(row.account) ?? 0) - quietFor(state, row);
    expect(counted(late)).toBe(0);
    expect(counted(state.members.get('o')!)).toBe(3);
    apply(state, [decideTeamSend(state, { from: 'a', fromDeviceId: 'd', fromClientType: 'web', idClient: 'c9', now: 3000, idServer: 's9', type: 'text', body: { text: 'y' }, args: {} })]);
    expect(counted(late)).toBe(1);
  });

  it('refuses a manager removing a manager, a join past the limit, and a second answer', () => {
    const state = fresh();
    apply(state, rules.decideCreate(ctxOf(state, 'o'), create({ accounts: ['a', 'b'] })).events);
    apply(state, rules.decideManagers(ctxOf(state, 'o'), { teamId: 't1', accounts: ['a', 'b'] }, true).events);
    expect(() => rules.decideRemove(ctxOf(state, 'a'), { teamId: 't1', accounts: ['b'] })).toThrow(expect.objectContaining({ name: 'FORBIDDEN' }));
    expect(() => rules.decideAdd(ctxOf(state, 'o', 3), { teamId: 't1', accounts: ['c'], ps: '' })).toThrow(expect.objectContaining({ name: 'TEAM_FULL' }));
    apply(state, rules.decideUpdate(ctxOf(state, 'o'), { teamId: 't1', beInviteMode: 'needVerify' }).events);
    const invited = rules.decideAdd(ctxOf(state, 'o'), { teamId: 't1', accounts: ['c'], ps: '' });
    apply(state, invited.events);
    const idServer = state.pending.get('invite:c')!.idServer;
    apply(state, rules.decideRejectInvite(ctxOf(state, 'c'), { teamId: 't1', from: 'o', idServer }).events);
    expect(() => rules.decideAcceptInvite(ctxOf(state, 'c'), { teamId: 't1', from: 'o', idServer })).toThrow(expect.objectContaining({ name: 'CONFLICT' }));
  });

  it('transfers with leave: the old owner is gone and told its index it left', () => {
    const state = fresh();
    apply(state, rules.decideCreate(ctxOf(state, 'o'), create({ accounts: ['a'] })).events);
    const { events } = rules.decideTransfer(ctxOf(state, 'o'), { teamId: 't1', account: 'a', leave: true });
    const notice = events.find((e) => e.t === 'notice');
    expect(notice?.t === 'notice' && notice.index.find((u) => u.account === 'o')).toEqual({ account: 'o', time: expect.any(Number) });
    apply(state, events);
    expect([...state.members.keys()]).toEqual(['a']);
    expect(state.team?.owner).toBe('a');
    expect(state.former.get('o')?.valid).toBe(false);
  });
});
