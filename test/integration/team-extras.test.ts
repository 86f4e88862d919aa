/**
 * What a group's conversation does beside sending, over the wire with the
 * SDK, in both modes and both group scenes (`team`, `superTeam`): pins,
 * quick comments and threads as every member and the caller's other device
 * see them, clearing one's own history (also from a new device's login
 * sync), delete-for-self, and recall by the sender, the owner and managers,
 * with the refusals (NOT_MEMBER for an outsider, NOT_FOUND for a message
 * that is not the group's, FORBIDDEN for a normal member recalling another's
 * message).
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { ClearedHistory, DeletedMsgSelf, Message, MsgRef, PinMsgChange, QuickCommentChange } from '../../engine/protocol/methods.ts';
import type { TeamKind } from '../../engine/protocol/methods/teams.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import { heard, refusal } from '../helpers/groups.ts';

const refOf = (m: Message): MsgRef => ({ scene: m.scene, from: m.from, to: m.to, time: m.time, idServer: m.idServer });

describeBothModes('group conversation features', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
  const conns = useConnections(() => engine.url);

  /**
   * A group of `scene` owned by `o` (on a phone and a desk) with members
   * `a` and `b`, and an outsider `x`, all logged in.
   */
  async function setup(scene: TeamKind) {
    const [o, a, b, x] = [account('owner'), account('ann'), account('ben'), account('out')];
    const phone = await conns.client(o, { deviceId: 'phone' });
    const desk = await conns.client(o, { deviceId: 'desk' });
    const [ac, bc, xc] = await Promise.all([conns.client(a), conns.client(b), conns.client(x)]);
    const create = scene === 'team' ? phone.createTeam.bind(phone) : phone.createSuperTeam.bind(phone);
    const { team } = await create({ name: 'g', beInviteMode: 'noVerify', accounts: [a, b] });
    const teamId = team.teamId;
    const send = (c: ParleyClient, text: string, extra: Record<string, unknown> = {}) => c.sendText({ scene, to: teamId, text, ...extra });
    return { o, a, b, x, phone, desk, ac, bc, xc, teamId, sessionId: `${scene}-${teamId}`, send };
  }

  for (const scene of ['team', 'superTeam'] as const) {
    describe(scene, () => {
      it('pins: every member and the pinner\'s other device hear each change; a recall unpins; outsiders are NOT_MEMBER', async () => {
        const g = await setup(scene);
        const m1 = await g.send(g.ac, 'one');
        const m2 = await g.send(g.bc, 'two');
        const atDesk = heard<PinMsgChange>(g.desk, 'PinMsgChange');
        const atAnn = heard<PinMsgChange>(g.ac, 'PinMsgChange');
        const atBen = heard<PinMsgChange>(g.bc, 'PinMsgChange');
        const atPhone = heard<PinMsgChange>(g.phone, 'PinMsgChange');

        const { pin } = await g.phone.addMsgPin({ msg: refOf(m1), pinCustom: 'c1' });
        expect(pin).toMatchObject({ pinFrom: g.o, pinCustom: 'c1', msg: { idServer: m1.idServer, sessionId: g.sessionId, scene } });
        for (const [who, list] of [['desk', atDesk], ['ann', atAnn], ['ben', atBen]] as const) {
          await waitFor(`${who} to hear the pin`, () => list.some((c) => c.type === 'add'));
          expect(list[0]).toMatchObject({ type: 'add', sessionId: g.sessionId, pin: { pinCustom: 'c1', msg: { idServer: m1.idServer } } });
        }
        // The same pin again is no change; another pinCustom is a CONFLICT.
        expect((await g.phone.addMsgPin({ msg: refOf(m1), pinCustom: 'c1' })).pin.createTime).toBe(pin.createTime);
        await refusal(g.ac.addMsgPin({ msg: refOf(m1), pinCustom: 'other' }), 'CONFLICT', /pinned already/);

        await g.bc.updateMsgPin({ msg: refOf(m1), pinCustom: 'c2' });
        await waitFor('ann to hear the update', () => atAnn.some((c) => c.type === 'update' && c.pin.pinCustom === 'c2'));
        await g.ac.addMsgPin({ msg: refOf(m2) });
        expect((await g.bc.getMsgPins(g.sessionId)).pins.map((p) => [p.msg.idServer, p.pinCustom ?? null])).toEqual([[m1.idServer, 'c2'], [m2.idServer, null]]);

        await refusal(g.xc.addMsgPin({ msg: refOf(m1) }), 'NOT_MEMBER', /is not a member/);
        await refusal(g.xc.getMsgPins(g.sessionId), 'NOT_MEMBER', /is not a member/);
        await refusal(g.ac.addMsgPin({ msg: { ...refOf(m1), idServer: 'nope' } }), 'NOT_FOUND', /no message nope/);

        // A recall takes the pin with it, and the members are told.
        await g.ac.recallMsg({ msg: m1 });
        await waitFor('ben to hear the unpin', () => atBen.some((c) => c.type === 'delete' && c.pin.msg.idServer === m1.idServer));
        expect((await g.desk.getMsgPins(g.sessionId)).pins.map((p) => p.msg.idServer)).toEqual([m2.idServer]);
        expect(await g.ac.deleteMsgPin({ msg: refOf(m2) })).toMatchObject({ pin: { msg: { idServer: m2.idServer } } });
        expect(await g.ac.deleteMsgPin({ msg: refOf(m2) })).toEqual({});
        expect((await g.phone.getMsgPins(g.sessionId)).pins).toEqual([]);
        // The socket that pinned is not echoed its own change.
        expect(atPhone.some((c) => c.type === 'add' && c.pin.pinFrom === g.o)).toBe(false);
      });

      it('quick comments: members react once per body, everyone hears adds and removals; outsiders are NOT_MEMBER', async () => {
        const g = await setup(scene);
        const m = await g.send(g.phone, 'react to me');
        const atAnn = heard<QuickCommentChange>(g.ac, 'QuickComment');
        const atDesk = heard<QuickCommentChange>(g.desk, 'QuickComment');
        const removed = heard<QuickCommentChange>(g.desk, 'DeleteQuickComment');
        const added = await g.bc.addQuickComment({ msg: refOf(m), body: 1, custom: 'yay' });
        expect(added).toMatchObject({ msg: { scene, idServer: m.idServer, sessionId: g.sessionId }, comment: { from: g.b, body: 1, custom: 'yay' } });
        await waitFor('ann and the desk to hear it', () => atAnn.length === 1 && atDesk.length === 1);
        expect(atAnn[0]).toMatchObject({ msg: { sessionId: g.sessionId, idServer: m.idServer }, comment: { from: g.b, body: 1 } });
        expect((await g.bc.addQuickComment({ msg: refOf(m), body: 1 })).comment.time).toBe(added.comment.time);
        await g.ac.addQuickComment({ msg: refOf(m), body: 2 });
        const [got] = await g.phone.getQuickComments({ msgs: [refOf(m)] });
        expect(got!.comments.map((c) => [c.from, c.body])).toEqual([[g.b, 1], [g.a, 2]]);

        await refusal(g.xc.addQuickComment({ msg: refOf(m), body: 3 }), 'NOT_MEMBER', /is not a member/);
        await refusal(g.xc.getQuickComments({ msgs: [refOf(m)] }), 'NOT_MEMBER', /is not a member/);

        await g.bc.deleteQuickComment({ msg: refOf(m), body: 1 });
        await waitFor('the desk to hear the removal', () => removed.some((d) => d.comment.from === g.b && d.comment.body === 1));
        const [after] = await g.ac.getQuickComments({ msgs: [refOf(m)] });
        expect(after!.comments.map((c) => [c.from, c.body])).toEqual([[g.a, 2]]);
      });

      it('threads: a reply to a reply keeps the root, whoever sent it; getThreadMsgs pages the thread; outsiders are NOT_MEMBER', async () => {
        const g = await setup(scene);
        const root = await g.send(g.phone, 'root');
        const r1 = await g.send(g.ac, 'reply 1', { replyMsg: refOf(root) });
        const r2 = await g.send(g.bc, 'reply 2', { replyMsg: refOf(r1) });
        await g.send(g.bc, 'not in the thread');
        expect(r1.threadMessageInfo).toMatchObject({ replyMsgIdServer: root.idServer, threadMsgIdServer: root.idServer, threadMsgFromAccount: g.o, threadMsgToAccount: g.teamId });
        expect(r2.threadMessageInfo).toMatchObject({ replyMsgIdServer: r1.idServer, replyMsgFromAccount: g.a, threadMsgIdServer: root.idServer, threadMsgFromAccount: g.o });
        const q = { scene, threadMsgFromAccount: root.from, threadMsgToAccount: root.to, threadMsgIdServer: root.idServer, threadMsgTime: root.time };
        const page = await g.desk.getThreadMsgs(q);
        expect(page.threadMsg).toMatchObject({ idServer: root.idServer, sessionId: g.sessionId });
        expect(page.total).toBe(2);
        expect(page.msgs.map((m) => m.text)).toEqual(['reply 2', 'reply 1']);
        expect((await g.ac.getThreadMsgs({ ...q, limit: 1, reverse: true })).msgs.map((m) => m.text)).toEqual(['reply 1']);

        await refusal(g.xc.getThreadMsgs(q), 'NOT_MEMBER', /is not a member/);
        await refusal(g.ac.sendText({ scene, to: g.teamId, text: 'x', replyMsg: { ...refOf(root), idServer: 'nope' } }), 'NOT_FOUND', /`replyMsg`/);
        // A recalled reply leaves its thread.
        await g.bc.recallMsg({ msg: r2 });
        const left = await g.bc.getThreadMsgs(q);
        expect([left.total, left.msgs.map((m) => m.text)]).toEqual([1, ['reply 1']]);
      });

      it('clearing and delete-for-self are the caller\'s only, told to their other devices and kept for their next login', async () => {
        const g = await setup(scene);
        const m1 = await g.send(g.ac, 'one');
        const m2 = await g.send(g.bc, 'two');
        const clears = heard<ClearedHistory[]>(g.desk, 'ClearServerHistoryMsgs');
        const cleared = await g.phone.clearServerHistoryMsgs({ scene, to: g.teamId, isSyncSelf: true });
        expect(cleared).toMatchObject({ scene, to: g.teamId, sessionId: g.sessionId, isDeleteRoam: true });
        await waitFor('the desk to hear the clear', () => clears.length === 1);
        expect(clears[0]![0]).toMatchObject({ sessionId: g.sessionId });
        expect((await g.desk.getHistoryMsgs({ scene, to: g.teamId, msgTypes: ['text'] })).msgs).toEqual([]);
        expect((await g.ac.getHistoryMsgs({ scene, to: g.teamId, msgTypes: ['text'] })).msgs.map((m) => m.text)).toEqual(['two', 'one']);
        await refusal(g.xc.clearServerHistoryMsgs({ scene, to: g.teamId }), 'NOT_MEMBER', /is not a member/);
        // A pin needs the message in sight: cleared ones are NOT_FOUND for the one who cleared.
        await refusal(g.phone.addMsgPin({ msg: refOf(m1) }), 'NOT_FOUND', /no message/);
        const m3 = await g.send(g.ac, 'three');
        expect((await g.desk.getHistoryMsgs({ scene, to: g.teamId, msgTypes: ['text'] })).msgs.map((m) => m.text)).toEqual(['three']);
        // A new device of the owner's, without cursors, is not sent what was cleared.
        const offline: Message[] = [];
        const tablet = await conns.client(g.o, { deviceId: 'tablet', on: { offlinemsgs: ((d: { msgs: Message[] }) => offline.push(...d.msgs)) as never } });
        await tablet.synced;
        const texts = offline.filter((m) => m.sessionId === g.sessionId && m.type === 'text').map((m) => m.text);
        expect(texts).toEqual(['three']);

        const deletes = heard<DeletedMsgSelf[]>(g.desk, 'DeleteMsgSelf');
        await g.phone.deleteMsgSelf({ msg: refOf(m3) });
        await waitFor('the desk to hear the delete', () => deletes.some((d) => d.some((x) => x.idServer === m3.idServer)));
        expect(deletes.flat().find((d) => d.idServer === m3.idServer)).toMatchObject({ scene, sessionId: g.sessionId });
        expect((await tablet.getHistoryMsgs({ scene, to: g.teamId, msgTypes: ['text'] })).msgs).toEqual([]);
        expect((await g.bc.getHistoryMsgs({ scene, to: g.teamId, msgTypes: ['text'] })).msgs.map((m) => m.text)).toEqual(['three', 'two', 'one']);
        await refusal(g.xc.deleteMsgSelf({ msg: refOf(m2) }), 'NOT_MEMBER', /is not a member/);
      });

      it('recall: the sender, the owner and managers may; a normal member not another\'s message; outsiders are NOT_MEMBER', async () => {
        const g = await setup(scene);
        const addManagers = scene === 'team' ? g.phone.addTeamManagers.bind(g.phone) : g.phone.addSuperTeamManagers.bind(g.phone);
        await addManagers({ teamId: g.teamId, accounts: [g.a] });
        const byBen = await g.send(g.bc, 'ben 1');
        const byBen2 = await g.send(g.bc, 'ben 2');
        const byOwner = await g.send(g.phone, 'owner');
        const recalls = heard<{ type: string; msg: { idServer: string } }>(g.bc, 'sysmsg');
        await refusal(g.bc.recallMsg({ msg: byOwner }), 'FORBIDDEN', /only the sender, the owner and managers/);
        await refusal(g.xc.recallMsg({ msg: byBen }), 'NOT_MEMBER', /is not a member/);
        await g.ac.recallMsg({ msg: byBen });
        await g.desk.recallMsg({ msg: byBen2 });
        await g.phone.recallMsg({ msg: byOwner });
        await waitFor('ben to hear all three recalls', () => recalls.filter((r) => r.type === 'deleteMsg').length === 3);
        expect((await g.bc.getHistoryMsgs({ scene, to: g.teamId, msgTypes: ['text'] })).msgs).toEqual([]);
      });
    });
  }
});
