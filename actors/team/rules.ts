/**
 * Each group method as a decision over the state (logic.ts): who may do it,
 * what it changes, what members hear. Callback names follow the group kind:
 * `AddTeamMembers` for advanced groups, `AddSuperTeamMembers` for
 * supergroups, and so on. I/O free.
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { Args } from '../../engine/protocol/methods.ts';
import type { Team, TeamKind, TeamMember, TeamMemberType, TeamNotificationAttach, TeamSysMsg } from '../../engine/protocol/methods/teams.ts';
import {
  Change,
  groupWord,
  isManagerOrOwner,
  liveTeam,
  memberOf,
  memberView,
  pendingKey,
  type MemberRow,
  type PendingRow,
  type TeamEvent,
  type TeamLimits,
  type TeamState,
} from './logic.ts';

/** Posts a notification message about a change into the group's conversation (supplied by the actor: it numbers messages). */
/** `alsoTo`: accounts beyond the members that get it (those it removes); `notTo`: members that do not. */
export type Notify = (change: Change, attach: TeamNotificationAttach, alsoTo?: string[], notTo?: string[]) => TeamEvent[];

export interface DecideContext {
  state: TeamState;
  by: string;
  now: number;
  limits: TeamLimits;
  nextIdServer: () => string;
  notify: Notify;
}

/** The callback name of `base` for the group kind: `UpdateTeam` / `UpdateSuperTeam`. */
export function callbackName(kind: TeamKind, base: 'AddTeamMembers' | 'RemoveTeamMembers' | 'UpdateTeam' | 'UpdateTeamManagers' | 'DismissTeam' | 'TransferTeam' | 'CreateTeam' | 'updateteammember' | 'UpdateTeamMembersMute'): string {
  if (kind === 'team') return base;
  if (base === 'updateteammember') return 'UpdateSuperTeamMember';
  return base.replace('Team', 'SuperTeam');
}

function sysmsgType(kind: TeamKind, base: 'teamInvite' | 'rejectTeamInvite' | 'applyTeam' | 'rejectTeamApply'): TeamSysMsg['type'] {
  if (kind === 'team') return base;
  return ({ teamInvite: 'superTeamInvite', rejectTeamInvite: 'rejectSuperTeamInvite', applyTeam: 'applySuperTeam', rejectTeamApply: 'rejectSuperTeamApply' } as const)[base];
}

function manager(ctx: DecideContext, what: string): MemberRow {
  const row = memberOf(ctx.state, ctx.by);
  if (!isManagerOrOwner(row)) throw new ParleyError('FORBIDDEN', `only the owner and managers may ${what}`);
  return row;
}

function owner(ctx: DecideContext, what: string): MemberRow {
  const row = memberOf(ctx.state, ctx.by);
  if (row.type !== 'owner') throw new ParleyError('FORBIDDEN', `only the owner may ${what}`);
  return row;
}

/** The named accounts must all be members (NOT_MEMBER naming the first that is not), each once. */
function membersNamed(ctx: DecideContext, accounts: readonly string[]): MemberRow[] {
  const out: MemberRow[] = [];
  for (const a of new Set(accounts)) {
    const row = ctx.state.members.get(a);
    if (row === undefined) throw new ParleyError('NOT_MEMBER', `\`accounts\`: ${a} is not a member of ${groupWord(ctx.state.kind)} ${ctx.state.id}`);
    out.push(row);
  }
  return out;
}

// ---- Creation and profile -----------------------------------------------------

export function decideCreate(ctx: DecideContext, a: Args<'createTeam'>): { reply: { team: Team; owner: TeamMember; accounts: string[]; ps: string; antispamTag: string }; events: TeamEvent[] } {
  const { state } = ctx;
  if (state.team !== undefined) throw new ParleyError('CONFLICT', `${groupWord(state.kind)} id ${state.id} is taken; try again`);
  const team: Team = {
    teamId: state.id,
    type: 'advanced',
    name: a.name,
    owner: ctx.by,
    memberNum: 1,
    level: ctx.limits.maxMembers,
    joinMode: a.joinMode,
    beInviteMode: a.beInviteMode,
    inviteMode: a.inviteMode,
    updateTeamMode: a.updateTeamMode,
    updateCustomMode: a.updateCustomMode,
    mute: false,
    muteType: 'none',
    createTime: ctx.now,
    updateTime: ctx.now,
    valid: true,
  };
  for (const f of ['avatar', 'intro', 'announcement', 'custom', 'antispamBusinessId'] as const) if (a[f] !== undefined) team[f] = a[f];
  const change = new Change(state, ctx.now);
  change.setTeam(team);
  const ownerRow = change.join(ctx.by, 'owner', '', ctx.limits);
  const invitees = [...new Set(a.accounts)].filter((x) => x !== ctx.by);
  const { joined } = invite(ctx, change, invitees, a.ps, undefined);
  change.tell([ctx.by], callbackName(state.kind, 'CreateTeam'), { team: change.current, owner: memberView(ownerRow) });
  const extra = ctx.notify(change, { type: 'createTeam', team: change.current, accounts: joined });
  const events = change.finish(extra);
  // No moderation service labels profiles: the tag is empty (a profile it refused would not be created).
  return { reply: { team: change.current, owner: memberView(ownerRow), accounts: invitees, ps: a.ps, antispamTag: '' }, events };
}

/** Invites `accounts` into `change`: joined at once under `beInviteMode: noVerify`, else an invitation each. */
function invite(ctx: DecideContext, change: Change, accounts: readonly string[], ps: string, custom: string | undefined): { joined: string[]; invited: string[] } {
  const joined: string[] = [];
  const invited: string[] = [];
  const team = change.current;
  for (const account of accounts) {
    if (team.beInviteMode === 'noVerify') {
      change.join(account, 'normal', ctx.by, ctx.limits);
      joined.push(account);
      continue;
    }
    const row: PendingRow = { what: 'invite', account, from: ctx.by, idServer: ctx.nextIdServer(), time: ctx.now, ps };
    if (custom !== undefined) row.custom = custom;
    change.putPending(row);
    const msg: TeamSysMsg = { type: sysmsgType(ctx.state.kind, 'teamInvite'), scene: ctx.state.kind, from: ctx.by, to: ctx.state.id, idServer: row.idServer, time: ctx.now, attach: { team } };
    if (ps !== '') msg.ps = ps;
    if (custom !== undefined) msg.attach!.custom = custom;
    change.sysmsg(account, msg);
    invited.push(account);
  }
  if (joined.length > 0) tellJoined(ctx, change, joined);
  return { joined, invited };
}

/** Members (the joiners included) hear `AddTeamMembers`. */
function tellJoined(ctx: DecideContext, change: Change, joined: readonly string[]): void {
  const members = joined.map((a) => memberView(change.member(a)!));
  change.tellMembers(callbackName(ctx.state.kind, 'AddTeamMembers'), { team: change.current, accounts: joined, members });
}

const PROFILE_FIELDS = ['name', 'avatar', 'intro', 'announcement', 'antispamBusinessId'] as const;
const POLICY_FIELDS = ['joinMode', 'beInviteMode', 'inviteMode', 'updateTeamMode', 'updateCustomMode'] as const;

export function decideUpdate(ctx: DecideContext, a: Args<'updateTeam'>): { reply: { team: Team }; events: TeamEvent[] } {
  const row = memberOf(ctx.state, ctx.by);
  const team = liveTeam(ctx.state);
  const high = isManagerOrOwner(row);
  const fields: Partial<Team> = {};
  for (const f of PROFILE_FIELDS) {
    if (a[f] === undefined) continue;
    if (team.updateTeamMode === 'manager' && !high) throw new ParleyError('FORBIDDEN', `\`${f}\`: only the owner and managers may edit the profile (updateTeamMode is manager)`);
    (fields as Record<string, unknown>)[f] = a[f];
  }
  if (a.custom !== undefined) {
    if (team.updateCustomMode === 'manager' && !high) throw new ParleyError('FORBIDDEN', '`custom`: only the owner and managers may edit it (updateCustomMode is manager)');
    fields.custom = a.custom;
  }
  for (const f of POLICY_FIELDS) {
    if (a[f] === undefined) continue;
    if (!high) throw new ParleyError('FORBIDDEN', `\`${f}\`: only the owner and managers may change the policies`);
    (fields as Record<string, unknown>)[f] = a[f];
  }
  const changed = Object.entries(fields).some(([k, v]) => (team as unknown as Record<string, unknown>)[k] !== v);
  if (!changed) return { reply: { team }, events: [] };
  const change = new Change(ctx.state, ctx.now);
  const next = change.updateTeam(fields);
  change.tellMembers(callbackName(ctx.state.kind, 'UpdateTeam'), { ...fields, teamId: ctx.state.id, updateTime: ctx.now });
  const extra = ctx.notify(change, { type: 'updateTeam', team: next });
  return { reply: { team: next }, events: change.finish(extra) };
}

// ---- Joining ------------------------------------------------------------------

export function decideAdd(ctx: DecideContext, a: Args<'addTeamMembers'>): { reply: { teamId: string; accounts: string[]; joined: string[]; invited: string[] }; events: TeamEvent[] } {
  const row = memberOf(ctx.state, ctx.by);
  const team = liveTeam(ctx.state);
  if (team.inviteMode === 'manager' && !isManagerOrOwner(row)) throw new ParleyError('FORBIDDEN', 'only the owner and managers may invite (inviteMode is manager)');
  const accounts = [...new Set(a.accounts)];
  for (const account of accounts) {
    if (ctx.state.members.has(account)) throw new ParleyError('CONFLICT', `\`accounts\`: ${account} is already a member`);
  }
  const change = new Change(ctx.state, ctx.now);
  const { joined, invited } = invite(ctx, change, accounts, a.ps, a.custom);
  const extra = joined.length > 0 ? ctx.notify(change, { type: 'addTeamMembers', team: change.current, accounts: joined }) : [];
  return { reply: { teamId: ctx.state.id, accounts, joined, invited }, events: change.finish(extra) };
}

/** The open row `what` of `account` quoting `idServer`: NOT_FOUND when there is none, CONFLICT once answered. */
function openPending(ctx: DecideContext, what: PendingRow['what'], account: string, idServer: string, from?: string): PendingRow {
  const row = ctx.state.pending.get(pendingKey(what, account));
  const word = what === 'invite' ? 'invitation' : 'join request';
  if (row === undefined || row.idServer !== idServer || (from !== undefined && row.from !== from)) {
    throw new ParleyError('NOT_FOUND', `no ${word} ${idServer} for ${account} in ${groupWord(ctx.state.kind)} ${ctx.state.id}`);
  }
  if (row.answer !== undefined) throw new ParleyError('CONFLICT', `the ${word} ${idServer} was already answered (${row.answer})`);
  return row;
}

export function decideAcceptInvite(ctx: DecideContext, a: Args<'acceptTeamInvite'>): { reply: { team: Team; member: TeamMember }; events: TeamEvent[] } {
  liveTeam(ctx.state);
  const pending = openPending(ctx, 'invite', ctx.by, a.idServer, a.from);
  if (ctx.state.members.has(ctx.by)) throw new ParleyError('CONFLICT', `${ctx.by} is already a member`);
  const change = new Change(ctx.state, ctx.now);
  const row = change.join(ctx.by, 'normal', pending.from, ctx.limits);
  change.putPending({ ...pending, answer: 'accepted' });
  tellJoined(ctx, change, [ctx.by]);
  const extra = ctx.notify(change, { type: 'acceptTeamInvite', team: change.current, accounts: [ctx.by] });
  return { reply: { team: change.current, member: memberView(row) }, events: change.finish(extra) };
}

export function decideRejectInvite(ctx: DecideContext, a: Args<'rejectTeamInvite'>): { reply: { teamId: string }; events: TeamEvent[] } {
  liveTeam(ctx.state);
  const pending = openPending(ctx, 'invite', ctx.by, a.idServer, a.from);
  const change = new Change(ctx.state, ctx.now);
  change.putPending({ ...pending, answer: 'rejected' });
  const msg: TeamSysMsg = { type: sysmsgType(ctx.state.kind, 'rejectTeamInvite'), scene: ctx.state.kind, from: ctx.by, to: ctx.state.id, idServer: ctx.nextIdServer(), time: ctx.now };
  if (a.ps !== undefined) msg.ps = a.ps;
  change.sysmsg(pending.from, msg);
  return { reply: { teamId: ctx.state.id }, events: change.finish() };
}

export function decideApply(ctx: DecideContext, a: Args<'applyTeam'>): { reply: { team: Team; joined: boolean; idServer?: string }; events: TeamEvent[] } {
  const team = liveTeam(ctx.state);
  if (ctx.state.members.has(ctx.by)) throw new ParleyError('CONFLICT', `${ctx.by} is already a member`);
  if (team.joinMode === 'rejectAll') throw new ParleyError('FORBIDDEN', `${groupWord(ctx.state.kind)} ${ctx.state.id} takes no join requests (joinMode is rejectAll)`);
  const change = new Change(ctx.state, ctx.now);
  if (team.joinMode === 'noVerify') {
    change.join(ctx.by, 'normal', '', ctx.limits);
    tellJoined(ctx, change, [ctx.by]);
    const extra = ctx.notify(change, { type: 'passTeamApply', team: change.current, accounts: [ctx.by] });
    return { reply: { team: change.current, joined: true }, events: change.finish(extra) };
  }
  const open = ctx.state.pending.get(pendingKey('apply', ctx.by));
  // Asking again while a request is open answers the same request.
  if (open !== undefined && open.answer === undefined) return { reply: { team, joined: false, idServer: open.idServer }, events: [] };
  const row: PendingRow = { what: 'apply', account: ctx.by, from: ctx.by, idServer: ctx.nextIdServer(), time: ctx.now };
  if (a.ps !== undefined) row.ps = a.ps;
  change.putPending(row);
  const msg: TeamSysMsg = { type: sysmsgType(ctx.state.kind, 'applyTeam'), scene: ctx.state.kind, from: ctx.by, to: ctx.state.id, idServer: row.idServer, time: ctx.now, attach: { team } };
  if (a.ps !== undefined) msg.ps = a.ps;
  for (const m of ctx.state.members.values()) if (isManagerOrOwner(m)) change.sysmsg(m.account, msg);
  return { reply: { team, joined: false, idServer: row.idServer }, events: change.finish() };
}

export function decidePassApply(ctx: DecideContext, a: Args<'passTeamApply'>): { reply: { team: Team; member: TeamMember }; events: TeamEvent[] } {
  manager(ctx, 'answer join requests');
  const pending = openPending(ctx, 'apply', a.from, a.idServer);
  if (ctx.state.members.has(a.from)) throw new ParleyError('CONFLICT', `${a.from} is already a member`);
  const change = new Change(ctx.state, ctx.now);
  const row = change.join(a.from, 'normal', '', ctx.limits);
  change.putPending({ ...pending, answer: 'accepted' });
  tellJoined(ctx, change, [a.from]);
  const extra = ctx.notify(change, { type: 'passTeamApply', team: change.current, accounts: [a.from] });
  return { reply: { team: change.current, member: memberView(row) }, events: change.finish(extra) };
}

export function decideRejectApply(ctx: DecideContext, a: Args<'rejectTeamApply'>): { reply: { teamId: string }; events: TeamEvent[] } {
  manager(ctx, 'answer join requests');
  const pending = openPending(ctx, 'apply', a.from, a.idServer);
  const change = new Change(ctx.state, ctx.now);
  change.putPending({ ...pending, answer: 'rejected' });
  const msg: TeamSysMsg = { type: sysmsgType(ctx.state.kind, 'rejectTeamApply'), scene: ctx.state.kind, from: ctx.by, to: ctx.state.id, idServer: ctx.nextIdServer(), time: ctx.now };
  if (a.ps !== undefined) msg.ps = a.ps;
  change.sysmsg(a.from, msg);
  return { reply: { teamId: ctx.state.id }, events: change.finish() };
}

// ---- Leaving and roles --------------------------------------------------------

/** Removes `accounts` in `change`: they and the members hear `RemoveTeamMembers`; the notification reaches them too. */
function removeAll(ctx: DecideContext, change: Change, accounts: string[], type: 'removeTeamMembers' | 'leaveTeam'): TeamEvent[] {
  for (const a of accounts) change.removeMember(a);
  change.tellMembers(callbackName(ctx.state.kind, 'RemoveTeamMembers'), { team: change.current, accounts }, { also: accounts });
  return ctx.notify(change, { type, team: change.current, accounts }, accounts);
}

export function decideRemove(ctx: DecideContext, a: Args<'removeTeamMembers'>): { reply: { teamId: string; accounts: string[] }; events: TeamEvent[] } {
  const me = manager(ctx, 'remove members');
  const rows = membersNamed(ctx, a.accounts);
  for (const row of rows) {
    if (row.account === ctx.by) throw new ParleyError('FORBIDDEN', '`accounts`: use leaveTeam to leave');
    if (me.type === 'manager' && row.type !== 'normal') throw new ParleyError('FORBIDDEN', `\`accounts\`: managers may remove normal members only, and ${row.account} is ${row.type === 'owner' ? 'the owner' : 'a manager'}`);
  }
  const accounts = rows.map((r) => r.account);
  const change = new Change(ctx.state, ctx.now);
  const extra = removeAll(ctx, change, accounts, 'removeTeamMembers');
  return { reply: { teamId: ctx.state.id, accounts }, events: change.finish(extra) };
}

export function decideLeave(ctx: DecideContext): { reply: { teamId: string }; events: TeamEvent[] } {
  const me = memberOf(ctx.state, ctx.by);
  if (me.type === 'owner') throw new ParleyError('FORBIDDEN', 'the owner must transfer the group (transferTeam) before leaving it');
  const change = new Change(ctx.state, ctx.now);
  const extra = removeAll(ctx, change, [ctx.by], 'leaveTeam');
  return { reply: { teamId: ctx.state.id }, events: change.finish(extra) };
}

export function decideManagers(ctx: DecideContext, a: Args<'addTeamManagers'>, add: boolean): { reply: { teamId: string; accounts: string[]; members: TeamMember[] }; events: TeamEvent[] } {
  owner(ctx, add ? 'appoint managers' : 'remove managers');
  const rows = membersNamed(ctx, a.accounts);
  for (const row of rows) if (row.type === 'owner') throw new ParleyError('BAD_REQUEST', `\`accounts\`: ${row.account} is the owner`);
  const change = new Change(ctx.state, ctx.now);
  const members: TeamMember[] = [];
  let changed = false;
  for (const row of rows) {
    const type: TeamMemberType = add ? 'manager' : 'normal';
    const next = row.type === type ? row : { ...row, type, updateTime: ctx.now };
    if (next !== row) {
      change.putMember(next);
      changed = true;
    }
    members.push(memberView(next));
  }
  const accounts = rows.map((r) => r.account);
  // Every named account already had the role: a repeat, nothing to tell.
  if (!changed) return { reply: { teamId: ctx.state.id, accounts, members }, events: [] };
  change.tellMembers(callbackName(ctx.state.kind, 'UpdateTeamManagers'), { team: change.current, accounts, isManager: add, members });
  const extra = ctx.notify(change, { type: add ? 'addTeamManagers' : 'removeTeamManagers', team: change.current, accounts });
  return { reply: { teamId: ctx.state.id, accounts, members }, events: change.finish(extra) };
}

export function decideTransfer(ctx: DecideContext, a: Args<'transferTeam'>): { reply: { team: Team; from: TeamMember; to: TeamMember }; events: TeamEvent[] } {
  const me = owner(ctx, 'transfer the group');
  if (a.account === ctx.by) throw new ParleyError('BAD_REQUEST', '`account` is already the owner');
  const target = ctx.state.members.get(a.account);
  if (target === undefined) throw new ParleyError('NOT_MEMBER', `\`account\`: ${a.account} is not a member of ${groupWord(ctx.state.kind)} ${ctx.state.id}`);
  const change = new Change(ctx.state, ctx.now);
  // The owner cannot be muted: a muted member taking the group over is unmuted with it.
  const to: MemberRow = { ...target, type: 'owner', mute: false, updateTime: ctx.now };
  const from: MemberRow = { ...me, type: 'normal', updateTime: ctx.now };
  change.putMember(to);
  change.putMember(from);
  change.updateTeam({ owner: a.account });
  if (a.leave) change.removeMember(ctx.by);
  change.tellMembers(callbackName(ctx.state.kind, 'TransferTeam'), { team: change.current, from: memberView(from), to: memberView(to) }, { also: a.leave ? [ctx.by] : [] });
  const extra = ctx.notify(change, { type: 'transferTeam', team: change.current, account: a.account }, a.leave ? [ctx.by] : undefined);
  return { reply: { team: change.current, from: memberView(from), to: memberView(to) }, events: change.finish(extra) };
}

export function decideDismiss(ctx: DecideContext): { reply: { teamId: string }; events: TeamEvent[] } {
  owner(ctx, 'dismiss the group');
  const change = new Change(ctx.state, ctx.now);
  const members = change.memberAccounts();
  const extra = ctx.notify(change, { type: 'dismissTeam', team: { ...change.current, valid: false } }, members);
  for (const m of members) change.removeMember(m);
  change.updateTeam({ valid: false });
  change.tell(members, callbackName(ctx.state.kind, 'DismissTeam'), { teamId: ctx.state.id });
  return { reply: { teamId: ctx.state.id }, events: change.finish(extra) };
}

// ---- Mutes and member settings ------------------------------------------------

export function decideMuteAll(ctx: DecideContext, mute: boolean): { reply: { team: Team }; events: TeamEvent[] } {
  manager(ctx, `mute the whole ${groupWord(ctx.state.kind)}`);
  const team = liveTeam(ctx.state);
  if (team.mute === mute) return { reply: { team }, events: [] };
  const change = new Change(ctx.state, ctx.now);
  const next = change.updateTeam({ mute, muteType: mute ? 'all' : 'none' });
  change.tellMembers(callbackName(ctx.state.kind, 'UpdateTeam'), { teamId: ctx.state.id, mute, muteType: next.muteType, updateTime: ctx.now });
  const extra = ctx.notify(change, { type: 'updateTeamMute', team: next, mute });
  return { reply: { team: next }, events: change.finish(extra) };
}

/**
 * Mutes or unmutes members: the owner anyone but itself, managers normal
 * members only. In a supergroup the notification reaches every member but
 * the operator; in an advanced group every member.
 */
export function decideMemberMute(ctx: DecideContext, accounts: readonly string[], mute: boolean): { reply: { teamId: string; accounts: string[]; mute: boolean }; events: TeamEvent[] } {
  const me = manager(ctx, 'mute members');
  const rows = membersNamed(ctx, accounts);
  for (const row of rows) {
    if (row.type === 'owner') throw new ParleyError('FORBIDDEN', '`account`: the owner cannot be muted');
    if (me.type === 'manager' && row.type !== 'normal') throw new ParleyError('FORBIDDEN', `\`account\`: managers may mute normal members only, and ${row.account} is a manager`);
  }
  const named = rows.map((r) => r.account);
  const change = new Change(ctx.state, ctx.now);
  const members: TeamMember[] = [];
  for (const row of rows) {
    if (row.mute === mute) continue;
    const next: MemberRow = { ...row, mute, updateTime: ctx.now };
    change.putMember(next);
    members.push(memberView(next));
  }
  if (members.length === 0) return { reply: { teamId: ctx.state.id, accounts: named, mute }, events: [] };
  change.tellMembers(callbackName(ctx.state.kind, 'UpdateTeamMembersMute'), { team: change.current, accounts: members.map((m) => m.account), mute, members });
  // A supergroup's operator is not sent its own mute notification.
  const notTo = ctx.state.kind === 'superTeam' ? [ctx.by] : undefined;
  const extra = ctx.notify(change, { type: 'updateMemberMute', team: change.current, accounts: members.map((m) => m.account), mute }, undefined, notTo);
  return { reply: { teamId: ctx.state.id, accounts: named, mute }, events: change.finish(extra) };
}

/** A member row's own settings changed: the other members hear `updateteammember` (`UpdateSuperTeamMember`). */
function memberChanged(ctx: DecideContext, row: MemberRow, fields: Partial<MemberRow>, alsoUpdateTeam: boolean): { reply: { member: TeamMember }; events: TeamEvent[] } {
  const changed = Object.entries(fields).some(([k, v]) => v !== undefined && (row as unknown as Record<string, unknown>)[k] !== v);
  if (!changed) return { reply: { member: memberView(row) }, events: [] };
  const next: MemberRow = { ...row, updateTime: ctx.now };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
  const change = new Change(ctx.state, ctx.now);
  change.putMember(next);
  change.tellMembers(callbackName(ctx.state.kind, 'updateteammember'), memberView(next), alsoUpdateTeam ? {} : { except: ctx.by });
  if (alsoUpdateTeam) change.tellMembers(callbackName(ctx.state.kind, 'UpdateTeam'), { teamId: ctx.state.id, updateTime: ctx.now });
  return { reply: { member: memberView(next) }, events: change.finish() };
}

export function decideUpdateInfo(ctx: DecideContext, a: Args<'updateInfoInTeam'>): { reply: { member: TeamMember }; events: TeamEvent[] } {
  const row = memberOf(ctx.state, ctx.by);
  return memberChanged(ctx, row, { nickInTeam: a.nickInTeam, custom: a.custom, muteNotiType: a.muteNotiType }, false);
}

export function decideUpdateNick(ctx: DecideContext, a: Args<'updateNickInTeam'>): { reply: { member: TeamMember }; events: TeamEvent[] } {
  const me = manager(ctx, "set another member's nickname");
  const [row] = membersNamed(ctx, [a.account]);
  if (me.type === 'manager' && row!.type === 'owner') throw new ParleyError('FORBIDDEN', "`account`: managers may not set the owner's nickname");
  return memberChanged(ctx, row!, { nickInTeam: a.nickInTeam }, true);
}

// ---- Member queries -----------------------------------------------------------

/** Members, the current and (when `withFormer`) those who left, by join time. */
export function membersByJoinTime(state: TeamState, q: { joinTime?: number | undefined; limit: number; reverse: boolean }, pick: (row: MemberRow) => boolean): { members: TeamMember[]; invalid: TeamMember[] } {
  const all = [...state.members.values(), ...state.former.values()].filter(pick);
  all.sort((x, y) => (q.reverse ? y.joinTime - x.joinTime : x.joinTime - y.joinTime) || (x.account < y.account ? -1 : 1));
  const members: TeamMember[] = [];
  const invalid: TeamMember[] = [];
  for (const row of all) {
    if (q.joinTime !== undefined && (q.reverse ? row.joinTime >= q.joinTime : row.joinTime <= q.joinTime)) continue;
    if (members.length + invalid.length >= q.limit) break;
    (row.valid ? members : invalid).push(memberView(row));
  }
  return { members, invalid };
}

/** The cursor of a members chunk: after the member who joined at `joinTime` as `account`. */
function chunkCursor(row: MemberRow): string {
  return `${row.joinTime}:${row.account}`;
}

/**
 * One chunk of every member, current and former, by (join time, account):
 * the members after `next` (from the start without it), at most `size`, with
 * `next` set when more follow. BAD_REQUEST naming `next` when it is not one
 * this method gave.
 */
export function membersChunk(state: TeamState, next: string | undefined, size: number): { members: TeamMember[]; invalid: TeamMember[]; next?: string } {
  let after: { joinTime: number; account: string } | undefined;
  if (next !== undefined) {
    const colon = next.indexOf(':');
    const joinTime = Number(next.slice(0, colon));
    if (colon <= 0 || !Number.isSafeInteger(joinTime) || joinTime < 0) throw new ParleyError('BAD_REQUEST', '`next` must be the `next` of an earlier chunk');
    after = { joinTime, account: next.slice(colon + 1) };
  }
  const all = [...state.members.values(), ...state.former.values()];
  all.sort((x, y) => x.joinTime - y.joinTime || (x.account < y.account ? -1 : x.account > y.account ? 1 : 0));
  const start = after === undefined ? 0 : all.findIndex((r) => r.joinTime > after.joinTime || (r.joinTime === after.joinTime && r.account > after.account));
  const rows = start < 0 ? [] : all.slice(start, start + size);
  const members: TeamMember[] = [];
  const invalid: TeamMember[] = [];
  for (const row of rows) (row.valid ? members : invalid).push(memberView(row));
  const out: { members: TeamMember[]; invalid: TeamMember[]; next?: string } = { members, invalid };
  if (start >= 0 && start + size < all.length) out.next = chunkCursor(rows[rows.length - 1]!);
  return out;
}
