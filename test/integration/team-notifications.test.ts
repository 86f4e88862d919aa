/**
 * Every membership, role, mute and profile change of a group posts a
 * `notification` message into its conversation, in `seq` order, and fires
 * its callback, over the wire with the SDK, in both modes and both group
 * scenes: create (also to the creator's other device), add, manager
 * changes, member mute, whole-group mute, profile edit, removal, leaving,
 * transfer and dismissal.
 */
import { describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../client/index.ts';
import type { Message } from '../../engine/protocol/methods.ts';
import type { TeamKind, TeamNotificationAttach } from '../../engine/protocol/methods/teams.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import { heard } from '../helpers/groups.ts';

/** The SDK method of a group change under the scene's names. */
function call(c: ParleyClient, scene: TeamKind, team: string, superTeam: string, a: Record<string, unknown>): Promise<unknown> {
  const m = (scene === 'team' ? team : superTeam) as keyof ParleyClient;
  return (c[m] as unknown as (a: Record<string, unknown>) => Promise<unknown>).call(c, a);
}

/** The callback name of `base` (a team callback) in the scene. */
function callback(scene: TeamKind, base: string): string {
  return scene === 'team' ? base : base.replace('Team', 'SuperTeam');
}

describeBothModes('group notifications', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
  const conns = useConnections(() => engine.url);

  for (const scene of ['team', 'superTeam'] as const) {
    it(`${scene}: each change posts a notification message in seq order and fires its callback`, async () => {
      const [o, a, b, c] = [account('owner'), account('ann'), account('ben'), account('cat')];
      const phone = await conns.client(o, { deviceId: 'phone' });
      const desk = await conns.client(o, { deviceId: 'desk' });
      const [ac, bc, cc] = await Promise.all([conns.client(a), conns.client(b), conns.client(c)]);
      const created = heard(desk, callback(scene, 'CreateTeam'));
      const annMsgs = heard<Message>(ac, 'msg');
      const callbacks = new Map<string, unknown[]>();
      for (const base of ['AddTeamMembers', 'RemoveTeamMembers', 'UpdateTeam', 'UpdateTeamManagers', 'TransferTeam', 'DismissTeam', 'UpdateTeamMembersMute']) {
        callbacks.set(base, heard(ac, callback(scene, base)));
      }

      const { team } = (await call(phone, scene, 'createTeam', 'createSuperTeam', { name: 'g', beInviteMode: 'noVerify', accounts: [a, b] })) as { team: { teamId: string } };
      const teamId = team.teamId;
      await waitFor("the creator's other device to hear of the group", () => created.length === 1);
      await call(phone, scene, 'addTeamMembers', 'addSuperTeamMembers', { teamId, accounts: [c] });
      await call(phone, scene, 'addTeamManagers', 'addSuperTeamManagers', { teamId, accounts: [b] });
      await call(phone, scene, 'removeTeamManagers', 'removeSuperTeamManagers', { teamId, accounts: [b] });
      if (scene === 'team') await phone.updateMuteStateInTeam({ teamId, account: b, mute: true });
      else await phone.updateSuperTeamMembersMute({ teamId, accounts: [b], mute: true });
      await call(phone, scene, 'muteTeamAll', 'updateSuperTeamMute', { teamId, mute: true });
      await call(phone, scene, 'updateTeam', 'updateSuperTeam', { teamId, name: 'renamed' });
      await call(phone, scene, 'removeTeamMembers', 'removeSuperTeamMembers', { teamId, accounts: [c] });
      await call(bc, scene, 'leaveTeam', 'leaveSuperTeam', { teamId });
      await call(phone, scene, 'transferTeam', 'transferSuperTeam', { teamId, account: a });
      await call(ac, scene, 'dismissTeam', 'dismissSuperTeam', { teamId });

      const expected: TeamNotificationAttach['type'][] = [
        'createTeam',
        'addTeamMembers',
        'addTeamManagers',
        'removeTeamManagers',
        'updateMemberMute',
        'updateTeamMute',
        'updateTeam',
        'removeTeamMembers',
        'leaveTeam',
        'transferTeam',
        'dismissTeam',
      ];
      const notes = () => annMsgs.filter((m) => m.type === 'notification' && m.to === teamId);
      await waitFor('every notification at ann', () => notes().length === expected.length).catch((e) => { console.log('GOT', JSON.stringify(notes().map((m) => [(m.attach as any).type, m.seq]))); throw e; });
      expect(notes().map((m) => (m.attach as TeamNotificationAttach).type)).toEqual(expected);
      const seqs = notes().map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(notes().every((m) => m.scene === scene && m.sessionId === `${scene}-${teamId}`)).toBe(true);
      for (const [base, seen] of callbacks) await waitFor(`ann to hear ${callback(scene, base)}`, () => seen.length > 0);
      void cc;
    });
  }
});
