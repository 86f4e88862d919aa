/**
 * The push hook's decisions without servers: which devices of which
 * recipients are alerted (offline with a token, never the sender's, not
 * when muted, by the group alert strategy, not for `isPushable: false` or
 * group notifications), the alert text (`pushContent`, the kind, the
 * sender's nickname), the payload, the badge, the ids; the presence actor's
 * tokens (replaced, kept offline, forgotten at logout, bounded); and the
 * deriver's reads over a recording stand-in of the actor client.
 */
import { describe, expect, it } from 'vitest';
import { PRESENCE_EVENT_APPLY, decideForgetToken, decideRegisterToken, pushTargets } from '../../actors/presence/logic.ts';
import type { PresenceEvent, PresenceState } from '../../actors/presence/logic.ts';
import { emptyEventsState } from '../../actors/presence/events.ts';
import type { DeviceEntry } from '../../actors/presence/calls.ts';
import { pushPrefsOf } from '../../actors/user/push-prefs.ts';
import type { SessionRow, UserState } from '../../actors/user/logic.ts';
import { emptyRelations } from '../../actors/user/relations.ts';
import { groupPushTargets } from '../../actors/team/push-targets.ts';
import type { MemberRow, TeamState } from '../../actors/team/logic.ts';
import { decideClaim, tokenHolderAddress } from '../../actors/presence/token-holders.ts';
import { MAX_PUSH_TOKENS } from '../../engine/protocol/methods/push.ts';
import type { Message } from '../../engine/protocol/objects.ts';
import { MAX_PUSH_BODY_CHARS, alertText, createPushDeriver, mayAlert, pushEventsFor, pushPayloadOf } from '../../engine/webhooks/push.ts';
import type { PushEventData } from '../../engine/webhooks/push.ts';

function message(over: Partial<Message> = {}): Message {
  return {
    scene: 'p2p',
    from: 'alice',
    to: 'bob',
    sessionId: 'p2p-bob',
    target: 'bob',
    flow: 'out',
    type: 'text',
    text: 'hello bob',
    idClient: 'c1',
    idServer: 's1',
    seq: 3,
    time: 1000,
    status: 'success',
    fromDeviceId: 'alice-phone',
    fromClientType: 'ios',
    needMsgReceipt: false,
    isHistoryable: true,
    isRoamingable: true,
    isSyncable: true,
    isPushable: true,
    isOfflinable: true,
    isUnreadable: true,
    ...over,
  };
}

const source = { id: 'ev1', type: 'msg.sent', time: 1000 };

function presence(...devices: DeviceEntry[]): PresenceState {
  return { account: 'bob', devices: new Map(devices.map((d) => [d.deviceId, d])), signals: new Map(), channels: new Map(), events: emptyEventsState(), tokens: new Map() };
}
function apply(state: PresenceState, events: PresenceEvent[]): void {
  for (const e of events) if (e.t === 'pushToken') PRESENCE_EVENT_APPLY.pushToken(state, e);
}
const dev = (deviceId: string, edge = 'e1'): DeviceEntry => ({ deviceId, deviceType: 'ios', edge, conn: `${edge}/${deviceId}`, at: 1 });

describe('push tokens in the presence actor', () => {
  it('registers one token per device, replaces it, answers a repeat without a change', () => {
    const s = presence();
    const first = decideRegisterToken(s, { deviceId: 'phone', deviceType: 'ios' }, 'tok-1', 'apns', 10);
    expect(first.reply).toEqual({ deviceId: 'phone', provider: 'apns', updateTime: 10 });
    apply(s, first.events);
    const repeat = decideRegisterToken(s, { deviceId: 'phone', deviceType: 'ios' }, 'tok-1', 'apns', 20);
    expect(repeat.events).toEqual([]);
    expect(repeat.reply.updateTime).toBe(10);
    apply(s, decideRegisterToken(s, { deviceId: 'phone', deviceType: 'ios' }, 'tok-2', 'apns', 30).events);
    expect([...s.tokens.values()].map((t) => [t.deviceId, t.token, t.time])).toEqual([['phone', 'tok-2', 30]]);
  });

  it('targets only the devices with a token that no live edge holds now', () => {
    const s = presence(dev('online'), dev('on-dead-edge', 'dead'));
    for (const id of ['online', 'on-dead-edge', 'offline']) apply(s, decideRegisterToken(s, { deviceId: id, deviceType: 'android' }, `t-${id}`, 'fcm', 1).events);
    expect(pushTargets(s, (edge) => edge !== 'dead')).toEqual([
      { deviceId: 'offline', token: 't-offline', provider: 'fcm' },
      { deviceId: 'on-dead-edge', token: 't-on-dead-edge', provider: 'fcm' },
    ]);
  });

  it('forgets a token at logout, and keeps at most MAX_PUSH_TOKENS, the newest', () => {
    const s = presence();
    apply(s, decideRegisterToken(s, { deviceId: 'phone', deviceType: 'ios' }, 't', 'apns', 1).events);
    apply(s, decideForgetToken(s, 'phone'));
    expect(s.tokens.size).toBe(0);
    expect(decideForgetToken(s, 'phone')).toEqual([]);
    for (let i = 0; i < MAX_PUSH_TOKENS + 2; i++) apply(s, decideRegisterToken(s, { deviceId: `d${i}`, deviceType: 'ios' }, `t${i}`, 'apns', i).events);
    expect(s.tokens.size).toBe(MAX_PUSH_TOKENS);
    expect(s.tokens.has('d0')).toBe(false);
    expect(s.tokens.has(`d${MAX_PUSH_TOKENS + 1}`)).toBe(true);
  });
});

describe("a token's holder", () => {
  const h = (account: string, deviceId: string, time: number) => ({ account, deviceId, time });

  it('is the latest registration; the one before it, or a late older claim, is released', () => {
    expect(decideClaim(undefined, h('bob', 'phone', 5))).toEqual([{ t: 'claimed', holder: h('bob', 'phone', 5) }]);
    expect(decideClaim(h('bob', 'phone', 5), h('bob', 'phone', 5))).toEqual([]);
    expect(decideClaim(h('bob', 'phone', 5), h('bob', 'phone', 7))).toEqual([{ t: 'claimed', holder: h('bob', 'phone', 7) }]);
    expect(decideClaim(h('bob', 'phone', 5), h('carol', 'phone', 6))).toEqual([{ t: 'claimed', holder: h('carol', 'phone', 6), released: h('bob', 'phone', 5) }]);
    expect(decideClaim(h('carol', 'phone', 6), h('bob', 'phone', 5))).toEqual([{ t: 'stale', released: h('bob', 'phone', 5) }]);
    // A tie goes the same way whichever claim comes first.
    expect(decideClaim(h('bob', 'p', 5), h('carol', 'p', 5))).toEqual([{ t: 'claimed', holder: h('carol', 'p', 5), released: h('bob', 'p', 5) }]);
    expect(decideClaim(h('carol', 'p', 5), h('bob', 'p', 5))).toEqual([{ t: 'stale', released: h('bob', 'p', 5) }]);
  });

  it('is an actor named by a digest of the token, never the token', () => {
    const address = tokenHolderAddress('secret-token');
    expect(address).toMatch(/^pushToken:[0-9a-f]{64}$/);
    expect(address).not.toContain('secret-token');
  });
});

describe('the alert', () => {
  it('says pushContent, else the text, else the kind, with the nickname first when asked, cut when long', () => {
    expect(alertText(message())).toBe('hello bob');
    expect(alertText(message({ pushContent: 'You have a message' }))).toBe('You have a message');
    expect(alertText(message({ type: 'image', text: undefined }))).toBe('[image]');
    expect(alertText(message({ type: 'geo', text: undefined }))).toBe('[location]');
    expect(alertText(message({ type: 'custom', text: undefined, content: '{"x":1}' }))).toBe('[custom message]');
    expect(alertText(message(), 'Alice')).toBe('Alice: hello bob');
    const long = alertText(message({ text: 'x'.repeat(500) }));
    expect([...long].length).toBe(MAX_PUSH_BODY_CHARS);
    expect(long.endsWith('…')).toBe(true);
  });

  it('is never raised for isPushable false nor for group notifications', () => {
    expect(mayAlert(message())).toBe(true);
    expect(mayAlert(message({ isPushable: false }))).toBe(false);
    expect(mayAlert(message({ scene: 'team', type: 'notification', text: undefined }))).toBe(false);
  });

  it('makes one event per device with a stable id, the payload, the badge and the message', () => {
    const msg = message({ pushPayload: '{"deeplink":"chat/alice"}' });
    const targets = [{ deviceId: 'phone', token: 'tok', provider: 'apns' as const }, { deviceId: 'pad', token: 'tok2', provider: 'apns' as const }];
    const events = pushEventsFor(source, msg, 'bob', targets, { muted: false, badge: 4 }, pushPayloadOf(msg, alertText(msg)));
    expect(events.map((e) => e.id)).toEqual(['ev1:push:bob:phone', 'ev1:push:bob:pad']);
    expect(events[0]).toEqual({
      id: 'ev1:push:bob:phone',
      type: 'push',
      time: 1000,
      data: {
        account: 'bob',
        deviceId: 'phone',
        token: 'tok',
        provider: 'apns',
        badge: 4,
        payload: { body: 'hello bob', pushPayload: '{"deeplink":"chat/alice"}', scene: 'p2p', from: 'alice', to: 'bob', sessionId: 'p2p-alice', type: 'text', idServer: 's1', idClient: 'c1', time: 1000 },
        msg,
      },
    });
  });

  it('is not raised for a muted sender, nor on the sender\'s own devices', () => {
    const msg = message();
    const t = [{ deviceId: 'phone', token: 'tok', provider: 'apns' as const }];
    expect(pushEventsFor(source, msg, 'bob', t, { muted: true, badge: 1 }, pushPayloadOf(msg, 'x'))).toEqual([]);
    expect(pushEventsFor(source, message({ isMuted: true }), 'bob', t, { muted: false, badge: 1 }, pushPayloadOf(msg, 'x'))).toEqual([]);
    expect(pushEventsFor(source, msg, 'alice', t, { muted: false, badge: 1 }, pushPayloadOf(msg, 'x'))).toEqual([]);
  });
});

function row(id: string, lastSeq: number, readSeq: number, over: Partial<SessionRow> = {}): SessionRow {
  return { id, scene: 'p2p', to: id.slice(4), address: '', lastMsg: undefined, lastSeq, lastOwn: 0, readSeq, readOwn: 0, updateTime: 0, ...over };
}

describe("the recipient's mute and badge", () => {
  const user = (rows: SessionRow[], muted: string[] = []): UserState => {
    const relations = emptyRelations();
    for (const a of muted) relations.mutelist.set(a, 1);
    return { account: 'bob', sessions: new Map(rows.map((r) => [r.id, r])), people: { profile: undefined, relations, friends: undefined as never } };
  };

  it('sums the unread of the visible sessions, counting the message when its session has not seen it yet', () => {
    const s = user([row('p2p-alice', 3, 1), row('p2p-carol', 5, 3), row('p2p-dave', 2, 0, { deletedSeq: 2 })]);
    // Alice's seq 3 is in the session already: 2 + 2.
    expect(pushPrefsOf(s, { from: 'alice', sessionId: 'p2p-alice', seq: 3, counted: true })).toEqual({ muted: false, badge: 4 });
    // Seq 4 is not: one more.
    expect(pushPrefsOf(s, { from: 'alice', sessionId: 'p2p-alice', seq: 4, counted: true }).badge).toBe(5);
    expect(pushPrefsOf(s, { from: 'alice', sessionId: 'p2p-alice', seq: 4, counted: false }).badge).toBe(4);
    expect(pushPrefsOf(s, { from: 'erin', sessionId: 'p2p-erin', seq: 1, counted: true }).badge).toBe(5);
  });

  it('says muted when the sender is in the mutelist', () => {
    expect(pushPrefsOf(user([], ['alice']), { from: 'alice', sessionId: 'p2p-alice', seq: 1, counted: true }).muted).toBe(true);
  });
});

describe("a group's recipients", () => {
  const member = (account: string, type: MemberRow['type'], muteNotiType: MemberRow['muteNotiType'], joinTime: number, nickInTeam?: string): MemberRow => ({
    teamId: 't1',
    account,
    type,
    muteNotiType,
    mute: false,
    invitorAccid: '',
    joinTime,
    updateTime: joinTime,
    valid: true,
    base: 0,
    ...(nickInTeam === undefined ? {} : { nickInTeam }),
  });
  const team = (members: MemberRow[], valid = true): TeamState =>
    ({ kind: 'team', id: 't1', team: { teamId: 't1', type: 'advanced', name: 'Climbers', valid }, members: new Map(members.map((m) => [m.account, m])) }) as unknown as TeamState;
  const members = [member('owner', 'owner', '0', 1, 'Boss'), member('mgr', 'manager', '2', 2), member('all', 'normal', '0', 3), member('none', 'normal', '1', 4), member('mgrOnly', 'normal', '2', 5)];

  it('alerts the other members by their strategy: "0" always, "1" never, "2" only for the owner and managers', () => {
    expect(groupPushTargets(team(members), { from: 'all', max: 100 })).toEqual({ accounts: ['owner'], total: 1, name: 'Climbers' });
    expect(groupPushTargets(team(members), { from: 'owner', max: 100 })).toEqual({ accounts: ['mgr', 'all', 'mgrOnly'], total: 3, name: 'Climbers', fromNick: 'Boss' });
    expect(groupPushTargets(team(members), { from: 'mgr', max: 100 }).accounts).toEqual(['owner', 'all', 'mgrOnly']);
  });

  it('cuts the list at max, first by join time, and says how many there were; nobody for a dismissed group', () => {
    expect(groupPushTargets(team(members), { from: 'owner', max: 2 })).toMatchObject({ accounts: ['mgr', 'all'], total: 3 });
    expect(groupPushTargets(team(members, false), { from: 'owner', max: 100 })).toEqual({ accounts: [], total: 0 });
  });
});

describe('the deriver', () => {
  /** Answers each read from `answers` by `<address> <method>`, recording them. */
  function actors(answers: Record<string, unknown>) {
    const calls: string[] = [];
    return {
      calls,
      client: {
        async hold(to: string, m: string): Promise<unknown> {
          calls.push(`${to} ${m}`);
          const key = `${to} ${m}`;
          if (!(key in answers)) throw new Error(`unexpected read ${key}`);
          return answers[key];
        },
      },
    };
  }

  it('reads the group once, each recipient\'s presence, and the user actor only of those with offline tokens', async () => {
    const a = actors({
      'team:t1 pushTargets': { accounts: ['bob', 'carol', 'dave'], total: 3, name: 'Climbers' },
      'presence:bob pushTargets': [{ deviceId: 'phone', token: 'tb', provider: 'apns' }],
      'presence:carol pushTargets': [],
      'presence:dave pushTargets': [{ deviceId: 'tab', token: 'td', provider: 'fcm' }],
      'user:bob pushPrefs': { muted: false, badge: 2 },
      'user:dave pushPrefs': { muted: true, badge: 9 },
      'user:alice getUser': { account: 'alice', nick: 'Alice' },
    });
    const derive = createPushDeriver({ actors: a.client as never });
    const msg = message({ scene: 'team', to: 't1', sessionId: 'team-t1', target: 't1', needPushNick: true });
    const out = await derive({ ...source, data: msg });
    expect(out.map((e) => e.id)).toEqual(['ev1:push:bob:phone']);
    const data = out[0]!.data as PushEventData;
    expect(data).toMatchObject({ account: 'bob', badge: 2, payload: { title: 'Climbers', body: 'Alice: hello bob', sessionId: 'team-t1', scene: 'team', to: 't1' } });
    expect(a.calls.filter((c) => c.includes('user:carol'))).toEqual([]);
    expect(a.calls.filter((c) => c.startsWith('team:'))).toEqual(['team:t1 pushTargets']);
  });

  it('reads a supergroup at its own address, at most maxGroupRecipients of its members', async () => {
    const a = actors({
      'superTeam:s1 pushTargets': { accounts: ['bob'], total: 5000 },
      'presence:bob pushTargets': [{ deviceId: 'phone', token: 'tb', provider: 'honor' }],
      'user:bob pushPrefs': { muted: false, badge: 1 },
    });
    let asked: unknown;
    const client = { hold: (to: string, m: string, args: unknown) => ((asked ??= args), a.client.hold(to, m)) };
    const out = await createPushDeriver({ actors: client as never, maxGroupRecipients: 1 })({ ...source, data: message({ scene: 'superTeam', to: 's1', type: 'image', text: undefined }) });
    expect(asked).toEqual({ from: 'alice', max: 1 });
    expect(out.map((e) => [(e.data as PushEventData).payload.sessionId, (e.data as PushEventData).payload.body])).toEqual([['superTeam-s1', '[image]']]);
  });

  it('ignores other events and unpushable messages without reading anything', async () => {
    const a = actors({});
    const derive = createPushDeriver({ actors: a.client as never });
    expect(await derive({ ...source, type: 'msg.recalled', data: message() })).toEqual([]);
    expect(await derive({ ...source, data: message({ isPushable: false }) })).toEqual([]);
    expect(await derive({ ...source, data: message({ to: 'alice' }) })).toEqual([]);
    expect(await derive({ ...source, data: { not: 'a message' } })).toEqual([]);
    expect(a.calls).toEqual([]);
  });

  it('rejects when a read fails, so the entry is tried again', async () => {
    const derive = createPushDeriver({ actors: actors({}).client as never });
    await expect(derive({ ...source, data: message() })).rejects.toThrow(/presence:bob/);
  });
});
