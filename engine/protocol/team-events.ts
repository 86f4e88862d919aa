/**
 * The events of groups (`team` and `superTeam`), sent to the online members
 * when a group changes; the supergroup twin of each carries the same
 * payload. Gathered into the event table (events.ts). Browser-safe.
 */
import type { Team, TeamMember } from './methods/teams.ts';
import { event } from './registry.ts';
import type { TeamMsgReads } from './methods/team-receipts.ts';

type Added = { team: Team; accounts: string[]; members: TeamMember[] };
type Removed = { team: Team; accounts: string[] };
type Managers = { team: Team; accounts: string[]; isManager: boolean; members: TeamMember[] };
type Transferred = { team: Team; from: TeamMember; to: TeamMember };
type Created = { team: Team; owner: TeamMember };
type Muted = { team: Team; accounts: string[]; mute: boolean; members: TeamMember[] };

export const teamEvents = {
  teams: event<Team[]>("Login sync: the advanced groups the account is in; with `cursors.teams` (the SDK keeps it) only those changed since, groups left or dismissed since as `validToCurrentUser: false`."),
  SuperTeams: event<Team[]>('Login sync: the supergroups the account is in, under the same `cursors.teams` rule as `teams`.'),
  teammembers: event<{ teamId: string; members: TeamMember[] }>('Login sync, after `teams`: the members of each advanced group it sent as one the account is in, by join time (a large group in several events). Supergroup members are paged on demand instead (`getAllSuperTeamMembers`).'),
  CreateTeam: event<Created>("A group was created by the account (to the creator's devices)."),
  AddTeamMembers: event<Added>('Accounts joined a group (to its members, the joiners included).'),
  RemoveTeamMembers: event<Removed>('Accounts left or were removed from a group (to the members before, those removed included).'),
  UpdateTeam: event<Partial<Team> & { teamId: string; updateTime: number }>('A group\'s profile or policies changed: the changed fields.'),
  UpdateTeamManagers: event<Managers>('Members became managers (`isManager: true`) or normal members again.'),
  DismissTeam: event<{ teamId: string }>('The owner dissolved the group.'),
  TransferTeam: event<Transferred>('The group has a new owner.'),
  updateteammember: event<TeamMember>("A member's own settings or nickname changed (to the other members; a nickname set by a manager, to every member)."),
  UpdateTeamMembersMute: event<Muted>('Members were muted or unmuted.'),
  CreateSuperTeam: event<Created>('`CreateTeam` of a supergroup.'),
  AddSuperTeamMembers: event<Added>('`AddTeamMembers` of a supergroup.'),
  RemoveSuperTeamMembers: event<Removed>('`RemoveTeamMembers` of a supergroup.'),
  UpdateSuperTeam: event<Partial<Team> & { teamId: string; updateTime: number }>('`UpdateTeam` of a supergroup.'),
  UpdateSuperTeamManagers: event<Managers>('`UpdateTeamManagers` of a supergroup.'),
  DismissSuperTeam: event<{ teamId: string }>('`DismissTeam` of a supergroup.'),
  TransferSuperTeam: event<Transferred>('`TransferTeam` of a supergroup.'),
  UpdateSuperTeamMember: event<TeamMember>('`updateteammember` of a supergroup.'),
  UpdateSuperTeamMembersMute: event<Muted>('`UpdateTeamMembersMute` of a supergroup.'),
  TeamMsgReceipt: event<TeamMsgReads>('To the sender of a group message sent with `needMsgReceipt: true`: its read and unread counts now, once per message whose count a batch of `sendTeamMsgReceipt` changed; also to the reader\'s other devices, for each message its receipt counted.'),
};
