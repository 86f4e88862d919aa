/** The SDK's handling of group events: each is emitted as it came. Browser-safe. */
import type { Events } from '../engine/protocol/methods.ts';
import type { teamEvents } from '../engine/protocol/team-events.ts';
import type { InboundContext } from './inbound-events.ts';

type TeamEventName = keyof typeof teamEvents;

function pass<E extends TeamEventName>(name: E) {
  return (d: Events[E], ctx: InboundContext) => ctx.emit(name, d);
}

export const TEAM_EVENT_HANDLERS: { [E in TeamEventName]: (d: Events[E], ctx: InboundContext) => void } = {
  teams: (d, ctx) => {
    ctx.sync.noteTeams(d);
    ctx.emit('teams', d);
  },
  SuperTeams: (d, ctx) => {
    ctx.sync.noteTeams(d);
    ctx.emit('SuperTeams', d);
  },
  teammembers: pass('teammembers'),
  CreateTeam: pass('CreateTeam'),
  AddTeamMembers: pass('AddTeamMembers'),
  RemoveTeamMembers: pass('RemoveTeamMembers'),
  UpdateTeam: pass('UpdateTeam'),
  UpdateTeamManagers: pass('UpdateTeamManagers'),
  DismissTeam: pass('DismissTeam'),
  TransferTeam: pass('TransferTeam'),
  updateteammember: pass('updateteammember'),
  UpdateTeamMembersMute: pass('UpdateTeamMembersMute'),
  CreateSuperTeam: pass('CreateSuperTeam'),
  AddSuperTeamMembers: pass('AddSuperTeamMembers'),
  RemoveSuperTeamMembers: pass('RemoveSuperTeamMembers'),
  UpdateSuperTeam: pass('UpdateSuperTeam'),
  UpdateSuperTeamManagers: pass('UpdateSuperTeamManagers'),
  DismissSuperTeam: pass('DismissSuperTeam'),
  TransferSuperTeam: pass('TransferSuperTeam'),
  UpdateSuperTeamMember: pass('UpdateSuperTeamMember'),
  UpdateSuperTeamMembersMute: pass('UpdateSuperTeamMembersMute'),
  TeamMsgReceipt: pass('TeamMsgReceipt'),
};
