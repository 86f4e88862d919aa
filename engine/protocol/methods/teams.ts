/**
 * Advanced groups (`team`): creating one, its profile and policies, members
 * and their roles (owner, managers, normal members), invitations and join
 * requests, leaving, transferring and dismissing, answered by the group's
 * actor (`team:<teamId>`); the caller's own list of groups is answered by
 * the account's team index (`userTeams:<account>`). Browser-safe.
 */
import * as s from '../schema.ts';
import { MAX_EXT_CHARS } from '../objects.ts';
import { actorMethod, returns } from '../registry.ts';
import { id } from './common.ts';

/** Longest invitation or request note (`ps`), in characters (the reference limit). */
export const MAX_TEAM_PS_CHARS = 5000;
/** Longest group name, in characters. */
export const MAX_TEAM_NAME_CHARS = 64;
/** Longest avatar URL, in characters. */
export const MAX_TEAM_AVATAR_CHARS = 1024;
/** Longest intro, in characters. */
export const MAX_TEAM_INTRO_CHARS = 512;
/** Longest announcement, in characters. */
export const MAX_TEAM_ANNOUNCEMENT_CHARS = 1024;
/** Most accounts one call names (invitations, removals, managers). */
export const MAX_TEAM_ACCOUNTS_PER_CALL = 200;
/** Most groups one `getTeamsById` names. */
export const MAX_TEAMS_PER_CALL = 100;
/** Members a group may hold unless configured otherwise (`teamSettings.maxMembers`). */
export const DEFAULT_TEAM_MAX_MEMBERS = 200;

export const JOIN_MODES = ['noVerify', 'needVerify', 'rejectAll'] as const;
export const BE_INVITE_MODES = ['needVerify', 'noVerify'] as const;
export const TEAM_EDIT_MODES = ['manager', 'all'] as const;
export const TEAM_MEMBER_TYPES = ['owner', 'manager', 'normal'] as const;

export type JoinMode = (typeof JOIN_MODES)[number];
export type BeInviteMode = (typeof BE_INVITE_MODES)[number];
export type TeamEditMode = (typeof TEAM_EDIT_MODES)[number];
export type TeamMemberType = (typeof TEAM_MEMBER_TYPES)[number];
/** The actor kinds of groups: advanced groups and supergroups, separate id spaces. */
export type TeamKind = 'team' | 'superTeam';

/** A group as members see it. */
export interface Team {
  teamId: string;
  /** Always `advanced`: the basic group type is deprecated. */
  type: 'advanced';
  name: string;
  avatar?: string;
  intro?: string;
  announcement?: string;
  custom?: string;
  owner: string;
  memberNum: number;
  /** The member limit. */
  level: number;
  joinMode: JoinMode;
  beInviteMode: BeInviteMode;
  inviteMode: TeamEditMode;
  updateTeamMode: TeamEditMode;
  updateCustomMode: TeamEditMode;
  antispamBusinessId?: string;
  /** The whole group is muted (`muteTeamAll`): only the owner and managers may post. */
  mute: boolean;
  muteType: 'none' | 'all';
  createTime: number;
  updateTime: number;
  /** False once dismissed. */
  valid: boolean;
}

/** One member of a group. */
export interface TeamMember {
  teamId: string;
  account: string;
  type: TeamMemberType;
  nickInTeam?: string;
  custom?: string;
  /** Alert strategy: `0` alerts on, `1` off, `2` only for messages of the owner and managers. */
  muteNotiType: '0' | '1' | '2';
  mute: boolean;
  /** Who invited the member; empty when they joined on their own or created the group. */
  invitorAccid: string;
  joinTime: number;
  updateTime: number;
  valid: boolean;
}

/** The system notifications of group flows, delivered as `sysmsg`. */
export interface TeamSysMsg {
  type: 'teamInvite' | 'rejectTeamInvite' | 'applyTeam' | 'rejectTeamApply' | 'superTeamInvite' | 'rejectSuperTeamInvite' | 'applySuperTeam' | 'rejectSuperTeamApply';
  scene: TeamKind;
  from: string;
  /** The group's id. */
  to: string;
  idServer: string;
  time: number;
  ps?: string;
  attach?: { team?: Team; custom?: string };
}

/** The body (`attach`) of a group's notification message: which change, by whom, to whom. */
export interface TeamNotificationAttach {
  type:
    | 'createTeam'
    | 'updateTeam'
    | 'addTeamMembers'
    | 'removeTeamMembers'
    | 'leaveTeam'
    | 'acceptTeamInvite'
    | 'passTeamApply'
    | 'addTeamManagers'
    | 'removeTeamManagers'
    | 'transferTeam'
    | 'dismissTeam'
    | 'updateTeamMute';
  team: Team;
  accounts?: string[];
  account?: string;
  mute?: boolean;
}

const name = () => s.string({ min: 1, max: MAX_TEAM_NAME_CHARS });
const accounts = () => s.array(id(), { min: 1, max: MAX_TEAM_ACCOUNTS_PER_CALL });
const ps = () => s.string({ max: MAX_TEAM_PS_CHARS });

/** The profile and policy fields `createTeam` and `updateTeam` share. */
const profile = {
  avatar: s.optional(s.string({ max: MAX_TEAM_AVATAR_CHARS })),
  intro: s.optional(s.string({ max: MAX_TEAM_INTRO_CHARS })),
  announcement: s.optional(s.string({ max: MAX_TEAM_ANNOUNCEMENT_CHARS })),
  custom: s.optional(s.string({ max: MAX_EXT_CHARS })),
  antispamBusinessId: s.optional(s.string({ max: 128 })),
};

/** The actor of group `teamId`. */
export function teamAddress(teamId: string): string {
  return `team:${teamId}`;
}

/** The team index actor of `account`. */
export function userTeamsAddress(account: string): string {
  return `userTeams:${account}`;
}

/** A fresh group id: 16 decimal digits from the platform's random source (the actor refuses one already taken). */
export function newTeamId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return String(1_000_000_000_000_000n + (n % 9_000_000_000_000_000n));
}

const toTeam = (_account: string, a: { teamId: string }): string => teamAddress(a.teamId);
const teamId = () => id();

export const teamMethods = {
  createTeam: actorMethod({
    doc: 'Creates an advanced group with the caller as owner; `accounts` are invited as `addTeamMembers` would (joining at once under `beInviteMode: noVerify`). Answers `{team, owner, accounts, ps}`.',
    owner: 'team',
    // A new group gets a fresh id where the request is routed; the actor refuses one already taken (CONFLICT).
    address: () => teamAddress(newTeamId()),
    args: s.object({
      type: s.optional(s.literal(['advanced'] as const), 'advanced' as const),
      name: name(),
      ...profile,
      joinMode: s.optional(s.literal(JOIN_MODES), 'needVerify' as JoinMode),
      beInviteMode: s.optional(s.literal(BE_INVITE_MODES), 'needVerify' as BeInviteMode),
      inviteMode: s.optional(s.literal(TEAM_EDIT_MODES), 'manager' as TeamEditMode),
      updateTeamMode: s.optional(s.literal(TEAM_EDIT_MODES), 'manager' as TeamEditMode),
      updateCustomMode: s.optional(s.literal(TEAM_EDIT_MODES), 'manager' as TeamEditMode),
      accounts: s.optional(s.array(id(), { max: MAX_TEAM_ACCOUNTS_PER_CALL }), () => []),
      ps: s.optional(ps(), ''),
    }),
    result: returns<{ team: Team; owner: TeamMember; accounts: string[]; ps: string; antispamTag?: string }>(),
    retry: 'never',
    errors: ['CONFLICT', 'TEAM_FULL'],
  }),
  updateTeam: actorMethod({
    doc: "Edits the group's profile (who may: `updateTeamMode`), its `custom` (`updateCustomMode`) and its policies (owner and managers); members get `UpdateTeam` and a notification message.",
    owner: 'team',
    address: toTeam,
    args: s.object({
      teamId: teamId(),
      name: s.optional(name()),
      ...profile,
      joinMode: s.optional(s.literal(JOIN_MODES)),
      beInviteMode: s.optional(s.literal(BE_INVITE_MODES)),
      inviteMode: s.optional(s.literal(TEAM_EDIT_MODES)),
      updateTeamMode: s.optional(s.literal(TEAM_EDIT_MODES)),
      updateCustomMode: s.optional(s.literal(TEAM_EDIT_MODES)),
    }),
    result: returns<{ team: Team }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
  }),
  addTeamMembers: actorMethod({
    doc: 'Invites accounts (who may: `inviteMode`): under `beInviteMode: needVerify` each gets a `teamInvite` sysmsg and joins on `acceptTeamInvite`; under `noVerify` they join at once and members get `AddTeamMembers`.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId(), accounts: accounts(), custom: s.optional(s.string({ max: MAX_EXT_CHARS })), ps: s.optional(ps(), '') }),
    result: returns<{ teamId: string; accounts: string[]; joined: string[]; invited: string[] }>(),
    retry: 'never',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN', 'CONFLICT', 'TEAM_FULL'],
  }),
  acceptTeamInvite: actorMethod({
    doc: 'Accepts the `teamInvite` with `idServer` from the inviter `from`: the caller joins. An invitation is answered once.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId(), from: id(), idServer: s.string({ min: 1, max: 64 }) }),
    result: returns<{ team: Team; member: TeamMember }>(),
    retry: 'never',
    errors: ['NOT_FOUND', 'CONFLICT', 'TEAM_FULL'],
  }),
  rejectTeamInvite: actorMethod({
    doc: 'Declines the `teamInvite` with `idServer`; the inviter gets a `rejectTeamInvite` sysmsg (`from` the caller, `to` the group). An invitation is answered once.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId(), from: id(), idServer: s.string({ min: 1, max: 64 }), ps: s.optional(ps()) }),
    result: returns<{ teamId: string }>(),
    retry: 'never',
    errors: ['NOT_FOUND', 'CONFLICT'],
  }),
  applyTeam: actorMethod({
    doc: "Asks to join, as the group's `joinMode` says: `noVerify` joins at once, `needVerify` sends the owner and managers an `applyTeam` sysmsg, `rejectAll` is FORBIDDEN.",
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId(), ps: s.optional(ps()) }),
    result: returns<{ team: Team; joined: boolean; idServer?: string }>(),
    retry: 'never',
    errors: ['NOT_FOUND', 'FORBIDDEN', 'CONFLICT', 'TEAM_FULL'],
  }),
  passTeamApply: actorMethod({
    doc: 'The owner or a manager approves the join request `idServer` of `from`: the applicant joins. A request is answered once.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId(), from: id(), idServer: s.string({ min: 1, max: 64 }) }),
    result: returns<{ team: Team; member: TeamMember }>(),
    retry: 'never',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN', 'CONFLICT', 'TEAM_FULL'],
  }),
  rejectTeamApply: actorMethod({
    doc: 'The owner or a manager declines the join request `idServer` of `from`; the applicant gets a `rejectTeamApply` sysmsg. A request is answered once.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId(), from: id(), idServer: s.string({ min: 1, max: 64 }), ps: s.optional(ps()) }),
    result: returns<{ teamId: string }>(),
    retry: 'never',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN', 'CONFLICT'],
  }),
  removeTeamMembers: actorMethod({
    doc: 'Removes members: the owner may remove anyone else, managers only normal members. They stop receiving the group at once; members get `RemoveTeamMembers`.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId(), accounts: accounts() }),
    result: returns<{ teamId: string; accounts: string[] }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
  }),
  addTeamManagers: actorMethod({
    doc: 'The owner makes members managers; members get `UpdateTeamManagers`.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId(), accounts: accounts() }),
    result: returns<{ teamId: string; accounts: string[]; members: TeamMember[] }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
  }),
  removeTeamManagers: actorMethod({
    doc: 'The owner makes managers normal members again; members get `UpdateTeamManagers`.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId(), accounts: accounts() }),
    result: returns<{ teamId: string; accounts: string[]; members: TeamMember[] }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
  }),
  transferTeam: actorMethod({
    doc: 'The owner hands the group to member `account`; with `leave` the old owner leaves at once, otherwise stays as a normal member. Members get `TransferTeam`.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId(), account: id(), leave: s.optional(s.boolean(), false) }),
    result: returns<{ team: Team; from: TeamMember; to: TeamMember }>(),
    retry: 'never',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
  }),
  leaveTeam: actorMethod({
    doc: 'The caller leaves the group; the owner must transfer it first (FORBIDDEN). Members get `RemoveTeamMembers`.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId() }),
    result: returns<{ teamId: string }>(),
    retry: 'never',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
  }),
  dismissTeam: actorMethod({
    doc: 'The owner dissolves the group; members get `DismissTeam` and it can no longer be used.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId() }),
    result: returns<{ teamId: string }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
  }),
  getTeam: actorMethod({
    doc: 'One group (any account may read a group that exists; NOT_FOUND once dismissed). `sync` is accepted: the server is always asked.',
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId(), sync: s.optional(s.boolean()) }),
    result: returns<Team>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND'],
  }),
  getTeamMembers: actorMethod({
    doc: "The group's members; members only (NOT_MEMBER).",
    owner: 'team',
    address: toTeam,
    args: s.object({ teamId: teamId() }),
    result: returns<{ teamId: string; members: TeamMember[] }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  getTeams: actorMethod({
    doc: 'The advanced groups the caller belongs to.',
    owner: 'userTeams',
    address: (account) => userTeamsAddress(account),
    args: s.object({}),
    result: returns<Team[]>(),
    retry: 'idempotent',
    errors: [],
  }),
  getTeamsById: actorMethod({
    doc: "Groups by id, among the caller's groups: `teams` found, `tids` the ids that could not be fetched.",
    owner: 'userTeams',
    address: (account) => userTeamsAddress(account),
    args: s.object({ teamIds: s.array(id(), { min: 1, max: MAX_TEAMS_PER_CALL }) }),
    result: returns<{ teams: Team[]; tids: string[] }>(),
    retry: 'idempotent',
    errors: [],
  }),
};
