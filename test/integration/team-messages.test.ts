/**
 * What a p2p conversation does with its messages, in both group scenes
 * (`team`, `superTeam`), over the wire with the SDK, in both modes: every
 * message kind (geo, tip, custom, file kinds) reaches the other members and
 * the sender's other device and pages as history; forwarding into and out of
 * a group; a resend with the same `idClient` answered with the original;
 * lookups by idServer and delete-for-self in batches, the caller's own; the
 * member-only reads refused to outsiders (NOT_MEMBER); and a member removed
 * from an advanced group stops receiving at once on every device (on two
 * edges in NATS mode).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { DeletedMsgSelf, Message, MsgRef } from '../../engine/protocol/methods.ts';
import type { TeamKind } from '../../engine/protocol/methods/teams.ts';
import { startEngine, type TestEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import { heard, refusal } from '../helpers/groups.ts';
import { setupOrFail } from '../helpers/setup-or-fail.ts';

const ENV = { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' };
const refOf = (m: Message): MsgRef => ({ scene: m.scene, from: m.from, to: m.to, time: m.time, idServer: m.idServer });
const file = { url: 'https://files.example/p.jpg', name: 'p.jpg', size: 2048, md5: 'd41d8cd98f00b204e9800998ecf8427e', ext: 'jpg' };

describeBothModes('group messages', (mode) => {
  const engine = mode.useEngine({ env: ENV });
  // NATS mode: a second edge on the same cluster, so "every device" spans two edges.
  let edge2: TestEngine | undefined;
  if (mode.name === 'nats') {
    setupOrFail(async () => {
      edge2 = await startEngine(mode.engineOptions({ role: 'edge', env: ENV }));
    });
    afterAll(async () => {
      await edge2?.stop();
    });
  }
  const other = (): TestEngine => edge2 ?? engine;
  const conns = useConnections(() => engine.url);

  /** A group of `scene` owned by `o` (phone and desk) with members `a` and `b`, and an outsider `x`, all logged in. */
  async function setup(scene: TeamKind) {
    const [o, a, b, x] = [account('owner'), account('ann'), account('ben'), account('out')];
    const phone = await conns.client(o, { deviceId: 'phone' });
    const desk = await conns.client(o, { deviceId: 'desk' });
    const [ac, bc, xc] = await Promise.all([conns.client(a), conns.client(b), conns.client(x)]);
    await Promise.all([phone, desk, ac, bc, xc].map((c) => c.synced));
    const create = scene === 'team' ? phone.createTeam.bind(phone) : phone.createSuperTeam.bind(phone);
    const { team } = await create({ name: 'g', beInviteMode: 'noVerify', accounts: [a, b] });
    return { o, a, b, x, phone, desk, ac, bc, xc, teamId: team.teamId, sessionId: `${scene}-${team.teamId}` };
  }

  for (const scene of ['team', 'superTeam'] as const) {
    describe(scene, () => {
      it('every message kind reaches the other members and the other device and pages as history; a resend is the original', async () => {
        const g = await setup(scene);
        const atAnn = heard<Message>(g.ac, 'msg');
        const atDesk = heard<Message>(g.desk, 'msg');
        const to = { scene, to: g.teamId };
        const geo = await g.phone.sendGeo({ ...to, geo: { lng: 116.3833, lat: 39.9167, title: 'Beijing' } });
        const tip = await g.phone.sendTipMsg({ ...to, tip: 'welcome' });
        const custom = await g.phone.sendCustomMsg({ ...to, content: '{"dice":4}', idClient: 'same-1' });
        const image = await g.phone.sendFile({ ...to, type: 'image', file: { ...file, w: 640, h: 480 } });
        const audio = await g.phone.sendFile({ ...to, type: 'audio', file: { ...file, name: 'a.aac', ext: 'aac', dur: 3000 } });
        const sent = [geo, tip, custom, image, audio];
        expect(sent.map((m) => [m.type, m.scene, m.sessionId, m.flow])).toEqual(['geo', 'tip', 'custom', 'image', 'audio'].map((t) => [t, scene, g.sessionId, 'out']));
        expect([geo.geo?.title, tip.tip, custom.content, image.file?.w, audio.file?.dur]).toEqual(['Beijing', 'welcome', '{"dice":4}', 640, 3000]);
        const kinds = (list: Message[]) => list.filter((m) => m.type !== 'notification');
        await waitFor('ann and the desk to get all five', () => kinds(atAnn).length === 5 && kinds(atDesk).length === 5);
        expect(kinds(atAnn).map((m) => [m.idServer, m.flow, m.sessionId])).toEqual(sent.map((m) => [m.idServer, 'in', g.sessionId]));
        expect(kinds(atDesk).map((m) => [m.idServer, m.flow])).toEqual(sent.map((m) => [m.idServer, 'out']));

        // A resend with the same idClient is answered with the original: nothing new is numbered or delivered.
        const again = await g.phone.sendCustomMsg({ ...to, content: '{"dice":4}', idClient: 'same-1', resend: true });
        expect([again.idServer, again.seq]).toEqual([custom.idServer, custom.seq]);
        const history = (await g.bc.getHistoryMsgs({ ...to, msgTypes: ['geo', 'tip', 'custom', 'image', 'audio'] })).msgs;
        expect(history.map((m) => m.idServer)).toEqual([...sent].reverse().map((m) => m.idServer));
        expect(history.find((m) => m.type === 'geo')?.geo).toEqual(geo.geo);
        expect((await g.bc.getHistoryMsgs({ ...to, msgTypes: ['image', 'audio'] })).msgs.map((m) => m.type)).toEqual(['audio', 'image']);
      });

      it('forwards into the group and out of it as new messages from the forwarder', async () => {
        const g = await setup(scene);
        const atAnn = heard<Message>(g.ac, 'msg');
        const atOutsider = heard<Message>(g.xc, 'msg');
        const p2p = await g.xc.sendGeo({ scene: 'p2p', to: g.b, geo: { lng: 1, lat: 2, title: 'here' } });
        const inward = await g.bc.forwardMsg({ scene, to: g.teamId, msg: p2p });
        expect(inward).toMatchObject({ type: 'geo', geo: { title: 'here' }, from: g.b, scene, to: g.teamId, sessionId: g.sessionId });
        expect(inward.idServer).not.toBe(p2p.idServer);
        await waitFor('ann to get the forwarded copy', () => atAnn.some((m) => m.idServer === inward.idServer && m.from === g.b));
        const outward = await g.ac.forwardMsg({ scene: 'p2p', to: g.x, msg: inward });
        expect(outward).toMatchObject({ type: 'geo', scene: 'p2p', from: g.a, to: g.x });
        await waitFor('the outsider to get it', () => atOutsider.some((m) => m.idServer === outward.idServer));
        // An outsider cannot forward into the group.
        await refusal(g.xc.forwardMsg({ scene, to: g.teamId, msg: p2p }), 'NOT_MEMBER', /is not a member/);
      });

      it("lookups by idServer and batched delete-for-self are the caller's own; outsiders are NOT_MEMBER", async () => {
        const g = await setup(scene);
        const m1 = await g.ac.sendText({ scene, to: g.teamId, text: 'one' });
        const m2 = await g.bc.sendTipMsg({ scene, to: g.teamId, tip: 'two' });
        const m3 = await g.phone.sendText({ scene, to: g.teamId, text: 'three' });
        const found = await g.bc.getMsgsByIdServer({ reqMsgs: [refOf(m3), refOf(m1), refOf(m3)] });
        expect(found.msgs.map((m) => [m.idServer, m.flow, m.sessionId])).toEqual([[m3.idServer, 'in', g.sessionId], [m1.idServer, 'in', g.sessionId]]);
        await refusal(g.xc.getMsgsByIdServer({ reqMsgs: [refOf(m1)] }), 'NOT_MEMBER', /is not a member/);

        const atDesk = heard<DeletedMsgSelf[]>(g.desk, 'DeleteMsgSelf');
        const batch = await g.phone.deleteMsgSelfBatch({ msgs: [refOf(m1), refOf(m2)], custom: 'tidy' });
        expect(batch.map((d) => [d.idServer, d.sessionId, d.custom])).toEqual([[m1.idServer, g.sessionId, 'tidy'], [m2.idServer, g.sessionId, 'tidy']]);
        await waitFor('the desk to hear the batch', () => atDesk.flat().length === 2);
        const texts = async (c: ParleyClient) => (await c.getHistoryMsgs({ scene, to: g.teamId, msgTypes: ['text', 'tip'] })).msgs.map((m) => m.idServer);
        expect(await texts(g.desk)).toEqual([m3.idServer]);
        expect((await g.desk.getMsgsByIdServer({ reqMsgs: [refOf(m1), refOf(m3)] })).msgs.map((m) => m.idServer)).toEqual([m3.idServer]);
        // The others still see them.
        expect(await texts(g.ac)).toEqual([m3, m2, m1].map((m) => m.idServer));
        await refusal(g.xc.deleteMsgSelfBatch({ msgs: [refOf(m3)] }), 'NOT_MEMBER', /is not a member/);
        await refusal(g.phone.deleteMsgSelfBatch({ msgs: [refOf(m3), { ...refOf(m3), idServer: 'nope' }] }), 'NOT_FOUND', /message 1/);
      });

      it('member-only reads refuse outsiders with NOT_MEMBER', async () => {
        const g = await setup(scene);
        const reads: [string, () => Promise<unknown>][] =
          scene === 'team'
            ? [
                ['getTeamMembers', () => g.xc.getTeamMembers({ teamId: g.teamId })],
                ['getMutedTeamMembers', () => g.xc.getMutedTeamMembers({ teamId: g.teamId })],
                ['getTeamMemberByTeamIdAndAccount', () => g.xc.getTeamMemberByTeamIdAndAccount({ teamId: g.teamId, account: g.a })],
                ['getTeamMemberInvitorAccid', () => g.xc.getTeamMemberInvitorAccid({ teamId: g.teamId, accounts: [g.a] })],
              ]
            : [
                ['getSuperTeamMembersByJoinTime', () => g.xc.getSuperTeamMembersByJoinTime({ teamId: g.teamId })],
                ['getMutedSuperTeamMembers', () => g.xc.getMutedSuperTeamMembers({ teamId: g.teamId })],
                ['getAllSuperTeamMembers', () => g.xc.getAllSuperTeamMembers({ teamId: g.teamId })],
                ['getSuperTeamMembersByAccounts', () => g.xc.getSuperTeamMembersByAccounts({ teamId: g.teamId, accounts: [g.a] })],
              ];
        reads.push(
          ['getHistoryMsgs', () => g.xc.getHistoryMsgs({ scene, to: g.teamId })],
          ['getMsgPins', () => g.xc.getMsgPins(g.sessionId)],
          ['sendText', () => g.xc.sendText({ scene, to: g.teamId, text: 'x' })],
        );
        for (const [m, attempt] of reads) {
          const err = await attempt().then(
            () => undefined,
            (e: Error) => e,
          );
          expect(err, m).toMatchObject({ name: 'NOT_MEMBER' });
          expect(err!.message, m).toMatch(/is not a member/);
        }
      });
    });
  }

  it('a member removed from an advanced group stops receiving at once, on every device and edge', async () => {
    const [o, a, r] = [account('owner'), account('ann'), account('rob')];
    const oc = await conns.client(o);
    const ac = await conns.client(a);
    const robPhone = await conns.client(r, { deviceId: 'phone' });
    const robDesk = await conns.client(r, { deviceId: 'desk', url: other().url });
    await Promise.all([oc, ac, robPhone, robDesk].map((c) => c.synced));
    const { team } = await oc.createTeam({ name: 'g', beInviteMode: 'noVerify', accounts: [a, r] });
    const texts = (c: ParleyClient) => {
      const seen: string[] = [];
      c.on('msg', (m: Message) => {
        if (m.to === team.teamId && m.type === 'text') seen.push(m.text!);
      });
      return seen;
    };
    const [atPhone, atDesk, atAnn] = [texts(robPhone), texts(robDesk), texts(ac)];
    const removed = [heard<{ accounts: string[] }>(robPhone, 'RemoveTeamMembers'), heard<{ accounts: string[] }>(robDesk, 'RemoveTeamMembers')];
    await oc.sendText({ scene: 'team', to: team.teamId, text: 'before' });
    await waitFor("both of rob's devices to get the message before", () => atPhone.includes('before') && atDesk.includes('before'));
    await oc.removeTeamMembers({ teamId: team.teamId, accounts: [r] });
    for (const list of removed) await waitFor('rob to hear of his removal on each device', () => list.some((d) => d.accounts.includes(r)));
    await oc.sendText({ scene: 'team', to: team.teamId, text: 'after' });
    // Ann hears the message after; it would have reached rob's devices no later on the same subjects.
    await waitFor('ann to get the message after', () => atAnn.includes('after'));
    // A p2p message after it reaches both devices live: the group's would have come first on the same subjects.
    const markers = [heard<Message>(robPhone, 'msg'), heard<Message>(robDesk, 'msg')];
    const marker = await oc.sendText({ scene: 'p2p', to: r, text: 'marker' });
    for (const list of markers) await waitFor('the marker on each of rob\'s devices', () => list.some((m) => m.idServer === marker.idServer));
    expect([atPhone, atDesk]).toEqual([['before'], ['before']]);
    await refusal(robDesk.getHistoryMsgs({ scene: 'team', to: team.teamId }), 'NOT_MEMBER', /is not a member/);
  });
});
