/**
 * Advanced groups (`team`): creating one, its profile and policies, members
 * and their roles (owner, managers, normal members), invitations and join
 * requests, leaving, transferring and dismissing, answered by the group's
 * actor (`team:<teamId>`); the caller's own list of groups is answered by
 * the account's team index (`userTeams:<account>`). Browser-safe.
 */
import * as s from '../schema.ts';
import { MAX_EXT_CHARS, MAX_ID_CHARS } from '../objects.ts';
import { actorMethod, edgeMethod, returns } from '../registry.ts';
import { id } from './common.ts';
import { MAX_SESSIONS_PER_RESET } from './sessions.ts';
import type { Session } from '../objects.ts';

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
/** Most accounts one `getTeamMemberInvitorAccid` names; the group answers them in batches of `INVITOR_BATCH`. */
export const MAX_INVITOR_ACCOUNTS = 10_000;
/** Accounts per batch of `getTeamMemberInvitorAccid` (the reference's 200). */
export const INVITOR_BATCH = 200;
/** Members per chunk of `getAllSuperTeamMembers`. */
export const SUPER_TEAM_MEMBERS_CHUNK = 1000;
/** Members a group may hold unless configured otherwise (`teamSettings.maxMembers`). */
export const DEFAULT_TEAM_MAX_MEMBERS = 200;
/** Members a supergroup may hold unless configured otherwise (`teamSettings.superTeamMaxMembers`). */
export const DEFAULT_SUPER_TEAM_MAX_MEMBERS = 10_000;

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
  /** When the member list last changed (ms): a join, a removal, a departure. */
  memberUpdateTime?: number;
  /**
   * Set to false only in a login sync with a `teams` cursor, for a group the
   * account left (or that was dismissed) since: the group as the account
   * last saw it.
   */
  validToCurrentUser?: boolean;
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
    | 'updateTeamMute'
    | 'updateMemberMute';
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

/** The actor of supergroup `teamId`. */
export function superTeamAddress(teamId: string): string {
  return `superTeam:${teamId}`;
}

/** Longest nickname in a group, in characters. */
export const MAX_NICK_IN_TEAM_CHARS = 64;
/** Most members one page of `getSuperTeamMembersByJoinTime` / `getMutedSuperTeamMembers` holds. */
export const MAX_SUPER_TEAM_MEMBERS_PAGE = 100;

const teamId = () => id();
const idServer = () => s.string({ min: 1, max: 64 });
const MUTE_NOTI_TYPES = ['0', '1', '2'] as const;

/** A page of supergroup members by join time; `invalid` are the ones that left. */
export interface MembersPage {
  members: TeamMember[];
  invalid: TeamMember[];
}

/** One chunk of `getAllSuperTeamMembers`; `next`, when set, asks for the chunk after it. */
export interface MembersChunk extends MembersPage {
  next?: string;
}

/**
 * The methods of one group kind, with its owner and address; `word` names
 * the group in docs and `names` its callbacks. The advanced group's and the
 * supergroup's tables below take each under the reference SDK's name.
 */
function groupMethods<K extends TeamKind>(kind: K) {
  const word = kind === 'team' ? 'group' : 'supergroup';
  const cb = (base: string) => (kind === 'team' ? base : base.replace('Team', 'SuperTeam'));
  const address = (_account: string, a: { teamId: string }): string => `${kind}:${a.teamId}`;
  const own = { owner: kind, address };
  return {
    create: actorMethod({
      doc:
        kind === 'team'
          ? 'Creates an advanced group with the caller as owner; `accounts` are invited as `addTeamMembers` would (joining at once under `beInviteMode: noVerify`). Answers `{team, owner, accounts, ps, antispamTag}`; `antispamTag` is the moderation label of the profile, empty while no moderation service labels profiles.'
          : "Creates a supergroup with the caller as owner, as `createTeam` does. Supergroups are the host backend's to create: FORBIDDEN unless `PARLEY_SUPERTEAM_CLIENT_CREATE` is on.",
      owner: kind,
      // A new group gets a fresh id where the request is routed; the actor refuses one already taken (CONFLICT).
      address: () => `${kind}:${newTeamId()}`,
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
      result: returns<{ team: Team; owner: TeamMember; accounts: string[]; ps: string; antispamTag: string }>(),
      retry: 'never',
      errors: kind === 'team' ? ['CONFLICT', 'TEAM_FULL'] : ['CONFLICT', 'TEAM_FULL', 'FORBIDDEN'],
    }),
    update: actorMethod({
      ...own,
      doc: `Edits the ${word}'s profile (who may: \`updateTeamMode\`), its \`custom\` (\`updateCustomMode\`) and its policies (owner and managers); members get \`${cb('UpdateTeam')}\` and a notification message.`,
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
    add: actorMethod({
      ...own,
      doc: `Invites accounts (who may: \`inviteMode\`): under \`beInviteMode: needVerify\` each gets a \`${kind === 'team' ? 'teamInvite' : 'superTeamInvite'}\` sysmsg and joins on accepting it; under \`noVerify\` they join at once and members get \`${cb('AddTeamMembers')}\`.`,
      args: s.object({ teamId: teamId(), accounts: accounts(), custom: s.optional(s.string({ max: MAX_EXT_CHARS })), ps: s.optional(ps(), '') }),
      result: returns<{ teamId: string; accounts: string[]; joined: string[]; invited: string[] }>(),
      retry: 'never',
      errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN', 'CONFLICT', 'TEAM_FULL'],
    }),
    acceptInvite: actorMethod({
      ...own,
      doc: `Accepts the invitation \`idServer\` from the inviter \`from\`: the caller joins the ${word}. An invitation is answered once (CONFLICT).`,
      args: s.object({ teamId: teamId(), from: id(), idServer: idServer() }),
      result: returns<{ team: Team; member: TeamMember }>(),
      retry: 'never',
      errors: ['NOT_FOUND', 'CONFLICT', 'TEAM_FULL'],
    }),
    rejectInvite: actorMethod({
      ...own,
      doc: `Declines the invitation \`idServer\`; the inviter gets a \`${kind === 'team' ? 'rejectTeamInvite' : 'rejectSuperTeamInvite'}\` sysmsg (\`from\` the caller, \`to\` the ${word}). An invitation is answered once.`,
      args: s.object({ teamId: teamId(), from: id(), idServer: idServer(), ps: s.optional(ps()) }),
      result: returns<{ teamId: string }>(),
      retry: 'never',
      errors: ['NOT_FOUND', 'CONFLICT'],
    }),
    apply: actorMethod({
      ...own,
      doc: `Asks to join, as the ${word}'s \`joinMode\` says: \`noVerify\` joins at once, \`needVerify\` sends the owner and managers a \`${kind === 'team' ? 'applyTeam' : 'applySuperTeam'}\` sysmsg, \`rejectAll\` is FORBIDDEN.`,
      args: s.object({ teamId: teamId(), ps: s.optional(ps()) }),
      result: returns<{ team: Team; joined: boolean; idServer?: string }>(),
      retry: 'never',
      errors: ['NOT_FOUND', 'FORBIDDEN', 'CONFLICT', 'TEAM_FULL'],
    }),
    passApply: actorMethod({
      ...own,
      doc: 'The owner or a manager approves the join request `idServer` of `from`: the applicant joins. A request is answered once.',
      args: s.object({ teamId: teamId(), from: id(), idServer: idServer() }),
      result: returns<{ team: Team; member: TeamMember }>(),
      retry: 'never',
      errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN', 'CONFLICT', 'TEAM_FULL'],
    }),
    rejectApply: actorMethod({
      ...own,
      doc: 'The owner or a manager declines the join request `idServer` of `from`; the applicant gets a rejection sysmsg. A request is answered once.',
      args: s.object({ teamId: teamId(), from: id(), idServer: idServer(), ps: s.optional(ps()) }),
      result: returns<{ teamId: string }>(),
      retry: 'never',
      errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN', 'CONFLICT'],
    }),
    remove: actorMethod({
      ...own,
      doc: `Removes members: the owner may remove anyone else, managers only normal members. They stop receiving the ${word} at once; members get \`${cb('RemoveTeamMembers')}\`.`,
      args: s.object({ teamId: teamId(), accounts: accounts() }),
      result: returns<{ teamId: string; accounts: string[] }>(),
      retry: 'idempotent',
      errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
    }),
    addManagers: actorMethod({
      ...own,
      doc: `The owner makes members managers; members get \`${cb('UpdateTeamManagers')}\`.`,
      args: s.object({ teamId: teamId(), accounts: accounts() }),
      result: returns<{ teamId: string; accounts: string[]; members: TeamMember[] }>(),
      retry: 'idempotent',
      errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
    }),
    removeManagers: actorMethod({
      ...own,
      doc: `The owner makes managers normal members again; members get \`${cb('UpdateTeamManagers')}\`.`,
      args: s.object({ teamId: teamId(), accounts: accounts() }),
      result: returns<{ teamId: string; accounts: string[]; members: TeamMember[] }>(),
      retry: 'idempotent',
      errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
    }),
    transfer: actorMethod({
      ...own,
      doc: `The owner hands the ${word} to member \`account\` (unmuted if muted: the owner cannot be); with \`leave\` the old owner leaves at once, otherwise stays as a normal member. Members get \`${cb('TransferTeam')}\`.`,
      args: s.object({ teamId: teamId(), account: id(), leave: s.optional(s.boolean(), false) }),
      result: returns<{ team: Team; from: TeamMember; to: TeamMember }>(),
      retry: 'never',
      errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
    }),
    leave: actorMethod({
      ...own,
      doc: `The caller leaves the ${word}; the owner must transfer it first (FORBIDDEN). Members get \`${cb('RemoveTeamMembers')}\`.`,
      args: s.object({ teamId: teamId() }),
      result: returns<{ teamId: string }>(),
      retry: 'never',
      errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
    }),
    dismiss: actorMethod({
      ...own,
      doc:
        kind === 'team'
          ? 'The owner dissolves the group; members get `DismissTeam` and it can no longer be used.'
          : "The owner dissolves the supergroup, as `dismissTeam` does; the host backend's to do: FORBIDDEN unless `PARLEY_SUPERTEAM_CLIENT_CREATE` is on.",
      args: s.object({ teamId: teamId() }),
      result: returns<{ teamId: string }>(),
      retry: 'idempotent',
      errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
    }),
    get: actorMethod({
      ...own,
      doc: `One ${word} (any account may read one that exists; NOT_FOUND once dismissed). \`sync\` is accepted: the server is always asked.`,
      args: s.object({ teamId: teamId(), sync: s.optional(s.boolean()) }),
      result: returns<Team>(),
      retry: 'idempotent',
      errors: ['NOT_FOUND'],
    }),
    members: actorMethod({
      ...own,
      doc: `The ${word}'s members, by join time; members only (NOT_MEMBER).`,
      args: s.object({ teamId: teamId() }),
      result: returns<{ teamId: string; members: TeamMember[] }>(),
      retry: 'idempotent',
      errors: ['NOT_FOUND', 'NOT_MEMBER'],
    }),
    muteAll: actorMethod({
      ...own,
      doc: `The owner or a manager mutes (or unmutes) the whole ${word}: only the owner and managers may post meanwhile. Members get \`${cb('UpdateTeam')}\` and a notification message.`,
      args: s.object({ teamId: teamId(), mute: s.boolean() }),
      result: returns<{ team: Team }>(),
      retry: 'idempotent',
      errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
    }),
    updateInfo: actorMethod({
      ...own,
      doc: `The caller's own settings in the ${word}: \`nickInTeam\`, \`custom\`, and \`muteNotiType\` (\`0\` alerts on, \`1\` off, \`2\` only for the owner's and managers' messages: the messages it silences reach the caller marked \`isMuted\`, so no push alert is raised). The other members get \`${kind === 'team' ? 'updateteammember' : 'UpdateSuperTeamMember'}\`.`,
      args: s.object({
        teamId: teamId(),
        nickInTeam: s.optional(s.string({ max: MAX_NICK_IN_TEAM_CHARS })),
        custom: s.optional(s.string({ max: MAX_EXT_CHARS })),
        muteNotiType: s.optional(s.literal(MUTE_NOTI_TYPES)),
      }),
      result: returns<{ member: TeamMember }>(),
      retry: 'idempotent',
      errors: ['NOT_FOUND', 'NOT_MEMBER'],
    }),
    updateNick: actorMethod({
      ...own,
      doc: `The owner or a manager sets member \`account\`'s \`nickInTeam\` (a manager not the owner's); members get \`${kind === 'team' ? 'updateteammember' : 'UpdateSuperTeamMember'}\`.`,
      args: s.object({ teamId: teamId(), account: id(), nickInTeam: s.string({ max: MAX_NICK_IN_TEAM_CHARS }) }),
      result: returns<{ member: TeamMember }>(),
      retry: 'idempotent',
      errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
    }),
  };
}

const t = groupMethods('team');
const st = groupMethods('superTeam');

export const teamMethods = {
  createTeam: t.create,
  updateTeam: t.update,
  addTeamMembers: t.add,
  acceptTeamInvite: t.acceptInvite,
  rejectTeamInvite: t.rejectInvite,
  applyTeam: t.apply,
  passTeamApply: t.passApply,
  rejectTeamApply: t.rejectApply,
  removeTeamMembers: t.remove,
  addTeamManagers: t.addManagers,
  removeTeamManagers: t.removeManagers,
  transferTeam: t.transfer,
  leaveTeam: t.leave,
  dismissTeam: t.dismiss,
  getTeam: t.get,
  getTeamMembers: t.members,
  muteTeamAll: t.muteAll,
  updateInfoInTeam: t.updateInfo,
  updateNickInTeam: t.updateNick,
  updateMuteStateInTeam: actorMethod({
    owner: 'team',
    address: (_account, a) => teamAddress(a.teamId),
    doc: 'The owner or a manager mutes (or unmutes) member `account` (a manager: normal members only); members get `UpdateTeamMembersMute` and a notification message.',
    args: s.object({ teamId: teamId(), account: id(), mute: s.boolean() }),
    result: returns<{ teamId: string; account: string; mute: boolean }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
  }),
  getMutedTeamMembers: actorMethod({
    owner: 'team',
    address: (_account, a) => teamAddress(a.teamId),
    doc: "The group's muted members; members only.",
    args: s.object({ teamId: teamId() }),
    result: returns<{ teamId: string; members: TeamMember[] }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  getTeamMemberByTeamIdAndAccount: actorMethod({
    owner: 'team',
    address: (_account, a) => teamAddress(a.teamId),
    doc: 'One member record, as a map keyed by the account (empty when not a member); members only.',
    args: s.object({ teamId: teamId(), account: id() }),
    result: returns<Record<string, TeamMember>>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  getTeamMemberInvitorAccid: edgeMethod({
    doc: `Who invited each listed member (at most ${MAX_INVITOR_ACCOUNTS}), asked of the group ${INVITOR_BATCH} accounts at a time: a map account → inviter (empty: joined on their own); accounts not in the group are left out. Members only.`,
    args: s.object({ teamId: teamId(), accounts: s.array(id(), { min: 1, max: MAX_INVITOR_ACCOUNTS }) }),
    result: returns<Record<string, string>>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  notifyForNewTeamMsg: edgeMethod({
    doc: "The caller's alert setting (`muteNotiType`: \"0\" on, \"1\" off, \"2\" managers' messages only, as set by `updateInfoInTeam`) in each listed advanced group: a map teamId → setting; groups the caller is not in, or that do not exist, are left out.",
    args: s.object({ teamIds: s.array(id(), { min: 1, max: MAX_TEAMS_PER_CALL }) }),
    result: returns<Record<string, '0' | '1' | '2'>>(),
    retry: 'idempotent',
    errors: [],
  }),
  getTeams: actorMethod({
    doc: 'The advanced groups the caller belongs to, as each last reported itself: a change reaches this list just after its own reply.',
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

const toSuper = (_account: string, a: { teamId: string }): string => superTeamAddress(a.teamId);
const joinTimePage = {
  joinTime: s.optional(s.int({ min: 0 })),
  limit: s.optional(s.int({ min: 1, max: MAX_SUPER_TEAM_MEMBERS_PAGE }), 100),
  reverse: s.optional(s.boolean(), false),
};

export const superTeamMethods = {
  createSuperTeam: st.create,
  updateSuperTeam: st.update,
  addSuperTeamMembers: st.add,
  acceptSuperTeamInvite: st.acceptInvite,
  rejectSuperTeamInvite: st.rejectInvite,
  applySuperTeam: st.apply,
  passSuperTeamApply: st.passApply,
  rejectSuperTeamApply: st.rejectApply,
  removeSuperTeamMembers: st.remove,
  addSuperTeamManagers: st.addManagers,
  removeSuperTeamManagers: st.removeManagers,
  transferSuperTeam: st.transfer,
  leaveSuperTeam: st.leave,
  dismissSuperTeam: st.dismiss,
  getSuperTeam: st.get,
  updateSuperTeamMute: st.muteAll,
  updateInfoInSuperTeam: st.updateInfo,
  updateNickInSuperTeam: st.updateNick,
  updateSuperTeamMembersMute: actorMethod({
    owner: 'superTeam',
    address: toSuper,
    doc: 'The owner or a manager mutes (or unmutes) listed members (a manager: normal members only); every member but the operator gets a notification message, all get `UpdateSuperTeamMembersMute`.',
    args: s.object({ teamId: teamId(), accounts: accounts(), mute: s.boolean() }),
    result: returns<{ teamId: string; accounts: string[]; mute: boolean }>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'FORBIDDEN'],
  }),
  getSuperTeamMembersByJoinTime: actorMethod({
    owner: 'superTeam',
    address: toSuper,
    doc: 'A page of members by join time: after `joinTime` (or before it with `reverse`), at most `limit` (default 100); members who left come back in `invalid`. Members only.',
    args: s.object({ teamId: teamId(), ...joinTimePage }),
    result: returns<MembersPage>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  getMutedSuperTeamMembers: actorMethod({
    owner: 'superTeam',
    address: toSuper,
    doc: 'The muted members, paged by join time as `getSuperTeamMembersByJoinTime`; muted members who left come back in `invalid`. Members only.',
    args: s.object({ teamId: teamId(), ...joinTimePage }),
    result: returns<MembersPage>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  getAllSuperTeamMembers: actorMethod({
    owner: 'superTeam',
    address: toSuper,
    doc: `Every member, in chunks of ${SUPER_TEAM_MEMBERS_CHUNK} by join time (the reference's repeated \`done\`): a chunk with \`next\` set is followed by the one asked for with that \`next\`; members who left come back in \`invalid\`. Members only.`,
    args: s.object({ teamId: teamId(), next: s.optional(s.string({ min: 1, max: MAX_ID_CHARS + 32 })) }),
    result: returns<MembersChunk>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER', 'BAD_REQUEST'],
  }),
  getSuperTeamMembersByAccounts: actorMethod({
    owner: 'superTeam',
    address: toSuper,
    doc: 'The member records of the listed accounts; those who left come back in `invalid`. Members only.',
    args: s.object({ teamId: teamId(), accounts: accounts() }),
    result: returns<MembersPage>(),
    retry: 'idempotent',
    errors: ['NOT_FOUND', 'NOT_MEMBER'],
  }),
  resetSuperTeamSessionsUnread: actorMethod({
    doc: "Zeroes the unread counts of several supergroup sessions (`superTeam-<teamId>`) on every device of the account; ids of sessions it does not have are skipped.",
    owner: 'user',
    address: (account) => `user:${account}`,
    positional: 'sessionIds',
    args: s.object({
      sessionIds: s.array(s.identifier({ max: MAX_ID_CHARS, prefixes: ['superTeam'], text: 'a supergroup session id, superTeam-<teamId>' }), { min: 1, max: MAX_SESSIONS_PER_RESET }),
    }),
    result: returns<{ sessionList: Session[] }>(),
    retry: 'idempotent',
    errors: [],
  }),
  getSuperTeams: actorMethod({
    doc: 'The supergroups the caller belongs to, as `getTeams` does for advanced groups.',
    owner: 'userTeams',
    address: (account) => userTeamsAddress(account),
    args: s.object({}),
    result: returns<Team[]>(),
    retry: 'idempotent',
    errors: [],
  }),
};
