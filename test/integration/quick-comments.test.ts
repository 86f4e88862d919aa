/**
 * Quick comments over the wire with the SDK, in both modes: adding and
 * removing reactions as both participants and the commenter's other device
 * see them (`QuickComment`, `DeleteQuickComment`, `getQuickComments` for a
 * batch), and the refusals (a message of a conversation the caller is not
 * in, a missing message, a body that is not an integer, over-limit fields).
 */
import { afterEach, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import { conversationSettings } from '../../actors/conversation/behavior.ts';
import { MAX_COMMENTS_PER_MSG } from '../../actors/conversation/quick-comments.ts';
import type { Message, MsgRef, QuickCommentChange } from '../../engine/protocol/methods.ts';
import { waitFor, rejectionOf } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { accountAndPeer, useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';

const refOf = (m: Message): MsgRef => ({ scene: m.scene, from: m.from, to: m.to, time: m.time, idServer: m.idServer });

function heard(c: ParleyClient): { added: QuickCommentChange[]; removed: QuickCommentChange[] } {
  const added: QuickCommentChange[] = [];
  const removed: QuickCommentChange[] = [];
  c.on('QuickComment', (d) => added.push(d));
  c.on('DeleteQuickComment', (d) => removed.push(d));
  return { added, removed };
}

describeBothModes('quick comments', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);
  afterEach(() => {
    conversationSettings.maxCommentsPerMsg = MAX_COMMENTS_PER_MSG;
  });

  const pair = () => accountAndPeer(conns);

  it('adds and removes reactions: the peer and the other device hear them, getQuickComments answers a batch', async () => {
    const { me, bob, phone, desk, peer } = await pair();
    const m1 = await peer.sendText({ scene: 'p2p', to: me, text: 'one' });
    const m2 = await phone.sendText({ scene: 'p2p', to: bob, text: 'two' });
    const atPeer = heard(peer);
    const atDesk = heard(desk);
    const atPhone = heard(phone);

    const added = await phone.addQuickComment({ msg: m1, body: 1, custom: '{"e":"+1"}', needPush: true, pushTitle: 'reaction', apnsText: 'liked', pushPayload: '{}' });
    expect(added).toMatchObject({ msg: { idServer: m1.idServer, idClient: m1.idClient, sessionId: `p2p-${bob}` }, comment: { from: me, body: 1, custom: '{"e":"+1"}' } });
    await peer.addQuickComment({ msg: refOf(m1), body: 2 });
    await peer.addQuickComment({ msg: refOf(m2), body: 1 });
    await waitFor('the adds reach the peer and the desk', () => atPeer.added.length === 1 && atDesk.added.length === 3);
    // The event carries when the change happened: the SDK's sessions cursor moves to it (the login sync replays changes after it).
    expect(atPeer.added[0]).toEqual({ msg: { ...refOf(m1), idClient: m1.idClient, sessionId: `p2p-${me}` }, comment: added.comment, time: added.comment.time });
    expect(atDesk.added.map((c) => [c.msg.idServer, c.comment.from, c.comment.body])).toEqual([[m1.idServer, me, 1], [m1.idServer, bob, 2], [m2.idServer, bob, 1]]);

    // The same body again is no change; another body of the same account is a second comment.
    expect((await phone.addQuickComment({ msg: refOf(m1), body: 1, custom: 'other' })).comment).toEqual(added.comment);
    const batch = await desk.getQuickComments({ msgs: [refOf(m2), refOf(m1), { ...refOf(m1), idServer: 'missing' }] });
    expect(batch.map((b) => [b.idServer, b.idClient, b.comments.map((c) => [c.from, c.body])])).toEqual([
      [m2.idServer, m2.idClient, [[bob, 1]]],
      [m1.idServer, m1.idClient, [[me, 1], [bob, 2]]],
    ]);
    expect(batch[1]!.updateTime).toBeGreaterThanOrEqual(added.comment.time);

    const removed = await desk.deleteQuickComment({ msg: refOf(m1), body: 1 });
    expect(removed.comment).toEqual(added.comment);
    await waitFor('the removal reaches the peer and the phone', () => atPeer.removed.length === 1 && atPhone.removed.length === 1);
    expect(atPeer.removed[0]!.comment).toEqual(added.comment);
    expect(await desk.deleteQuickComment({ msg: refOf(m1), body: 1 })).toEqual({ msg: removed.msg });
    expect((await peer.getQuickComments({ msgs: [refOf(m1)] }))[0]!.comments.map((c) => [c.from, c.body])).toEqual([[bob, 2]]);
    // Messages without comments are answered with none.
    const plain = await phone.sendText({ scene: 'p2p', to: bob, text: 'plain' });
    expect(await phone.getQuickComments({ msgs: [refOf(plain)] })).toEqual([{ idClient: plain.idClient, idServer: plain.idServer, updateTime: 0, comments: [] }]);
    // The commenter's own device never hears its own comments.
    expect(atPhone.added.map((c) => c.comment.from)).toEqual([bob, bob]);
    expect(atDesk.removed).toEqual([]);
  });

  it("refuses a message of a conversation the caller is not in, and answers nothing about it", async () => {
    const { me, bob, phone, peer } = await pair();
    const outsider = await conns.client(account('mallory'), { deviceId: 'm' });
    const secret = await phone.sendText({ scene: 'p2p', to: bob, text: 'between us' });
    const atPeer = heard(peer);
    await phone.addQuickComment({ msg: refOf(secret), body: 3 });
    await waitFor('the peer hears the participant\'s comment', () => atPeer.added.length === 1);
    for (const attempt of [outsider.addQuickComment({ msg: refOf(secret), body: 1 }), outsider.deleteQuickComment({ msg: refOf(secret), body: 3 })]) {
      const err = await rejectionOf(attempt);
      expect(['FORBIDDEN', 'NOT_FOUND']).toContain(err.name);
    }
    expect(await outsider.getQuickComments({ msgs: [refOf(secret)] })).toEqual([]);
    expect((await peer.getQuickComments({ msgs: [refOf(secret)] }))[0]!.comments.map((c) => [c.from, c.body])).toEqual([[me, 3]]);
    // Only the participant's own comment was heard: the outsider's attempts told nobody anything.
    expect(atPeer.added.map((c) => c.comment.body)).toEqual([3]);
    expect(atPeer.removed).toEqual([]);
  });

  it('refuses a missing message, a body that is not an integer, over-limit fields and comments past the limit', async () => {
    const { bob, phone } = await pair();
    const m = await phone.sendText({ scene: 'p2p', to: bob, text: 'x' });
    const refusal = async (p: Promise<unknown>, name: string, pattern: RegExp) => {
      const err = await rejectionOf(p);
      expect(err, String(pattern)).toMatchObject({ name });
      expect(err.message).toMatch(pattern);
    };
    await refusal(phone.addQuickComment({ msg: { ...refOf(m), idServer: 'missing' }, body: 1 }), 'NOT_FOUND', /no message missing/);
    await refusal(phone.deleteQuickComment({ msg: { ...refOf(m), idServer: 'missing' }, body: 1 }), 'NOT_FOUND', /no message missing/);
    await refusal(phone.addQuickComment({ msg: refOf(m), body: 1.5 }), 'BAD_REQUEST', /`body` must be an integer/);
    await refusal(phone.addQuickComment({ msg: refOf(m), body: 'like' as never }), 'BAD_REQUEST', /`body` must be an integer/);
    await refusal(phone.addQuickComment({ msg: refOf(m), body: 1, custom: 'c'.repeat(4097) }), 'TOO_LARGE', /`custom` must be at most 4096 characters/);
    await refusal(phone.addQuickComment({ msg: refOf(m), body: 1, pushTitle: 't'.repeat(101) }), 'TOO_LARGE', /`pushTitle` must be at most 100 characters/);
    await refusal(phone.addQuickComment({ msg: refOf(m), body: 1, needPush: 'yes' as never }), 'BAD_REQUEST', /`needPush` must be true or false/);
    await refusal(phone.getQuickComments({ msgs: Array.from({ length: 101 }, () => refOf(m)) }), 'BAD_REQUEST', /`msgs` must have at most 100 items/);
    conversationSettings.maxCommentsPerMsg = 2;
    await phone.addQuickComment({ msg: refOf(m), body: 1 });
    await phone.addQuickComment({ msg: refOf(m), body: 2 });
    await refusal(phone.addQuickComment({ msg: refOf(m), body: 3 }), 'BAD_REQUEST', /at most 2 quick comments/);
    expect((await phone.getQuickComments({ msgs: [refOf(m)] }))[0]!.comments.map((c) => c.body)).toEqual([1, 2]);
  });
});
