/** Supergroup fan-out effects without servers: one group-subject publish per message, subscription controls before it. */
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../engine/actor/behavior.ts';
import type { Delivery, GroupDelivery } from '../../engine/envelope.ts';
import { decode } from '../../engine/protocol/codec.ts';
import { deliverySubject, groupSubject } from '../../engine/subjects.ts';
import { applyChange, type TeamEvent, type TeamState } from '../../actors/team/logic.ts';
import { decideTeamSend } from '../../actors/team/messages.ts';
import { noticeFrameEffects, superTeamEffects } from '../../actors/team/fanout.ts';
import * as rules from '../../actors/team/rules.ts';
import type { DecideContext } from '../../actors/team/rules.ts';
import { applyEvent } from '../../actors/conversation/logic.ts';
import { freshTeamState } from '../helpers/team-state.ts';

function fresh(): TeamState {
  return freshTeamState('superTeam', 'g1');
}

let ids = 0;
function apply(state: TeamState, events: TeamEvent[]): void {
  for (const e of events) {
    if (e.t === 'msg') applyEvent(state.conv, e);
    else if (e.t === 'team' || e.t === 'members' || e.t === 'pending' || e.t === 'notice') applyChange(state, e);
  }
}

function ctxOf(state: TeamState, by: string): DecideContext {
  const now = 1000 + ++ids;
  return {
    state,
    by,
    now,
    limits: { maxMembers: 100 },
    nextIdServer: () => `id${++ids}`,
    notify: (_change, attach, alsoTo, notTo) => {
      const idServer = `n${++ids}`;
      const e = decideTeamSend(state, { from: by, fromDeviceId: 'd', fromClientType: 'web', idClient: idServer, now, idServer, type: 'notification', body: { attach } as never, args: { isUnreadable: false } });
      if (alsoTo !== undefined && alsoTo.length > 0) e.alsoTo = alsoTo;
      if (notTo !== undefined && notTo.length > 0) e.notTo = notTo;
      return [e];
    },
  };
}

const deliver = (account: string, frame: Uint8Array, exclude?: string): Effect => (exclude === undefined ? { kind: 'deliver', account, frame } : { kind: 'deliver', account, frame, exclude });

/** What the effects say, in order: `grp <seq>`, `ctl <account> <control>`, `dlv <account>`. */
function shape(effects: Effect[]): string[] {
  return effects.map((e) => {
    if (e.kind === 'deliver') return `dlv ${e.account}`;
    if (e.kind !== 'publish') return e.kind;
    if (e.subject === groupSubject('g1')) return `grp ${(decode(e.data) as GroupDelivery).s ?? '-'}`;
    const c = (decode(e.data) as Delivery).c!;
    return `ctl ${e.subject} ${JSON.stringify(c.groups)}`;
  });
}

function created(accounts = ['a', 'b']): TeamState {
  const state = fresh();
  const c = { ...ctxOf(state, 'o'), limits: { maxMembers: 100_000 } };
  const { events } = rules.decideCreate(c, { type: 'advanced', name: 'g', joinMode: 'needVerify', beInviteMode: 'noVerify', inviteMode: 'manager', updateTeamMode: 'manager', updateCustomMode: 'manager', accounts, ps: '' });
  apply(state, events);
  return state;
}

/** Every effect of a batch as the actor makes them: the group's, then each notice frame's. */
function allEffects(state: TeamState, events: TeamEvent[]): Effect[] {
  const out = superTeamEffects(state, events, deliver);
  for (const e of events) if (e.t === 'notice') for (const f of e.frames) out.push(...noticeFrameEffects(state, events, f, deliver));
  return out;
}

const grp = (effects: Effect[]) => effects.filter((e) => e.kind === 'publish' && e.subject === groupSubject('g1')).map((e) => decode((e as { data: Uint8Array }).data) as GroupDelivery);

describe('supergroup fan-out effects', () => {
  it('publishes a message once on the group subject, whatever the member count, with both frames and the sending socket', () => {
    const state = created();
    const e = decideTeamSend(state, { from: 'a', fromDeviceId: 'd', fromClientType: 'web', idClient: 'c1', now: 5000, idServer: 's1', type: 'text', body: { text: 'hi' }, args: {}, conn: 'edge/7' });
    apply(state, [e]);
    const effects = superTeamEffects(state, [e], deliver);
    expect(shape(effects)).toEqual([`grp ${e.msg.seq}`]);
    const d = decode((effects[0] as { data: Uint8Array }).data) as GroupDelivery;
    expect(d).toMatchObject({ a: 'a', x: 'edge/7', s: e.msg.seq });
    expect((decode(d.f) as { d: { flow: string } }).d.flow).toBe('in');
    expect((decode(d.o!) as { d: { flow: string } }).d.flow).toBe('out');
  });

  it('subscribes a joiner from its join notice, before the notice goes out', () => {
    const state = created();
    const { events } = rules.decideAdd(ctxOf(state, 'o'), { teamId: 'g1', accounts: ['n'], ps: '' });
    apply(state, events);
    const seq = state.conv.lastSeq;
    expect(shape(superTeamEffects(state, events, deliver))).toEqual([`ctl ${deliverySubject('n')} {"add":[["g1",${seq}]]}`, `grp ${seq}`]);
  });

  it('drops a removed member before the notice, which reaches it on its own subject and not on the group', () => {
    const state = created();
    const { events } = rules.decideRemove(ctxOf(state, 'o'), { teamId: 'g1', accounts: ['b'] });
    apply(state, events);
    const effects = superTeamEffects(state, events, deliver);
    const shown = shape(effects);
    expect(shown[0]).toBe(`ctl ${deliverySubject('b')} {"remove":["g1"]}`);
    const grp = effects.find((e) => e.kind === 'publish' && e.subject === groupSubject('g1')) as { data: Uint8Array };
    const d = decode(grp.data) as GroupDelivery;
    if (shown.includes('dlv b')) expect(d.n).toContain('b');
  });

  it('names the members whose alert setting silences the sender from sets kept as their settings change', () => {
    const state = created(['a', 'b', 'c', 'm']);
    apply(state, rules.decideManagers(ctxOf(state, 'o'), { teamId: 'g1', accounts: ['m'] }, true).events);
    apply(state, rules.decideUpdateInfo(ctxOf(state, 'a'), { teamId: 'g1', muteNotiType: '1' }).events);
    apply(state, rules.decideUpdateInfo(ctxOf(state, 'b'), { teamId: 'g1', muteNotiType: '2' }).events);
    const quietOf = (from: string) => {
      const e = decideTeamSend(state, { from, fromDeviceId: 'd', fromClientType: 'web', idClient: `q${++ids}`, now: 6000, idServer: `s${ids}`, type: 'text', body: { text: 'x' }, args: {} });
      apply(state, [e]);
      return (grp(superTeamEffects(state, [e], deliver))[0]!.q ?? []).sort();
    };
    expect(quietOf('c')).toEqual(['a', 'b']);
    // "2" lets the owner's and managers' messages through; nobody is silenced for their own.
    expect(quietOf('m')).toEqual(['a']);
    expect(quietOf('a')).toEqual(['b']);
    apply(state, rules.decideUpdateInfo(ctxOf(state, 'a'), { teamId: 'g1', muteNotiType: '0' }).events);
    apply(state, rules.decideRemove(ctxOf(state, 'o'), { teamId: 'g1', accounts: ['b'] }).events);
    expect(quietOf('c')).toEqual([]);
    expect([...state.alertOff, ...state.alertHigh]).toEqual([]);
  });

  it('costs a join the same Bus messages and index reports in a group of 10 as of 3,000', () => {
    const cost = (size: number) => {
      const state = created(Array.from({ length: size }, (_, i) => `u${i}`));
      const { events } = rules.decideAdd({ ...ctxOf(state, 'o'), limits: { maxMembers: 100_000 } }, { teamId: 'g1', accounts: ['n1', 'n2'], ps: '' });
      apply(state, events);
      const notice = events.find((e) => e.t === 'notice') as Extract<TeamEvent, { t: 'notice' }>;
      return { effects: shape(allEffects(state, events)), index: notice.index.map((u) => u.account).sort(), memberNum: state.team!.memberNum };
    };
    const small = cost(10);
    const large = cost(3000);
    expect(large.effects).toEqual(small.effects);
    expect(large.index).toEqual(['n1', 'n2']);
    expect([small.memberNum, large.memberNum]).toEqual([13, 3003]);
    // The joiners hear `AddSuperTeamMembers` on their own subject; the members once on the group's.
    expect(large.effects.filter((e) => e.startsWith('dlv')).sort()).toEqual(['dlv n1', 'dlv n2']);
  });

  it('sends a frame for every member once on the group subject, leaving out the operator', () => {
    const state = created();
    const { events } = rules.decideUpdateInfo(ctxOf(state, 'a'), { teamId: 'g1', nickInTeam: 'ann' });
    apply(state, events);
    const effects = allEffects(state, events);
    expect(shape(effects)).toEqual(['grp -']);
    const d = grp(effects)[0]!;
    expect(d.n).toEqual(['a']);
    expect((decode(d.f) as { ev: string }).ev).toBe('UpdateSuperTeamMember');
  });
});
