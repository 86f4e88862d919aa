/**
 * A group's rules, free of I/O: the profile and its policies, members and
 * roles, invitations and join requests (each answered once), leaving,
 * transfer and dismissal, and who may post. Both group kinds (advanced
 * groups and supergroups) follow them; each kind keeps its own actors.
 *
 * Every change is decided as events that carry the rows as they become
 * (`team`, `members`, `pending`) plus a `notice`: the callbacks, system
 * notifications and index updates to send once the change is durable.
 * Replaying the rows rebuilds the state; notices only drive effects.
 */
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { CustomSysMsg } from '../../engine/protocol/objects.ts';
import type { Team, TeamKind, TeamMember, TeamMemberType, TeamSysMsg } from '../../engine/protocol/methods/teams.ts';
import type { ConversationEvent, ConversationState } from '../conversation/logic.ts';

/** A member as the group stores it: the wire record plus `base`, the messages of others that counted before the member joined. */
export interface MemberRow extends TeamMember {
  base: number;
}

/** An invitation (`invite`, keyed by the invitee) or a join request (`apply`, keyed by the applicant). */
export interface PendingRow {
  what: 'invite' | 'apply';
  account: string;
  /** The inviter, or the applicant. */
  from: string;
  idServer: string;
  time: number;
  ps?: string;
  custom?: string;
  /** Set once answered: a second answer is a CONFLICT. */
  answer?: 'accepted' | 'rejected';
}

/** A frame for online devices: `ev` with payload `d` to each of `accounts`, and with `members` to every member once the change is done but `except`. */
export interface NoticeFrame {
  accounts: string[];
  ev: string;
  d: unknown;
  /** Also every member once the change is done. */
  members?: true;
  /** With `members`: the member left out (the operator of its own change). */
  except?: string;
}

/** What the team index of `account` must learn: the group as it is now, or that the account left it (`team` absent). */
export interface IndexUpdate {
  account: string;
  team?: Team;
  /** When the account left (or the group was dismissed): set when `team` is absent. */
  time?: number;
}

export type TeamChangeEvent =
  /** The group's profile as it becomes; `version` counts its changes. */
  | { t: 'team'; team: Team; version: number }
  | { t: 'members'; put: MemberRow[]; removed: string[] }
  | { t: 'pending'; rows: PendingRow[] }
  /** What to tell whom once the change is durable; changes nothing. `sysmsgs` go through the notification seam. */
  | { t: 'notice'; frames: NoticeFrame[]; sysmsgs: { to: string; msg: TeamSysMsg | CustomSysMsg }[]; index: IndexUpdate[]; version: number };

/** A message of the group: a conversation message, with the accounts beyond the members that also get it (those it removes) and the members that do not; `counted`, of a message asking for receipts in an advanced group, the members who count for them (receipts.ts). */
export type TeamMsgEvent = Extract<ConversationEvent, { t: 'msg' }> & { alsoTo?: string[]; notTo?: string[]; counted?: string[] };
export type TeamEvent = TeamMsgEvent | Extract<ConversationEvent, { t: 'recall' | 'hide' | 'pin' | 'comments' | 'clear' }> | TeamChangeEvent | import('./receipts.ts').TeamReadsEvent;

export interface TeamState {
  kind: TeamKind;
  id: string;
  /** Undefined until created. */
  team: Team | undefined;
  version: number;
  members: Map<string, MemberRow>;
  /** Members who left (`valid: false`), as they were when they left. */
  former: Map<string, MemberRow>;
  /** `pendingKey(what, account)` → row. */
  pending: Map<string, PendingRow>;
  /**
   * Members whose alert setting silences messages: `muteNotiType` "1" (all)
   * and "2" (all but the owner's and managers'). Kept with the member rows,
   * so a message names the members it silences without reading every member.
   */
  alertOff: Set<string>;
  alertHigh: Set<string>;
  /** Messages sent with `isUnreadable: false`, in all and per sender: they never count as unread. */
  quietTotal: number;
  quietBy: Map<string, number>;
  /**
   * A supergroup's recalls, oldest first, at most `KEPT_RECALLS`, as
   * `KeptRecall`s: its sessions, brought up to date when read, take the
   * recalled messages that counted out of their unread counts (no member's
   * actor is told of a recall), and a device that was offline at a recall
   * gets its notice at its next login (`syncRecalls`).
   */
  recalls: KeptRecall[];
  /** The message numbering and what is not yet written, as a conversation keeps them. */
  conv: ConversationState;
}

/**
 * One recall a supergroup keeps: [seq, sender, send time] of the recalled
 * message, then the recall's own time (absent in recalls kept before it was)
 * and `true` when the message never counted as unread (`isUnreadable: false`;
 * such recalls were not kept before either).
 */
export type KeptRecall = [seq: number, from: string, time: number, at?: number, quiet?: true];

/**
 * Recalls a supergroup keeps: for its sessions' unread counts (an older one
 * past every read pointer it misses counts on) and for the recall notices of
 * devices that were offline (an older one reaches none of them).
 */
export const KEPT_RECALLS = 256;

/** Keeps a supergroup's recall of message `seq`, made at `at`; `quiet` when the message never counted as unread. */
export function keepRecall(state: TeamState, seq: number, from: string, time: number, at?: number, quiet?: boolean): void {
  if (state.recalls.some(([s]) => s === seq)) return;
  const kept: KeptRecall = [seq, from, time];
  if (at !== undefined || quiet === true) kept[3] = at ?? time;
  if (quiet === true) kept[4] = true;
  state.recalls.push(kept);
  if (state.recalls.length > KEPT_RECALLS) state.recalls.splice(0, state.recalls.length - KEPT_RECALLS);
}

export function pendingKey(what: PendingRow['what'], account: string): string {
  return `${what}:${account}`;
}

/** Settings read when deciding: the member limit (`TEAM_FULL` past it). One value per process. */
export interface TeamLimits {
  maxMembers: number;
}

// ---- Reading the state --------------------------------------------------------

/** Files a current member's row in the alert sets (every row put goes through here, at load too). */
export function keepAlert(state: TeamState, row: MemberRow): void {
  if (row.muteNotiType === '1') state.alertOff.add(row.account);
  else state.alertOff.delete(row.account);
  if (row.muteNotiType === '2') state.alertHigh.add(row.account);
  else state.alertHigh.delete(row.account);
}

function dropAlert(state: TeamState, account: string): void {
  state.alertOff.delete(account);
  state.alertHigh.delete(account);
}

/** The members whose alert setting silences a message of `from` (never `from`): costs the silenced members, not all members. */
export function silencedBy(state: TeamState, from: string): string[] {
  const out: string[] = [];
  for (const a of state.alertOff) if (a !== from) out.push(a);
  const sender = state.members.get(from);
  if (sender === undefined || !isManagerOrOwner(sender)) for (const a of state.alertHigh) if (a !== from) out.push(a);
  return out;
}

/** The group, or NOT_FOUND when it was never created or was dismissed. */
export function liveTeam(state: TeamState): Team {
  if (state.team === undefined || !state.team.valid) throw new ParleyError('NOT_FOUND', `no ${groupWord(state.kind)} ${state.id}`);
  return state.team;
}

export function groupWord(kind: TeamKind): string {
  return kind === 'team' ? 'team' : 'supergroup';
}

/** The caller's member row, or NOT_MEMBER. */
export function memberOf(state: TeamState, account: string): MemberRow {
  liveTeam(state);
  const row = state.members.get(account);
  if (row === undefined) throw new ParleyError('NOT_MEMBER', `${account} is not a member of ${groupWord(state.kind)} ${state.id}`);
  return row;
}

export function isManagerOrOwner(row: TeamMember): boolean {
  return row.type === 'owner' || row.type === 'manager';
}

/** The wire record of a member row. */
export function memberView(row: MemberRow): TeamMember {
  const { base: _base, ...member } = row;
  return member;
}

/** Whether a recalled message of `from` sent at `time` counted as unread for member `row`: another's, sent once it was a member. */
export function recallCountedFor(row: MemberRow, from: string, time: number): boolean {
  return from !== row.account && time >= row.joinTime;
}

/** Messages of others up to now that never count as unread for `account`: those before it joined and the quiet ones. */
export function quietFor(state: TeamState, row: MemberRow): number {
  return row.base + state.quietTotal - (state.quietBy.get(row.account) ?? 0);
}

/** The unread base of an account joining now: what of the history so far would otherwise count for it. */
function baseAtJoin(state: TeamState, account: string): number {
  return state.conv.lastSeq - (state.conv.sent.get(account) ?? 0) - (state.quietTotal - (state.quietBy.get(account) ?? 0));
}

/** Who may post: members; under a member mute or a whole-group mute (owner and managers aside), MUTED. */
export function checkPoster(state: TeamState, account: string): MemberRow {
  const row = memberOf(state, account);
  if (row.mute) throw new ParleyError('MUTED', `${account} is muted in ${groupWord(state.kind)} ${state.id}`);
  if (state.team!.mute && !isManagerOrOwner(row)) throw new ParleyError('MUTED', `${groupWord(state.kind)} ${state.id} is muted: only its owner and managers may post`);
  return row;
}

// ---- Building changes ---------------------------------------------------------

/** Collects the events of one change, in order: rows first, the notice last. */
export class Change {
  readonly events: TeamEvent[] = [];
  private team: Team | undefined;
  private readonly put = new Map<string, MemberRow>();
  private readonly removed = new Set<string>();
  private readonly pendingRows: PendingRow[] = [];
  readonly frames: NoticeFrame[] = [];
  readonly sysmsgs: { to: string; msg: TeamSysMsg }[] = [];
  readonly index: IndexUpdate[] = [];
  private readonly state: TeamState;
  readonly now: number;
  /** Members once this change is done, kept as rows are put and removed (never by listing the members). */
  private count: number;

  constructor(state: TeamState, now: number) {
    this.state = state;
    this.now = now;
    this.team = state.team === undefined ? undefined : { ...state.team };
    this.count = state.members.size;
  }

  /** How many members there are once this change is done. */
  get memberCount(): number {
    return this.count;
  }

  /** The group as this change leaves it (so far). */
  get current(): Team {
    return this.team!;
  }

  setTeam(team: Team): void {
    this.team = team;
  }

  updateTeam(fields: Partial<Team>): Team {
    this.team = { ...this.team!, ...fields, updateTime: this.now };
    return this.team;
  }

  /** The member as this change leaves it, undefined when not (or no longer) one. */
  member(account: string): MemberRow | undefined {
    if (this.removed.has(account)) return undefined;
    return this.put.get(account) ?? this.state.members.get(account);
  }

  /** The accounts that are members once this change is done. */
  memberAccounts(): string[] {
    const out = new Set<string>();
    for (const a of this.state.members.keys()) if (!this.removed.has(a)) out.add(a);
    for (const a of this.put.keys()) out.add(a);
    return [...out];
  }

  putMember(row: MemberRow): void {
    if (this.member(row.account) === undefined) this.count++;
    this.removed.delete(row.account);
    this.put.set(row.account, row);
  }

  /** Adds `account` as a member of `type` (invited by `invitor`, empty when on its own); TEAM_FULL past the limit. */
  join(account: string, type: TeamMemberType, invitor: string, limits: TeamLimits): MemberRow {
    const row: MemberRow = {
      teamId: this.state.id,
      account,
      type,
      muteNotiType: '0',
      mute: false,
      invitorAccid: invitor,
      joinTime: this.now,
      updateTime: this.now,
      valid: true,
      base: baseAtJoin(this.state, account),
    };
    this.putMember(row);
    if (this.count > limits.maxMembers) {
      throw new ParleyError('TEAM_FULL', `${groupWord(this.state.kind)} ${this.state.id} is full: at most ${limits.maxMembers} members`);
    }
    return row;
  }

  removeMember(account: string): void {
    if (this.member(account) !== undefined) this.count--;
    this.put.delete(account);
    if (this.state.members.has(account)) this.removed.add(account);
  }

  putPending(row: PendingRow): void {
    this.pendingRows.push(row);
  }

  /** Sends `ev` to the online devices of `accounts`. */
  tell(accounts: readonly string[], ev: string, d: unknown): void {
    if (accounts.length > 0) this.frames.push({ accounts: [...new Set(accounts)], ev, d });
  }

  /** Sends `ev` to the online devices of every member once the change is done (but `except`), and of `also`. */
  tellMembers(ev: string, d: unknown, opts: { except?: string; also?: readonly string[] } = {}): void {
    const f: NoticeFrame = { accounts: [...new Set(opts.also ?? [])], ev, d, members: true };
    if (opts.except !== undefined) f.except = opts.except;
    this.frames.push(f);
  }

  sysmsg(to: string, msg: TeamSysMsg): void {
    this.sysmsgs.push({ to, msg });
  }

  /** The events of the change; `extra` (a notification message) goes after the rows, before the notice. */
  finish(extra: TeamEvent[] = []): TeamEvent[] {
    const out: TeamEvent[] = [];
    const team = this.team;
    let version = this.state.version;
    const before = this.state.team;
    if (team !== undefined && team.memberNum !== this.count) team.memberNum = this.count;
    const joined = [...this.put.keys()].filter((a) => !this.state.members.has(a));
    // Any change to the member rows (a join, a departure, a role, a mute, a member's own settings) moves the
    // member list's time, so a device's `teams` cursor sees the group changed and its next login sync sends it.
    if (team !== undefined && (this.put.size > 0 || this.removed.size > 0)) team.memberUpdateTime = this.now;
    const teamChanged = team !== undefined && (before === undefined || JSON.stringify(team) !== JSON.stringify(before));
    if (teamChanged) {
      version++;
      out.push({ t: 'team', team: team!, version });
    }
    if (this.put.size > 0 || this.removed.size > 0) out.push({ t: 'members', put: [...this.put.values()], removed: [...this.removed] });
    if (this.pendingRows.length > 0) out.push({ t: 'pending', rows: this.pendingRows });
    out.push(...extra);
    // Index: every member learns the group as it now is when it changed; joiners always; leavers that they left.
    // A supergroup tells every member only of profile changes: its member count and member time move with every
    // join, and its members are paged on demand, not sent by the login sync, so a join costs the joiners alone.
    if (team !== undefined) {
      const told = new Set<string>();
      const everyone = teamChanged && (this.state.kind === 'team' || before === undefined || profileChanged(before, team));
      if (everyone) for (const a of this.memberAccounts()) told.add(a);
      for (const a of joined) told.add(a);
      for (const a of told) this.index.push(team.valid ? { account: a, team } : { account: a, time: this.now });
      for (const a of this.removed) this.index.push({ account: a, time: this.now });
    }
    if (this.frames.length > 0 || this.sysmsgs.length > 0 || this.index.length > 0) {
      out.push({ t: 'notice', frames: this.frames, sysmsgs: this.sysmsgs, index: this.index, version });
    }
    return out;
  }
}

/** Whether the group changed beyond its member count and member time. */
function profileChanged(before: Team, after: Team): boolean {
  const { memberNum: _a, memberUpdateTime: _b, ...x } = before;
  const { memberNum: _c, memberUpdateTime: _d, ...y } = after;
  return JSON.stringify(x) !== JSON.stringify(y);
}

// ---- Applying -----------------------------------------------------------------

export function applyChange(state: TeamState, event: TeamChangeEvent): void {
  switch (event.t) {
    case 'team':
      state.team = event.team;
      state.version = event.version;
      return;
    case 'members':
      for (const row of event.put) {
        state.members.set(row.account, row);
        state.former.delete(row.account);
        keepAlert(state, row);
      }
      for (const a of event.removed) {
        const row = state.members.get(a);
        state.members.delete(a);
        dropAlert(state, a);
        if (row !== undefined) state.former.set(a, { ...row, valid: false });
      }
      return;
    case 'pending':
      for (const row of event.rows) state.pending.set(pendingKey(row.what, row.account), row);
      return;
    case 'notice':
      return;
  }
}
