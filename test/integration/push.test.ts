/**
 * The push hook over real sockets, in both modes: devices register push
 * tokens through the SDK; a message then yields, through the push deriver
 * reading the real actors, one `push` event per recipient device that is
 * offline with a token: a device that only disconnected keeps its token, a
 * logged-out one does not, an online one and the sender's own are never
 * alerted; the payload carries `pushContent`, `pushPayload`, the sender's
 * nickname with `needPushNick`, and the badge the recipient's unread. A
 * muted sender and `isPushable: false` alert nobody; a group alerts its
 * members by their alert strategy. `registerPushToken` refuses bad tokens
 * and providers naming them; tokens survive a kill -9 of the engine.
 */
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ParleyClient } from '../../client/index.ts';
import type { OnlineDevice, PushTarget } from '../../actors/presence/calls.ts';
import type { Message } from '../../engine/protocol/objects.ts';
import { presenceAddress, userAddress } from '../../engine/subjects.ts';
import { EDGE_SILENCE_MS } from '../../engine/edge-liveness.ts';
import { createPushDeriver } from '../../engine/webhooks/push.ts';
import type { PushEventData } from '../../engine/webhooks/push.ts';
import type { WebhookEvent } from '../../engine/webhooks/sender.ts';
import type { ActorClient } from '../../engine/actor/call.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { useConnections } from '../helpers/connections.ts';
import { useCrashableEngines } from '../helpers/crashable-engines.ts';
import { startEngine, tokenFor } from '../helpers/engine.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';

const APNS_TOKEN = 'a1'.repeat(32);

/** The `msg.sent` event the webhook feed makes of a stored message. */
const sent = (msg: Message): WebhookEvent => ({ id: `msg.sent:${msg.scene}:${msg.to}:${msg.idServer}`, type: 'msg.sent', time: msg.time, data: msg });

/** [account, deviceId] of each push event. */
const whom = (events: WebhookEvent[]) => events.map((e) => [(e.data as PushEventData).account, (e.data as PushEventData).deviceId]);

async function devicesOf(actors: ActorClient, account: string): Promise<string[]> {
  const list = (await actors.hold(presenceAddress(account), 'devices', {}, undefined, 'idempotent')) as OnlineDevice[];
  return list.map((d) => d.deviceId).sort();
}

/** The account's unread over all its sessions, as its user actor holds it now. */
async function unreadOf(actors: ActorClient, account: string): Promise<number> {
  const prefs = (await actors.hold(userAddress(account), 'pushPrefs', { from: '', sessionId: '', seq: 0, counted: false }, undefined, 'idempotent')) as { badge: number };
  return prefs.badge;
}

async function refusal(p: Promise<unknown>, name: string, pattern: RegExp): Promise<void> {
  const err = await rejectionOf(p);
  expect(err).toMatchObject({ name });
  expect(err.message).toMatch(pattern);
}

describeBothModes('push hook', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);
  const derive = () => createPushDeriver({ actors: engine.actors });

  it('alerts the offline devices with tokens: kept after a disconnect, gone after logout, never online ones or the sender\'s', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const alice = await conns.client(a, { deviceId: 'alice-phone', deviceType: 'ios' });
    const aliceTab = await conns.client(a, { deviceId: 'alice-tab', deviceType: 'android' });
    const phone = await conns.client(b, { deviceId: 'phone', deviceType: 'ios' });
    const pad = await conns.client(b, { deviceId: 'pad', deviceType: 'android' });
    const desk = await conns.client(b, { deviceId: 'desk', deviceType: 'pc' });
    expect(await phone.registerPushToken({ token: APNS_TOKEN, provider: 'apns' })).toMatchObject({ deviceId: 'phone', provider: 'apns' });
    await pad.registerPushToken({ token: 'fcm-old', provider: 'fcm' });
    await pad.registerPushToken({ token: 'fcm:pad-token', provider: 'fcm' });
    await desk.registerPushToken({ token: 'desk-token', provider: 'huawei' });
    await aliceTab.registerPushToken({ token: 'alice-tab-token', provider: 'fcm' });
    await alice.updateMyInfo({ nick: 'Alice' });

    expect(await phone.logout()).toEqual({ account: b, deviceId: 'phone' });
    await pad.disconnect();
    await aliceTab.disconnect();
    await waitFor("bob's phone and pad to be gone", async () => (await devicesOf(engine.actors, b)).join() === 'desk');
    await waitFor("alice's tab to be gone", async () => (await devicesOf(engine.actors, a)).join() === 'alice-phone');

    const msg = await alice.sendText({ scene: 'p2p', to: b, text: 'dinner at 8?', needPushNick: true, pushPayload: '{"deeplink":"chat"}' });
    const event = sent(msg);
    const pushes = await derive()(event);
    expect(whom(pushes)).toEqual([[b, 'pad']]);
    expect(pushes[0]).toEqual({
      id: `${event.id}:push:${b}:pad`,
      type: 'push',
      time: msg.time,
      data: {
        account: b,
        deviceId: 'pad',
        token: 'fcm:pad-token',
        provider: 'fcm',
        badge: 1,
        payload: { body: 'Alice: dinner at 8?', pushPayload: '{"deeplink":"chat"}', scene: 'p2p', from: a, to: b, sessionId: `p2p-${a}`, type: 'text', idServer: msg.idServer, idClient: msg.idClient, time: msg.time },
        msg,
      },
    });
    // Derived again (the feed read the entry again): the same ids.
    expect((await derive()(event)).map((e) => e.id)).toEqual([pushes[0]!.id]);

    // The desk goes too: both offline devices with tokens; the badge counts both unread messages; pushContent is the text.
    await desk.disconnect();
    await waitFor("bob's desk to be gone", async () => (await devicesOf(engine.actors, b)).length === 0);
    await waitFor("bob's session to count the first message", async () => (await unreadOf(engine.actors, b)) === 1);
    const second = await derive()(sent(await alice.sendText({ scene: 'p2p', to: b, text: 'secret', pushContent: 'New message' })));
    expect(whom(second)).toEqual([
      [b, 'desk'],
      [b, 'pad'],
    ]);
    expect(second.map((e) => [(e.data as PushEventData).provider, (e.data as PushEventData).badge, (e.data as PushEventData).payload.body])).toEqual([
      ['huawei', 2, 'New message'],
      ['fcm', 2, 'New message'],
    ]);
  });

  it('alerts nobody for isPushable false or a muted sender', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const alice = await conns.client(a);
    const bob = await conns.client(b, { deviceId: 'phone', deviceType: 'ios' });
    const bobDesk = await conns.client(b, { deviceId: 'desk', deviceType: 'pc' });
    await bob.registerPushToken({ token: APNS_TOKEN, provider: 'apns' });
    await bob.disconnect();
    await waitFor("bob's phone to be gone", async () => (await devicesOf(engine.actors, b)).join() === 'desk');
    expect(whom(await derive()(sent(await alice.sendText({ scene: 'p2p', to: b, text: 'one' }))))).toEqual([[b, 'phone']]);
    expect(await derive()(sent(await alice.sendText({ scene: 'p2p', to: b, text: 'quiet', isPushable: false })))).toEqual([]);
    await bobDesk.addToMutelist(a);
    expect(await derive()(sent(await alice.sendText({ scene: 'p2p', to: b, text: 'muted' })))).toEqual([]);
  });

  it('alerts the members of a group by their alert strategy, with the group name as title', async () => {
    const [o, m, b, c] = [freshAccount('owner'), freshAccount('mem'), freshAccount('bob'), freshAccount('carol')];
    const owner = await conns.client(o);
    const member = await conns.client(m);
    const clients: Record<string, ParleyClient> = {};
    for (const x of [b, c]) clients[x] = await conns.client(x, { deviceId: 'phone', deviceType: 'android' });
    const { team } = await owner.createTeam({ name: 'Climbers', beInviteMode: 'noVerify', accounts: [m, b, c] });
    await clients[c]!.updateInfoInTeam({ teamId: team.teamId, muteNotiType: '2', nickInTeam: 'Cat' });
    await member.updateInfoInTeam({ teamId: team.teamId, nickInTeam: 'Mem' });
    for (const x of [b, c]) {
      await clients[x]!.registerPushToken({ token: `tok-${x}`, provider: 'fcm' });
      await clients[x]!.disconnect();
    }
    await waitFor('bob and carol to be gone', async () => (await devicesOf(engine.actors, b)).length === 0 && (await devicesOf(engine.actors, c)).length === 0);

    const fromMember = await derive()(sent(await member.sendText({ scene: 'team', to: team.teamId, text: 'hi all', needPushNick: true })));
    expect(whom(fromMember)).toEqual([[b, 'phone']]);
    expect((fromMember[0]!.data as PushEventData).payload).toMatchObject({ title: 'Climbers', body: 'Mem: hi all', sessionId: `team-${team.teamId}`, scene: 'team', to: team.teamId });
    await waitFor("the members' sessions to count the first message", async () => (await unreadOf(engine.actors, b)) === 1 && (await unreadOf(engine.actors, c)) === 1);
    const fromOwner = await derive()(sent(await owner.sendText({ scene: 'team', to: team.teamId, text: 'meeting' })));
    expect(whom(fromOwner).sort()).toEqual([
      [b, 'phone'],
      [c, 'phone'],
    ].sort());
    // Both members have both messages unread, whichever of them alerted.
    expect(fromOwner.map((e) => (e.data as PushEventData).badge)).toEqual([2, 2]);
  });

  it('moves a token to the account that registered it last: the one before is alerted no more', async () => {
    const [a, b, c] = [freshAccount('alice'), freshAccount('bob'), freshAccount('carol')];
    const alice = await conns.client(a);
    const bob = await conns.client(b, { deviceId: 'shared-phone', deviceType: 'ios' });
    await bob.registerPushToken({ token: APNS_TOKEN, provider: 'apns' });
    await bob.disconnect();
    // The same phone, now carol's, without a logout of bob.
    const carol = await conns.client(c, { deviceId: 'shared-phone', deviceType: 'ios' });
    await carol.registerPushToken({ token: APNS_TOKEN, provider: 'apns' });
    await carol.disconnect();
    const targetsOf = async (x: string) => (await engine.actors.hold(presenceAddress(x), 'pushTargets', {}, undefined, 'idempotent')) as PushTarget[];
    await waitFor("bob's token to be released", async () => (await targetsOf(b)).length === 0);
    expect(await derive()(sent(await alice.sendText({ scene: 'p2p', to: b, text: 'bob?' })))).toEqual([]);
    await waitFor("carol's phone to be gone", async () => (await devicesOf(engine.actors, c)).length === 0);
    expect(whom(await derive()(sent(await alice.sendText({ scene: 'p2p', to: c, text: 'carol?' }))))).toEqual([[c, 'shared-phone']]);
  });

  it('refuses bad tokens and providers, naming them', async () => {
    const bob = await conns.client(freshAccount('bob'));
    await refusal(bob.registerPushToken({ token: '', provider: 'apns' }), 'BAD_REQUEST', /`token`.*empty/);
    await refusal(bob.registerPushToken({ token: 'has space', provider: 'apns' }), 'BAD_REQUEST', /`token`.*printable ASCII/);
    await refusal(bob.registerPushToken({ token: 'x'.repeat(513), provider: 'apns' }), 'TOO_LARGE', /`token`.*512/);
    await refusal(bob.registerPushToken({ token: 'ok', provider: 'pigeon' as never }), 'BAD_REQUEST', /`provider`/);
    await refusal(bob.registerPushToken({ provider: 'fcm' } as never), 'BAD_REQUEST', /`token`/);
  });
});

describeBothModes('push tokens under a login policy', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_DEVICE_LIMITS: 'mobile=1' } });
  const conns = useConnections(() => engine.url);

  it('forgets the token of a phone displaced by another login, keeps the new one\'s', async () => {
    const [a, b] = [freshAccount('alice'), freshAccount('bob')];
    const alice = await conns.client(a);
    const oldPhone = await conns.client(b, { deviceId: 'old', deviceType: 'ios' });
    await oldPhone.registerPushToken({ token: 'old-token', provider: 'apns' });
    const newPhone = await conns.client(b, { deviceId: 'new', deviceType: 'android' });
    await newPhone.registerPushToken({ token: 'new-token', provider: 'fcm' });
    await waitFor('the old phone to be displaced', () => oldPhone.state === 'closed');
    await newPhone.disconnect();
    await waitFor("bob's devices to be gone", async () => (await devicesOf(engine.actors, b)).length === 0);
    const pushes = await createPushDeriver({ actors: engine.actors })(sent(await alice.sendText({ scene: 'p2p', to: b, text: 'hi' })));
    expect(whom(pushes)).toEqual([[b, 'new']]);
  });
});

describeBothModes('push tokens across kill -9', (mode) => {
  const { start, client, dataDir } = useCrashableEngines(mode.engineOptions);

  it('keeps the registered token of a device that went with the engine', async () => {
    const [a, b] = [`alice-${mode.name}`, `bob-${mode.name}`];
    const spawned = await start();
    const bob = await client(spawned, b);
    const registered = await bob.registerPushToken({ token: APNS_TOKEN, provider: 'apns' });
    spawned.process.kill('SIGKILL');
    await spawned.exited;

    const engine = await startEngine(mode.engineOptions({ dataDir: dataDir() }));
    try {
      // The crashed edge is silent: once it counts as gone, bob's device is offline with its token.
      await waitFor(
        "bob's device to count offline",
        async () => ((await engine.actors.hold(presenceAddress(b), 'pushTargets', {}, undefined, 'idempotent')) as PushTarget[]).length === 1,
        EDGE_SILENCE_MS + 5000,
      );
      const targets = (await engine.actors.hold(presenceAddress(b), 'pushTargets', {}, undefined, 'idempotent')) as PushTarget[];
      expect(targets).toEqual([{ deviceId: registered.deviceId, token: APNS_TOKEN, provider: 'apns' }]);
      const alice = await connect({ url: engine.url, token: await tokenFor(a), WebSocket, reconnect: false });
      try {
        const msg = await alice.sendText({ scene: 'p2p', to: b, text: 'still there?' });
        expect(whom(await createPushDeriver({ actors: engine.actors })(sent(msg)))).toEqual([[b, registered.deviceId]]);
      } finally {
        await alice.destroy();
      }
    } finally {
      await engine.stop();
    }
  });
});
