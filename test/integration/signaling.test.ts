/**
 * Signaling channels over real sockets with the real SDK, in both modes:
 * creating and finding channels; a call from one account to another with
 * two devices (both hear INVITE; the first answer wins, the other device is
 * told and its own answer is CONFLICT); joins, leaves, control signals to
 * one member or all, closing; refusals (a non-member inviting or sending
 * control, control to a non-member, a closed channel); cancel; signals kept
 * for an offline invitee until marked read, and the channels an account is
 * in, at login; expiry and `signalingDelay`; RTC tokens with and without a
 * secret.
 */
import { describe, expect, it } from 'vitest';
import { jwtVerify } from 'jose';
import type { ParleyClient } from '../../client/index.ts';
import type { Events } from '../../engine/protocol/events.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { useConnections } from '../helpers/connections.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';

const RTC_SECRET = 'rtc-secret-for-tests-0123456789abcdef';

type Notify = Events['signalingNotify'];

function hear(c: ParleyClient): { notes: Notify[]; syncs: Array<Events['signalingMutilClientSyncNotify']> } {
  const heard = { notes: [] as Notify[], syncs: [] as Array<Events['signalingMutilClientSyncNotify']> };
  c.on('signalingNotify', (d) => heard.notes.push(d));
  c.on('signalingMutilClientSyncNotify', (d) => heard.syncs.push(d));
  return heard;
}

async function refusal(p: Promise<unknown>, name: string, pattern?: RegExp): Promise<void> {
  const err = await rejectionOf(p);
  expect(err).toMatchObject({ name });
  if (pattern !== undefined) expect(err.message).toMatch(pattern);
}

const uniqueName = (what: string) => `${what}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;

describeBothModes('signaling', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_RTC_TOKEN_SECRET: RTC_SECRET } });
  const conns = useConnections(() => engine.url);

  it('creates a channel under a unique open name and finds it by name', async () => {
    const alice = await conns.client(freshAccount('alice'));
    const name = uniqueName('room');
    const info = await alice.signalingCreate({ type: 2, channelName: name, ext: 'e' });
    expect(info).toMatchObject({ channelName: name, type: 2, ext: 'e', members: [] });
    expect(info.channelId).toBe(`${name}.1`);
    expect(info.expireTime).toBeGreaterThan(Date.now() + 7_000_000);
    await refusal(alice.signalingCreate({ type: 1, channelName: name }), 'CONFLICT', /open/);
    expect(await alice.signalingGetChannelInfo(name)).toEqual(info);
    await refusal(alice.signalingGetChannelInfo(uniqueName('none')), 'NOT_FOUND');
    // Without a name the channel gets a fresh one.
    const unnamed = await alice.signalingCreate({ type: 3 });
    expect(unnamed.channelName).not.toBe('');
    expect(unnamed.channelId).toBe(`${unnamed.channelName}.1`);
    await refusal(alice.signalingCreate({ type: 4 } as never), 'BAD_REQUEST', /type/);
  });

  it('a call: the invitee hears it on both devices, the first answer wins and the other device is told', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const alice = await conns.client(a);
    const bobPhone = await conns.client(b, { deviceId: 'phone', deviceType: 'ios' });
    const bobDesk = await conns.client(b, { deviceId: 'desk', deviceType: 'pc' });
    const [aliceHeard, phoneHeard, deskHeard] = [hear(alice), hear(bobPhone), hear(bobDesk)];
    const name = uniqueName('call');

    const call = await alice.signalingCall({ type: 1, channelName: name, account: b, requestId: 'r1', attachExt: 'ring', pushInfo: '{"sound":"x"}', uid: 7 });
    expect(call.requestId).toBe('r1');
    expect(call.members).toEqual([expect.objectContaining({ account: a, uid: 7 })]);
    await waitFor('both of bob\'s devices hear the invitation', () => phoneHeard.notes.length === 1 && deskHeard.notes.length === 1);
    expect(phoneHeard.notes[0]).toMatchObject({ eventType: 'INVITE', channelId: call.channelId, channelName: name, from: a, to: b, requestId: 'r1', attachExt: 'ring', pushInfo: '{"sound":"x"}' });
    expect(typeof phoneHeard.notes[0]!.msgid).toBe('string');

    const accepted = await bobPhone.signalingAccept({ channelId: call.channelId, account: a, requestId: 'r1', attachExt: 'yes', joinAttachExt: 'hi' });
    expect(accepted.members.map((m) => m.account).sort()).toEqual([a, b].sort());
    const bobUid = accepted.members.find((m) => m.account === b)!.uid;
    expect(bobUid).toBeGreaterThan(0);
    await waitFor('alice hears the answer and the join', () => aliceHeard.notes.length === 2);
    expect(aliceHeard.notes.map((n) => n.eventType).sort()).toEqual(['ACCEPT', 'ROOM_JOIN']);
    expect(aliceHeard.notes.find((n) => n.eventType === 'ACCEPT')).toMatchObject({ from: b, to: a, requestId: 'r1', attachExt: 'yes' });
    expect(aliceHeard.notes.find((n) => n.eventType === 'ROOM_JOIN')).toMatchObject({ from: b, attachExt: 'hi', member: { account: b, uid: bobUid, deviceId: 'phone' } });
    await waitFor('the desk is told the phone answered', () => deskHeard.syncs.length === 1);
    expect(deskHeard.syncs[0]).toEqual({ eventType: 'ACCEPT', channelId: call.channelId, requestId: 'r1', fromDeviceId: 'phone', fromClientType: 'ios' });
    expect(phoneHeard.syncs).toEqual([]);

    await refusal(bobDesk.signalingAccept({ channelId: call.channelId, account: a, requestId: 'r1' }), 'CONFLICT', /already accepted/);
    await refusal(bobDesk.signalingReject({ channelId: call.channelId, account: a, requestId: 'r1' }), 'CONFLICT', /already accepted/);
    await refusal(bobDesk.signalingAccept({ channelId: call.channelId, account: a, requestId: 'other' }), 'NOT_FOUND');
  });

  it('control to one member or all, leave, close; refusals for non-members and closed channels', async () => {
    const [a, b, c, d] = [freshAccount('alice'), freshAccount('bob'), freshAccount('carol'), freshAccount('dave')];
    const [alice, bob, carol, dave] = [await conns.client(a), await conns.client(b), await conns.client(c), await conns.client(d)];
    const heard = [alice, bob, carol, dave].map(hear);
    const room = await alice.signalingCreateAndJoin({ type: 3, channelName: uniqueName('ctl'), uid: 0 });
    expect(room.members[0]!.uid).toBeGreaterThan(0);
    // Joining the same name again joins the open channel.
    const joined = await bob.signalingCreateAndJoin({ type: 3, channelName: room.channelName, uid: 42 });
    expect(joined.channelId).toBe(room.channelId);
    expect(joined.members.find((m) => m.account === b)!.uid).toBe(42);
    await carol.signalingJoin({ channelId: room.channelId });
    // A repeated join changes nothing.
    expect((await carol.signalingJoin({ channelId: room.channelId })).members).toHaveLength(3);

    await alice.signalingControl({ channelId: room.channelId, account: b, attachExt: 'mute' });
    await waitFor('bob gets the control signal', () => heard[1]!.notes.some((n) => n.eventType === 'CONTROL'));
    expect(heard[1]!.notes.find((n) => n.eventType === 'CONTROL')).toMatchObject({ from: a, to: b, attachExt: 'mute' });
    await alice.signalingControl({ channelId: room.channelId, attachExt: 'all' });
    await waitFor('carol gets the broadcast control', () => heard[2]!.notes.some((n) => n.eventType === 'CONTROL' && n.attachExt === 'all'));
    await waitFor('bob gets it too', () => heard[1]!.notes.filter((n) => n.eventType === 'CONTROL').length === 2);
    expect(heard[0]!.notes.filter((n) => n.eventType === 'CONTROL')).toEqual([]);

    await refusal(alice.signalingControl({ channelId: room.channelId, account: d }), 'FORBIDDEN', /not a member/);
    await refusal(dave.signalingControl({ channelId: room.channelId }), 'FORBIDDEN', /not a member/);
    await refusal(dave.signalingInvite({ channelId: room.channelId, account: a, requestId: 'x' }), 'FORBIDDEN', /invite/);
    await refusal(dave.signalingLeave({ channelId: room.channelId }), 'FORBIDDEN');
    await refusal(dave.signalingClose({ channelId: room.channelId }), 'FORBIDDEN');

    await carol.signalingLeave({ channelId: room.channelId, attachExt: 'bye' });
    await waitFor('alice and bob hear carol leave', () => [0, 1].every((i) => heard[i]!.notes.some((n) => n.eventType === 'LEAVE' && n.from === c && n.attachExt === 'bye')));
    expect((await alice.signalingGetChannelInfo(room.channelName)).members.map((m) => m.account).sort()).toEqual([a, b].sort());

    await bob.signalingClose({ channelId: room.channelId, attachExt: 'done' });
    await waitFor('alice hears the close', () => heard[0]!.notes.some((n) => n.eventType === 'ROOM_CLOSE' && n.from === b && n.attachExt === 'done'));
    await refusal(carol.signalingJoin({ channelId: room.channelId }), 'NOT_FOUND', /not open/);
    await refusal(alice.signalingGetChannelInfo(room.channelName), 'NOT_FOUND');
    // The name is free again; the new channel has a new id, and the old id still names nothing.
    const again = await alice.signalingCreate({ type: 1, channelName: room.channelName });
    expect(again.channelId).toBe(`${room.channelName}.2`);
    await refusal(carol.signalingJoin({ channelId: room.channelId }), 'NOT_FOUND');
    await refusal(carol.signalingJoin({ channelId: 'no-generation' }), 'NOT_FOUND');
  });

  it('cancel withdraws an unanswered invitation; an answer after it is CONFLICT; reject reaches the inviter', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const [alice, bob] = [await conns.client(a), await conns.client(b)];
    const [aliceHeard, bobHeard] = [hear(alice), hear(bob)];
    const call = await alice.signalingCall({ type: 1, account: b, requestId: 'c1' });
    await alice.signalingCancel({ channelId: call.channelId, account: b, requestId: 'c1', attachExt: 'oops' });
    await waitFor('bob hears the cancel', () => bobHeard.notes.some((n) => n.eventType === 'CANCEL_INVITE' && n.requestId === 'c1' && n.attachExt === 'oops'));
    await refusal(bob.signalingAccept({ channelId: call.channelId, account: a, requestId: 'c1' }), 'CONFLICT', /cancelled/);
    await refusal(alice.signalingCancel({ channelId: call.channelId, account: b, requestId: 'c1' }), 'CONFLICT');
    // Re-inviting under an answered requestId is refused; a new one works and bob declines it.
    await refusal(alice.signalingInvite({ channelId: call.channelId, account: b, requestId: 'c1' }), 'CONFLICT');
    await alice.signalingInvite({ channelId: call.channelId, account: b, requestId: 'c2' });
    // The same invitation again changes nothing (no second INVITE).
    await alice.signalingInvite({ channelId: call.channelId, account: b, requestId: 'c2' });
    await bob.signalingReject({ channelId: call.channelId, account: a, requestId: 'c2', attachExt: 'busy' });
    await waitFor('alice hears the rejection', () => aliceHeard.notes.some((n) => n.eventType === 'REJECT' && n.attachExt === 'busy'));
    expect(bobHeard.notes.filter((n) => n.eventType === 'INVITE').map((n) => n.requestId)).toEqual(['c1', 'c2']);
    // Only the invitee answers: alice cannot accept her own invitation of bob.
    await alice.signalingInvite({ channelId: call.channelId, account: b, requestId: 'c3' });
    await refusal(alice.signalingAccept({ channelId: call.channelId, account: a, requestId: 'c3' }), 'NOT_FOUND');
  });

  it('an offline invitee gets stored signals at login until marked read; a member is told its channels at login', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const alice = await conns.client(a, { deviceId: 'a1' });
    const call = await alice.signalingCall({ type: 2, channelName: uniqueName('off'), account: b, requestId: 'o1', offlineEnabled: true, attachExt: 'late' });
    // Not kept without offlineEnabled.
    await alice.signalingInvite({ channelId: call.channelId, account: b, requestId: 'o2' });

    /** Logs `account` in on a fresh device until its login sync carries `event`; the store is written just after the reply. */
    const loginHearing = async <E extends 'signalingUnreadMessageSyncNotify' | 'signalingChannelsSyncNotify'>(account: string, event: E): Promise<{ client: ParleyClient; got: Array<Events[E]> }> => {
      let found: { client: ParleyClient; got: Array<Events[E]> } | undefined;
      await waitFor(`a login of ${account} to carry ${event}`, async () => {
        const got: Array<Events[E]> = [];
        const client = await conns.client(account, { on: { [event]: (d: Events[E]) => got.push(d) } });
        await client.synced;
        if (got.length > 0) found = { client, got };
        else await client.disconnect();
        return found !== undefined;
      });
      return found!;
    };
    const { client: bob, got: unread } = await loginHearing(b, 'signalingUnreadMessageSyncNotify');
    expect(unread.flat().map((n) => [n.eventType, n.requestId, n.attachExt])).toEqual([['INVITE', 'o1', 'late']]);
    expect(await bob.signalingMarkMsgRead(unread.flat().map((n) => n.msgid))).toEqual({ count: 1 });
    expect(await bob.signalingMarkMsgRead(['unknown-id'])).toEqual({ count: 0 });
    await bob.disconnect();
    const again: Notify[][] = [];
    const bob2 = await conns.client(b, { on: { signalingUnreadMessageSyncNotify: (d: Notify[]) => again.push(d) } });
    await bob2.synced;
    expect(again).toEqual([]);

    const { got: channels } = await loginHearing(a, 'signalingChannelsSyncNotify');
    expect(channels.flat().map((c) => c.channelId)).toEqual([call.channelId]);
    expect(channels[0]![0]!.members.map((m) => m.account)).toEqual([a]);
    // After a leave, the next login lists nothing.
    await alice.signalingLeave({ channelId: call.channelId });
    const later: Array<Events['signalingChannelsSyncNotify']> = [];
    const alice3 = await conns.client(a, { deviceId: 'a3', on: { signalingChannelsSyncNotify: (d: Events['signalingChannelsSyncNotify']) => later.push(d) } });
    await alice3.synced;
    expect(later).toEqual([]);
  });

  it('signalingCallEx and signalingJoinAndAccept answer with an RTC token signed with the secret', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const [alice, bob] = [await conns.client(a), await conns.client(b)];
    const call = await alice.signalingCallEx({ type: 2, account: b, requestId: 'x1', uid: 11, nertcChannelName: 'media-1', nertcTokenTtl: 120, nertcJoinRoomQueryParamMap: '{"q":1}' });
    expect(call).toMatchObject({ nertcChannelName: 'media-1', nertcTokenTtl: 120, requestId: 'x1' });
    const key = new TextEncoder().encode(RTC_SECRET);
    const { payload } = await jwtVerify(call.token, key, { algorithms: ['HS256'] });
    expect(payload).toMatchObject({ sub: a, uid: 11, room: 'media-1', params: '{"q":1}' });
    expect(payload.exp! - payload.iat!).toBe(120);

    const answered = await bob.signalingJoinAndAccept({ channelId: call.channelId, account: a, requestId: 'x1' });
    expect(answered.members.map((m) => m.account).sort()).toEqual([a, b].sort());
    const bobToken = (await jwtVerify(answered.token, key)).payload;
    expect(bobToken).toMatchObject({ sub: b, room: call.channelId, uid: answered.members.find((m) => m.account === b)!.uid });
    expect(bobToken.exp! - bobToken.iat!).toBe(600);
  });
});

describeBothModes('signaling without an RTC secret, with short-lived channels', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SIGNALING_CHANNEL_TTL_SEC: '2' } });
  const conns = useConnections(() => engine.url);

  it('refuses calls asking for a token, saying so, and creates nothing', async () => {
    const alice = await conns.client(freshAccount('alice'));
    const name = uniqueName('notoken');
    await refusal(alice.signalingCallEx({ type: 1, channelName: name, account: freshAccount('bob'), requestId: 'r' }), 'BAD_REQUEST', /PARLEY_RTC_TOKEN_SECRET/);
    await refusal(alice.signalingGetChannelInfo(name), 'NOT_FOUND');
  });

  it('a channel expires unless delayed; its name can then be used again', async () => {
    const alice = await conns.client(freshAccount('alice'));
    const kept = await alice.signalingCreateAndJoin({ type: 1, channelName: uniqueName('kept') });
    const lapsing = await alice.signalingCreate({ type: 1, channelName: uniqueName('lapse') });
    expect(lapsing.expireTime - lapsing.createTime).toBe(2000);
    // Keep one channel alive by delaying it while the other lapses.
    await waitFor(
      'the undelayed channel expires',
      async () => {
        await alice.signalingDelay({ channelId: kept.channelId });
        return (await rejectionOf(alice.signalingGetChannelInfo(lapsing.channelName)).catch(() => undefined)) !== undefined;
      },
      10_000,
    );
    expect((await alice.signalingGetChannelInfo(kept.channelName)).channelId).toBe(kept.channelId);
    await refusal(alice.signalingJoin({ channelId: lapsing.channelId }), 'NOT_FOUND', /not open/);
    const reborn = await alice.signalingCreate({ type: 2, channelName: lapsing.channelName });
    expect(reborn.channelId).toBe(`${lapsing.channelName}.2`);
  });
});

describe('signaling names', () => {
  it('a channel id is its name and generation', async () => {
    const { channelNameOf } = await import('../../engine/protocol/methods/signaling.ts');
    expect(channelNameOf('a.b.3')).toBe('a.b');
    expect(channelNameOf('plain')).toBeUndefined();
    expect(channelNameOf('.1')).toBeUndefined();
  });
});
