/**
 * The conversation limits an operator configures, over the wire in both
 * modes: the recall window (`PARLEY_RECALL_WINDOW_MS`), the pins per
 * conversation and the quick comments per message, each named in the
 * refusal past it; and a bad value refused at start, naming its variable.
 */
import { expect, it } from 'vitest';
import { parseConfig } from '../../engine/config.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { accountAndPeer, useConnections } from '../helpers/connections.ts';
import { rejectionOf, waitFor } from '../helpers/wait.ts';

describeBothModes('configured conversation limits', (mode) => {
  const engine = mode.useEngine({
    env: {
      PARLEY_RECALL_WINDOW_MS: '300',
      PARLEY_MAX_PINS_PER_CONVERSATION: '1',
      PARLEY_MAX_QUICK_COMMENTS_PER_MSG: '1',
      PARLEY_MAX_TEXT_CHARS: '10',
      PARLEY_MAX_CONTENT_CHARS: '12',
      PARLEY_MAX_CUSTOM_CHARS: '8',
      PARLEY_SUPERTEAM_CLIENT_CREATE: 'true',
    },
  });
  const conns = useConnections(() => engine.url);

  it('refuses a recall past the configured window, naming it; a recall inside it goes through', async () => {
    const { bob, phone } = await accountAndPeer(conns);
    expect(engine.config.recallWindowMs).toBe(300);
    const fresh = await phone.sendText({ scene: 'p2p', to: bob, text: 'recall me' });
    await phone.recallMsg({ msg: fresh });
    const old = await phone.sendText({ scene: 'p2p', to: bob, text: 'too late' });
    await waitFor('the window passed', () => Date.now() > old.time + 400, 2000);
    const err = await rejectionOf(phone.recallMsg({ msg: old }));
    expect(err).toMatchObject({ name: 'EXPIRED' });
    expect(err.message).toMatch(/recall window of 300 ms/);
  });

  it('refuses a pin and a quick comment past the configured bounds, naming them', async () => {
    const { me, bob, phone, peer } = await accountAndPeer(conns);
    const m1 = await phone.sendText({ scene: 'p2p', to: bob, text: 'one' });
    const m2 = await phone.sendText({ scene: 'p2p', to: bob, text: 'two' });
    await phone.addMsgPin({ msg: m1 });
    const pinErr = await rejectionOf(peer.addMsgPin({ msg: m2 }));
    expect(pinErr).toMatchObject({ name: 'BAD_REQUEST' });
    expect(pinErr.message).toMatch(/at most 1 messages of a conversation may be pinned/);
    await phone.addQuickComment({ msg: m1, body: 1 });
    const commentErr = await rejectionOf(peer.addQuickComment({ msg: m1, body: 2 }));
    expect(commentErr).toMatchObject({ name: 'BAD_REQUEST' });
    expect(commentErr.message).toMatch(/at most 1 quick comments/);
    expect((await peer.getMsgPins(`p2p-${me}`)).pins).toHaveLength(1);
  });

  it('refuses text, content and custom past the configured sizes in every scene, naming the field and the setting', async () => {
    const { bob, phone } = await accountAndPeer(conns);
    expect(await phone.sendText({ scene: 'p2p', to: bob, text: '0123456789', custom: '12345678' })).toMatchObject({ text: '0123456789' });
    const refusals: [() => Promise<unknown>, RegExp][] = [
      [() => phone.sendText({ scene: 'p2p', to: bob, text: '0123456789x' }), /text is 11 characters; at most 10 are allowed \(PARLEY_MAX_TEXT_CHARS\)/],
      [() => phone.sendTipMsg({ scene: 'p2p', to: bob, tip: '0123456789x' }), /tip is 11 characters; at most 10 .*PARLEY_MAX_TEXT_CHARS/],
      [() => phone.sendCustomMsg({ scene: 'p2p', to: bob, content: '0123456789abc' }), /content is 13 characters; at most 12 .*PARLEY_MAX_CONTENT_CHARS/],
      [() => phone.sendText({ scene: 'p2p', to: bob, text: 'ok', custom: '123456789' }), /custom is 9 characters; at most 8 .*PARLEY_MAX_CUSTOM_CHARS/],
    ];
    for (const scene of ['team', 'superTeam'] as const) {
      const created = scene === 'team' ? await phone.createTeam({ name: 'g', beInviteMode: 'noVerify', accounts: [bob] }) : await phone.createSuperTeam({ name: 'g', beInviteMode: 'noVerify', accounts: [bob] });
      refusals.push([() => phone.sendText({ scene, to: created.team.teamId, text: '0123456789x' }), /PARLEY_MAX_TEXT_CHARS/]);
    }
    for (const [send, pattern] of refusals) {
      const err = await rejectionOf(send());
      expect(err).toMatchObject({ name: 'BAD_REQUEST' });
      expect(err.message).toMatch(pattern);
    }
  });
});

it('refuses a negative recall window and a zero pin bound, naming the variable', () => {
  expect(() => parseConfig({ PARLEY_RECALL_WINDOW_MS: '-1' })).toThrow(/PARLEY_RECALL_WINDOW_MS must be at least 0/);
  expect(() => parseConfig({ PARLEY_MAX_PINS_PER_CONVERSATION: '0' })).toThrow(/PARLEY_MAX_PINS_PER_CONVERSATION must be at least 1/);
  expect(parseConfig({}).recallWindowMs).toBe(2 * 60 * 1000);
  expect(() => parseConfig({ PARLEY_MAX_TEXT_CHARS: '5001' })).toThrow(/PARLEY_MAX_TEXT_CHARS must be at most 5000/);
  expect(parseConfig({}).maxTextChars).toBe(5000);
});
