/** What each Log entry's actor events become as webhook events (engine/webhooks/events.ts). */
import { describe, expect, it } from 'vitest';
import { webhookEventsOf } from '../../engine/webhooks/events.ts';
import { logSubject, p2pAddress, partitionOf, presenceAddress, userAddress } from '../../engine/subjects.ts';

const P = 64;
const subjectOf = (address: string) => logSubject(address, partitionOf(address, P));
const msg = (over: Record<string, unknown> = {}) => ({ scene: 'p2p', from: 'a', to: 'b', type: 'text', text: 'hi', idServer: '7', idClient: 'c', seq: 3, time: 1000, ...over });

describe('webhook events of a Log entry', () => {
  it('makes msg.sent, msg.recalled and msg.deletedSelf of a p2p conversation, with stable ids and the conversation as lane', () => {
    const subject = subjectOf(p2pAddress('a', 'b'));
    const out = webhookEventsOf(subject, 42, [{ t: 'msg', msg: msg(), conn: 'x' }, { t: 'pin', seq: 3 }, { t: 'recall', msg: msg({ env: 'prod' }) }, { t: 'hide', viewer: 'b', msgs: [], deleted: [{ idServer: '7' }] }], 5000);
    expect(out.map((e) => [e.event.type, e.event.id, e.lane, e.env])).toEqual([
      ['msg.sent', `${subject.slice('parley.log.'.length)}:42:0`, subject, undefined],
      ['msg.recalled', `${subject.slice('parley.log.'.length)}:42:2`, subject, 'prod'],
      ['msg.deletedSelf', `${subject.slice('parley.log.'.length)}:42:3`, subject, undefined],
    ]);
    expect(out[0]!.event).toMatchObject({ time: 1000, data: msg() });
    expect(out[1]!.event.time).toBe(5000);
    expect(out[2]!.event.data).toEqual({ account: 'b', msgs: [{ idServer: '7' }] });
    // The same entry read again gives the same events.
    expect(webhookEventsOf(subject, 42, [{ t: 'msg', msg: msg(), conn: 'x' }], 9)[0]!.event.id).toBe(out[0]!.event.id);
  });

  it('makes team and superTeam changes and messages', () => {
    for (const kind of ['team', 'superTeam'] as const) {
      const subject = subjectOf(`${kind}:t1`);
      const out = webhookEventsOf(
        subject,
        5,
        [
          { t: 'team', team: { teamId: 't1', valid: true }, version: 1 },
          { t: 'members', put: [{ account: 'a' }], removed: ['c'] },
          { t: 'pending', rows: [{ what: 'invite', account: 'd' }] },
          { t: 'msg', msg: msg({ scene: kind, to: 't1' }) },
          { t: 'notice', frames: [], sysmsgs: [], index: [], version: 1 },
          { t: 'team', team: { teamId: 't1', valid: true }, version: 2 },
          { t: 'team', team: { teamId: 't1', valid: false }, version: 3 },
        ],
        77,
      );
      expect(out.map((e) => e.event.type)).toEqual([`${kind}.created`, `${kind}.members`, `${kind}.pending`, 'msg.sent', `${kind}.updated`, `${kind}.dismissed`]);
      expect(out[1]!.event.data).toEqual({ teamId: 't1', put: [{ account: 'a' }], removed: ['c'] });
      expect(out[0]!.event.data).toEqual({ teamId: 't1', team: { teamId: 't1', valid: true } });
    }
  });

  it('makes friend changes from the acting side only, and blocklist and mutelist changes', () => {
    const subject = subjectOf(userAddress('a'));
    const out = webhookEventsOf(
      subject,
      9,
      [
        { t: 'friendship', peer: 'b', action: { type: 'addFriend', account: 'b', time: 10 } },
        { t: 'friendship', peer: 'c', sysmsg: { type: 'deleteFriend' } },
        { t: 'mark', list: 'blacklist', account: 'b', isAdd: true, time: 11 },
        { t: 'mark', list: 'mutelist', account: 'b', isAdd: false, time: 12 },
        { t: 'blockedBy', by: 'z', blocked: true, time: 13 },
        { t: 'touch', id: 'p2p-b' },
      ],
      1,
    );
    expect(out.map((e) => e.event.type)).toEqual(['friend.addFriend', 'relation.blacklistAdded', 'relation.mutelistRemoved']);
    expect(out[0]!.event).toMatchObject({ time: 10, data: { type: 'addFriend', account: 'a', target: 'b' } });
    expect(out[1]!.event.data).toEqual({ account: 'a', target: 'b', list: 'blacklist', isAdd: true, time: 11 });
  });

  it('makes login and logout of the presence actor’s devices', () => {
    const subject = subjectOf(presenceAddress('a'));
    const out = webhookEventsOf(subject, 3, [{ t: 'online', device: { deviceId: 'd1', deviceType: 'ios', edge: 'e', conn: 'c', at: 50 } }, { t: 'offline', deviceId: 'd1', conn: 'c' }], 60);
    expect(out.map((e) => e.event)).toEqual([
      { id: expect.stringMatching(/:3:0$/), type: 'login', time: 50, data: { account: 'a', deviceId: 'd1', deviceType: 'ios' } },
      { id: expect.stringMatching(/:3:1$/), type: 'logout', time: 60, data: { account: 'a', deviceId: 'd1' } },
    ]);
    expect(out[0]!.lane).toBe(subject);
  });

  it('makes nothing of fence markers, other actors and unknown shapes', () => {
    expect(webhookEventsOf('parley.log.3.fence', 1, { node: 'n', at: 1 }, 1)).toEqual([]);
    expect(webhookEventsOf(subjectOf('channel:c1'), 1, [{ t: 'created', channelId: 'c1' }], 1)).toEqual([]);
    expect(webhookEventsOf(subjectOf(p2pAddress('a', 'b')), 1, [null, 7, { t: 'msg' }], 1)).toEqual([]);
  });
});
