/**
 * Supergroup fan-out on this edge. A supergroup's messages travel once on
 * its subject (`groupSubject`); this edge subscribes to it while at least
 * one logged-in socket of a member is here (reference-counted by member
 * account), and writes each one to the member sockets with one uWS topic
 * publish. So a message costs one Bus message per edge with members online,
 * however many members.
 *
 * An edge learns an account's supergroups at login (the team index, read by
 * the login sync) and each change from a `groups` control on the account's
 * delivery subject, which the group sends before the message that
 * announces the change: every device on every edge subscribes or drops at
 * once. A joiner's sockets start at its join notice: when this edge already
 * holds the group's subscription and has not passed that seq, live; else,
 * once a new Bus subscription is in place, the group's messages from that
 * seq are read from its actor, then the live ones after them.
 *
 * Each delivery names its seq: the edge writes each seq once and in order
 * (a repeat, after a Bus reconnect or an actor's replay, is dropped). The
 * sender's own devices get the message as `flow: out` instead, and its
 * sending socket nothing (it got the reply).
 *
 * Each message also updates every member's session on its devices
 * (`updatesessions`: the message as `lastMsg`, the unread count): the edge
 * keeps each member account's session as its actor last sent it (in the
 * login sync, or in an `updatesessions` after a read or a reset) and counts
 * the messages it delivered since, so no member's session is written per
 * message.
 *
 * Several deliveries can reach the edge in one tick. Sockets that step off a
 * topic for one delivery keep what the topic got before it (the anchor
 * topic), and frames written to single sockets go out at once, so a topic
 * publish after them in the tick cannot overtake them.
 */
import type { ActorClient } from '../engine/actor/call.ts';
import type { Bus, BusMessage, BusSubscription } from '../engine/bus/bus.ts';
import type { GroupDelivery, GroupsControl } from '../engine/envelope.ts';
import { decode, encode, encodeArrayOfRaw, encodeMapOfRaw } from '../engine/protocol/codec.ts';
import type { Message, Session } from '../engine/protocol/methods.ts';
import { superTeamAddress } from '../engine/protocol/methods/teams.ts';
import { groupSubject, userAddress } from '../engine/subjects.ts';
import type { TouchArgs } from '../actors/user/calls.ts';
import { logger } from '../engine/logger.ts';
import type { Metrics } from '../engine/metrics.ts';
import type { RangeReply } from '../actors/conversation/calls.ts';
import type { Conn, Sockets } from './connection.ts';
import type { Deliveries } from './delivery.ts';
import type { Frames } from './frames.ts';
import type { TemplatedApp } from './uws.ts';
import { isPlainObject } from './wire.ts';

/**
 * A topic every member socket joins with its first group and that nothing is
 * published to. uWS frees a socket's topic state when it leaves its last
 * topic, and with it a message published to that topic earlier in the tick
 * and not yet written: a socket stepping off its only group's topic for one
 * delivery would lose the one before. Holding this topic keeps the state.
 */
const ANCHOR_TOPIC = 'parley.grp-anchor';

/** Messages per group kept for carrying a session read before them forward. */
const RECENT = 64;
const UPDATE_SESSIONS = encode('updatesessions');
/** The first bytes of every `updatesessions` frame an account's actor sends (`{ev: 'updatesessions', d}`). */
const UPDATE_SESSIONS_HEAD = Uint8Array.from([0x82, 0xa2, 0x65, 0x76, ...UPDATE_SESSIONS]);

/** Whether frame `f` is an `updatesessions` frame. */
export function isUpdateSessions(f: Uint8Array): boolean {
  if (f.length < UPDATE_SESSIONS_HEAD.length) return false;
  for (let i = 0; i < UPDATE_SESSIONS_HEAD.length; i++) if (f[i] !== UPDATE_SESSIONS_HEAD[i]) return false;
  return true;
}

/** Groups read at once when bringing an account's supergroup sessions up to date. */
const REFRESH_CONCURRENCY = 8;
/** Messages read per page when a joiner catches up from its join notice. */
const CATCH_UP_PAGE = 100;
/** Most pages read for one catch-up: past it the joiner starts live and fetches the rest by history. */
const CATCH_UP_PAGES = 50;

/** Calls an actor for a session refresh (the login sync's held read, or the edge's own call). */
export type SessionRead = (address: string, m: string, a: unknown) => Promise<unknown>;

/** One member account with sockets on this edge. */
interface Member {
  readonly account: string;
  readonly conns: Conn[];
  /** While catching up from its join notice: live deliveries held until the pages are written. */
  held: GroupDelivery[] | undefined;
  /** The account's session of the group as this edge keeps it up to date; undefined until known. */
  session: SessionMirror | undefined;
}

/**
 * A member account's supergroup session, kept by the edge: its fields as the
 * account's actor last sent them (encoded), and the unread count carried
 * forward over each message the edge delivered since. So every message gives
 * the member's devices `updatesessions` without a write per member.
 */
interface SessionMirror {
  /** `id`, `scene`, `to`, `isTop` and, when set, `ext` and `topCustom`, encoded. */
  readonly fixed: ReadonlyArray<readonly [string, Uint8Array]>;
  unread: number;
  /** The highest seq `unread` counts up to. */
  seq: number;
}

/** One message the group delivered, as the unread counts need it. */
interface Counted {
  readonly seq: number;
  readonly from: string;
  /** False for a message sent with `isUnreadable: false` (notifications among them), and once it is known recalled. */
  unreadable: boolean;
  /** Accounts it was not for (the delivery's `n`). */
  readonly skip: readonly string[] | undefined;
}

/** One supergroup with members on this edge. */
interface Group {
  readonly teamId: string;
  readonly topic: string;
  readonly sub: BusSubscription;
  readonly members: Map<string, Member>;
  /** The highest seq this edge received (0: none yet). */
  lastSeq: number;
  /** The first seq this edge received since it subscribed (0: none yet). */
  firstSeq: number;
  /** The last `RECENT` messages delivered, oldest first: what a session read before them has not counted. */
  readonly recent: Counted[];
  /** Settles once the Bus subscription is in place. */
  readonly ready: Promise<void>;
}

/** Counts of the fan-out, for tests and the bench. */
export interface GroupStats {
  /** Supergroups subscribed on the Bus. */
  groups: number;
  /** Member accounts held, over all groups. */
  members: number;
  /** Bus messages received on group subjects since start. */
  received: number;
  /** Frames written to sockets from them (topic subscribers reached, plus the senders' devices). */
  written: number;
}

/** The fixed fields of a supergroup session not yet read from its account's actor. */
function sessionFields(teamId: string): Array<[string, Uint8Array]> {
  return [['id', encode(`superTeam-${teamId}`)], ['scene', encode('superTeam')], ['to', encode(teamId)], ['isTop', encode(false)]];
}

/** Whether message `m` adds to `account`'s unread count: another's, counted, and meant for it. */
function countsFor(m: Counted, account: string): boolean {
  return m.unreadable && m.from !== account && m.skip?.includes(account) !== true;
}

export class GroupFanout {
  private readonly bus: Bus;
  private readonly frames: Frames;
  private readonly sockets: Sockets;
  private readonly actors: ActorClient;
  private readonly deliveries: Deliveries;
  private readonly app: () => TemplatedApp | undefined;
  private readonly metrics: Metrics | undefined;
  /** By group subject. */
  private readonly groups = new Map<string, Group>();
  /** Supergroups of each account held here, by account. */
  private readonly byAccount = new Map<string, Set<string>>();
  private received = 0;
  private written = 0;
  /**
   * For each socket in its login sync, by group: the highest seq the edge had
   * received when the socket joined the group's topic (so every later seq
   * reaches it live). Dropped with the socket.
   */
  private readonly attachedAt = new WeakMap<Conn, Map<string, number>>();

  constructor(bus: Bus, frames: Frames, sockets: Sockets, deliveries: Deliveries, actors: ActorClient, app: () => TemplatedApp | undefined, metrics?: Metrics) {
    this.bus = bus;
    this.deliveries = deliveries;
    this.frames = frames;
    this.sockets = sockets;
    this.actors = actors;
    this.app = app;
    this.metrics = metrics;
  }

  stats(): GroupStats {
    let members = 0;
    for (const g of this.groups.values()) members += g.members.size;
    return { groups: this.groups.size, members, received: this.received, written: this.written };
  }

  /**
   * A logged-in socket's supergroups, from the login sync: it gets their
   * messages from now on. Resolves once every new Bus subscription is in
   * place (a message published after that reaches the socket).
   */
  async attach(conn: Conn, teamIds: readonly string[]): Promise<void> {
    if (conn.closed || conn.state !== 'ready') return;
    const pending = new Set<Promise<void>>();
    let at = this.attachedAt.get(conn);
    for (const teamId of new Set(teamIds)) {
      const { group } = this.groupOf(teamId);
      const member = this.memberOf(group, conn.account);
      if (member.conns.includes(conn)) continue;
      member.conns.push(conn);
      if (member.held === undefined) this.joinTopic(conn, group.topic);
      if (at === undefined) this.attachedAt.set(conn, (at = new Map()));
      at.set(teamId, group.lastSeq);
      // A subscription another socket just made may not be in place yet either.
      pending.add(group.ready);
    }
    if (pending.size > 0) await Promise.all(pending);
  }

  /**
   * The first seq of `teamId` the socket gets live since its login sync
   * attached it (undefined: none has reached this edge yet, so every message
   * a read answers now came before the subscription). The login sync's
   * offline messages stop below it, so none arrives twice. A reply to a read
   * made after `attach` comes after every delivery published before that
   * read's turn (one publisher, one subscriber connection, in order), so what
   * the edge has received when the page arrives is what went out live.
   */
  liveFrom(conn: Conn, teamId: string): number | undefined {
    const at = this.attachedAt.get(conn)?.get(teamId);
    if (at === undefined) return undefined;
    const group = this.groups.get(groupSubject(teamId));
    if (group === undefined || group.members.get(conn.account)?.conns.includes(conn) !== true) return undefined;
    if (at > 0) return at + 1;
    return group.firstSeq > 0 ? group.firstSeq : undefined;
  }

  /**
   * The socket's login sync wrote its sessions: its offline messages are
   * written, and each of its supergroups whose session this edge does not
   * know yet (unchanged since the device's cursor, so not in the sync) is
   * read once from the account's actor.
   */
  async endLoginWindow(conn: Conn, read: SessionRead): Promise<void> {
    this.attachedAt.delete(conn);
    for (const teamId of [...(this.byAccount.get(conn.account) ?? [])]) {
      const member = this.groups.get(groupSubject(teamId))?.members.get(conn.account);
      if (member === undefined || member.session !== undefined || conn.closed) continue;
      let session: unknown;
      try {
        session = ((await read(userAddress(conn.account), 'getServerSession', { scene: 'superTeam', to: teamId })) as { session?: unknown } | undefined)?.session;
      } catch {
        // No session yet (the group never showed this account a message): nothing unread.
        session = { id: `superTeam-${teamId}`, scene: 'superTeam', to: teamId, unread: 0, isTop: false };
      }
      this.noteSessions(conn.account, [session]);
    }
  }

  /** The supergroups whose messages reach `conn` here (those its login sync attached, and those joined since). */
  teamsOf(conn: Conn): string[] {
    const out: string[] = [];
    for (const teamId of this.byAccount.get(conn.account) ?? []) {
      if (this.groups.get(groupSubject(teamId))?.members.get(conn.account)?.conns.includes(conn) === true) out.push(teamId);
    }
    return out;
  }

  /** Sessions the account's actor sent (the login sync's, or an `updatesessions`): its supergroup sessions here start from them. */
  noteSessions(account: string, sessions: unknown): void {
    if (!Array.isArray(sessions) || !this.byAccount.has(account)) return;
    for (const s of sessions) {
      if (!isPlainObject(s) || s.scene !== 'superTeam' || typeof s.to !== 'string' || typeof s.unread !== 'number') continue;
      const group = this.groups.get(groupSubject(s.to));
      const member = group?.members.get(account);
      if (group === undefined || member === undefined) continue;
      const last = isPlainObject(s.lastMsg) && typeof s.lastMsg.seq === 'number' ? s.lastMsg.seq : 0;
      const fixed: Array<[string, Uint8Array]> = [['id', encode(s.id)], ['scene', encode('superTeam')], ['to', encode(s.to)], ['isTop', encode(s.isTop === true)]];
      if (s.ext !== undefined) fixed.push(['ext', encode(s.ext)]);
      if (s.topCustom !== undefined) fixed.push(['topCustom', encode(s.topCustom)]);
      // What this edge delivered after the session was read, the session has not counted yet.
      let unread = s.unread;
      let seq = last;
      for (const m of group.recent) {
        if (m.seq <= last) continue;
        if (countsFor(m, account)) unread++;
        seq = m.seq;
      }
      member.session = { fixed, unread, seq: Math.max(seq, last) };
    }
  }

  /** An `updatesessions` frame on the account's delivery subject: its supergroup sessions, noted. */
  noteSessionsFrame(account: string, f: Uint8Array): void {
    if (!this.byAccount.has(account)) return;
    try {
      const frame = decode(f) as { d?: unknown };
      this.noteSessions(account, frame?.d);
    } catch (err) {
      logger.debug('undecodable updatesessions frame', { account, err });
    }
  }

  /**
   * Brings the account's supergroup sessions up to date from each group it
   * holds here (a touch when the group has news for it), before they are
   * read or reset: a supergroup message writes no member's session.
   */
  async refreshSessions(conn: Conn, read: SessionRead = (address, m, a) => this.actors.call(address, m, a, conn.caller)): Promise<void> {
    const teams = [...(this.byAccount.get(conn.account) ?? [])];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < teams.length) {
        const teamId = teams[next++]!;
        const touch = (await read(superTeamAddress(teamId), 'sessionOf', { viewer: conn.account })) as TouchArgs | null;
        if (touch === null || typeof touch !== 'object') continue;
        this.noteRecalled(teamId, touch.recalled);
        await read(userAddress(conn.account), 'touch', touch);
      }
    };
    await Promise.all(Array.from({ length: Math.min(REFRESH_CONCURRENCY, teams.length) }, () => worker()));
  }

  /** Messages of the group known recalled count for nobody from here on (a session read after the recall no longer holds them). */
  private noteRecalled(teamId: string, seqs: readonly number[] | undefined): void {
    if (seqs === undefined || seqs.length === 0) return;
    const group = this.groups.get(groupSubject(teamId));
    if (group === undefined) return;
    const recalled = new Set(seqs);
    for (const m of group.recent) if (recalled.has(m.seq)) m.unreadable = false;
  }

  /** A socket closed: it leaves its groups; the last member socket of a group drops its Bus subscription. */
  detach(conn: Conn): void {
    const teams = this.byAccount.get(conn.account);
    if (teams === undefined) return;
    for (const teamId of [...teams]) {
      const group = this.groups.get(groupSubject(teamId));
      const member = group?.members.get(conn.account);
      if (group === undefined || member === undefined) continue;
      const at = member.conns.indexOf(conn);
      if (at === -1) continue;
      member.conns.splice(at, 1);
      if (member.conns.length === 0) this.dropMember(group, conn.account);
    }
  }

  /** A change to `account`'s supergroups, from its delivery subject: applied to its logged-in sockets here. */
  apply(account: string, c: GroupsControl): void {
    for (const teamId of c.remove ?? []) {
      const group = this.groups.get(groupSubject(teamId));
      if (group === undefined || !group.members.has(account)) continue;
      for (const conn of group.members.get(account)!.conns) this.unsubscribeSocket(conn, group.topic);
      this.dropMember(group, account);
    }
    if (c.add === undefined || c.add.length === 0) return;
    const conns = this.readyConns(account);
    if (conns.length === 0) return;
    for (const pair of c.add) {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'number') continue;
      const [teamId, from] = pair;
      const existing = this.groups.get(groupSubject(teamId));
      if (existing?.members.has(account) === true) continue;
      const { group, created } = this.groupOf(teamId);
      const member = this.memberOf(group, account);
      member.conns.push(...conns);
      // A joiner has nothing unread at its join (the group counts its history before it for nothing), and counts from there.
      member.session ??= { fixed: sessionFields(teamId), unread: 0, seq: from - 1 };
      // A subscription that has had no live message yet may have been made after the join notice was
      // published (the first member's control of the same batch made it): such joiners catch up too.
      if (!created && group.lastSeq < from && group.lastSeq > 0) {
        // The join notice has not reached this edge yet: it and what follows arrive live.
        for (const conn of conns) this.joinTopic(conn, group.topic);
        continue;
      }
      member.held = [];
      void this.catchUp(group, member, from);
    }
  }

  /** Drops every Bus subscription (the edge is stopping). */
  stop(): void {
    for (const g of this.groups.values()) g.sub.unsubscribe();
    this.groups.clear();
    this.byAccount.clear();
  }

  // ---- internals -------------------------------------------------------------------------

  private readyConns(account: string): Conn[] {
    // The account's sockets that finished their login; those still logging in learn their groups from the sync.
    return this.deliveries.connsOf(account).filter((conn) => conn.state === 'ready' && !conn.closed);
  }

  private groupOf(teamId: string): { group: Group; created: boolean } {
    const subject = groupSubject(teamId);
    const held = this.groups.get(subject);
    if (held !== undefined) return { group: held, created: false };
    const sub = this.bus.subscribe(subject, this.onGroupMessage);
    const ready = this.bus.flush().catch((err: unknown) => logger.warn('group subscription not confirmed', { teamId, err }));
    const group: Group = { teamId, topic: subject, sub, members: new Map(), lastSeq: 0, firstSeq: 0, recent: [], ready };
    this.groups.set(subject, group);
    return { group, created: true };
  }

  private memberOf(group: Group, account: string): Member {
    let member = group.members.get(account);
    if (member === undefined) {
      group.members.set(account, (member = { account, conns: [], held: undefined, session: undefined }));
      let teams = this.byAccount.get(account);
      if (teams === undefined) this.byAccount.set(account, (teams = new Set()));
      teams.add(group.teamId);
    }
    return member;
  }

  private dropMember(group: Group, account: string): void {
    group.members.delete(account);
    const teams = this.byAccount.get(account);
    teams?.delete(group.teamId);
    if (teams?.size === 0) this.byAccount.delete(account);
    if (group.members.size === 0) {
      group.sub.unsubscribe();
      this.groups.delete(group.topic);
    }
  }

  /** A socket's first subscription to a group's topic: with the anchor, so that stepping off it later loses nothing. */
  private joinTopic(conn: Conn, topic: string): void {
    if (conn.closed || conn.ws === undefined) return;
    try {
      conn.ws.subscribe(ANCHOR_TOPIC);
    } catch (err) {
      logger.debug('topic subscribe on a closing socket', { conn: conn.ref, err });
    }
    this.subscribeSocket(conn, topic);
  }

  private subscribeSocket(conn: Conn, topic: string): void {
    if (conn.closed || conn.ws === undefined) return;
    try {
      conn.ws.subscribe(topic);
    } catch (err) {
      logger.debug('topic subscribe on a closing socket', { conn: conn.ref, err });
    }
  }

  private unsubscribeSocket(conn: Conn, topic: string): void {
    if (conn.closed || conn.ws === undefined) return;
    try {
      conn.ws.unsubscribe(topic);
    } catch (err) {
      logger.debug('topic unsubscribe on a closing socket', { conn: conn.ref, err });
    }
  }

  /** Writes a joiner the group's messages from `from` (read from its actor), then what arrived meanwhile, then goes live. */
  private async catchUp(group: Group, member: Member, from: number): Promise<void> {
    let upTo = from - 1;
    try {
      await group.ready;
      let seq = from;
      for (let page = 0; page < CATCH_UP_PAGES && this.isHeld(group, member); page++) {
        const r = (await this.actors.call(superTeamAddress(group.teamId), 'range', { viewer: member.account, fromSeq: seq, limit: CATCH_UP_PAGE }, undefined)) as Partial<RangeReply>;
        const msgs = Array.isArray(r?.msgs) ? r.msgs : [];
        for (const m of msgs) {
          if (typeof m.seq !== 'number' || m.seq <= upTo) continue;
          const f = encode({ ev: 'msg', d: m });
          for (const conn of member.conns) this.write(conn, f);
          upTo = m.seq;
          this.count(member, { seq: m.seq, from: m.from, unreadable: m.isUnreadable !== false, skip: undefined });
        }
        if (typeof r?.next !== 'number') break;
        seq = r.next;
      }
    } catch (err) {
      logger.warn('supergroup catch-up failed; the joiner goes live from here', { teamId: group.teamId, account: member.account, err });
    }
    if (!this.isHeld(group, member)) return;
    const held = member.held ?? [];
    member.held = undefined;
    const skip = -1;
    for (const d of held) {
      if (d.s !== undefined && d.s <= upTo) continue;
      if (d.n?.includes(member.account) === true) continue;
      const mine = d.a === member.account;
      const own = mine ? this.sockets.numberOf(d.x) : skip;
      const f = mine ? (d.o ?? d.f) : d.fq !== undefined && d.q?.includes(member.account) === true ? d.fq : d.f;
      for (const conn of member.conns) if (conn.n !== own) this.write(conn, f);
    }
    // What arrived live meanwhile counts too; the next message updates the session on the devices.
    for (const m of group.recent) this.count(member, m);
    for (const conn of member.conns) this.joinTopic(conn, group.topic);
  }

  /** Carries the member's session over message `m` (once per seq, in order). */
  private count(member: Member, m: Counted): void {
    const s = member.session;
    if (s === undefined || m.seq <= s.seq) return;
    if (countsFor(m, member.account)) s.unread++;
    s.seq = m.seq;
  }

  private isHeld(group: Group, member: Member): boolean {
    return this.groups.get(group.topic) === group && group.members.get(member.account) === member && member.conns.some((c) => !c.closed);
  }

  /** Writes one frame to one socket at once: a topic publish later in the tick must not overtake it. */
  private write(conn: Conn, f: Uint8Array): void {
    if (conn.closed || conn.state !== 'ready') return;
    this.frames.sendBytesNow(conn, f);
    this.written++;
    if (this.metrics !== undefined) this.metrics.groupDeliveries++;
  }

  /**
   * A notice that leaves some members out (its operator, the accounts that
   * just joined and got it on their own subject), written socket by socket:
   * stepping sockets off the topic for it could cost them a message published
   * to the topic just before, which uWS may still hold.
   */
  private writeEach(group: Group, d: GroupDelivery): void {
    const skip = new Set(d.n);
    for (const member of group.members.values()) {
      if (member.held !== undefined || skip.has(member.account)) continue;
      for (const conn of member.conns) this.write(conn, d.f);
    }
  }

  /** The one handler of every group subject. */
  private readonly onGroupMessage = (msg: BusMessage): void => {
    try {
      const group = this.groups.get(msg.subject);
      if (group === undefined) return;
      this.received++;
      if (this.metrics !== undefined) this.metrics.groupBusMessages++;
      let d: Partial<GroupDelivery>;
      try {
        d = decode(msg.data) as Partial<GroupDelivery>;
      } catch (err) {
        logger.warn('undecodable group delivery', { teamId: group.teamId, err });
        return;
      }
      if (!isPlainObject(d) || !(d.f instanceof Uint8Array) || typeof d.a !== 'string') {
        logger.warn('group delivery without a frame or a sender', { teamId: group.teamId });
        return;
      }
      if (typeof d.s === 'number') {
        // Each seq once, in order: a repeat (a Bus reconnect, an actor's replay) is dropped.
        if (d.s <= group.lastSeq) return;
        group.lastSeq = d.s;
        if (group.firstSeq === 0) group.firstSeq = d.s;
      }
      this.fanOut(group, d as GroupDelivery);
    } catch (err) {
      logger.error('group fan-out failed', { subject: msg.subject, err });
    }
  };

  /**
   * One topic publish to the group's member sockets. The sender's sockets and
   * the accounts the delivery leaves out step off the topic for it; the
   * sender's devices then get their own frame (flow `out`), all but the socket
   * that sent it.
   */
  private fanOut(group: Group, d: GroupDelivery): void {
    for (const member of group.members.values()) if (member.held !== undefined) member.held.push(d);
    if (d.s === undefined && d.n !== undefined && d.n.length > 0) {
      this.writeEach(group, d);
      return;
    }
    const aside: Conn[] = [];
    const sender = group.members.get(d.a);
    const senderLeftOut = d.n?.includes(d.a) === true;
    if (sender !== undefined && sender.held === undefined) aside.push(...sender.conns);
    for (const account of d.n ?? []) {
      const m = group.members.get(account);
      if (m !== undefined && m !== sender && m.held === undefined) aside.push(...m.conns);
    }
    // Members its alert setting silences step off too, and get the frame marked `isMuted` of their own.
    const silenced: Conn[] = [];
    if (d.fq !== undefined) {
      for (const account of d.q ?? []) {
        const m = group.members.get(account);
        if (m === undefined || m === sender || m.held !== undefined || d.n?.includes(account) === true) continue;
        aside.push(...m.conns);
        silenced.push(...m.conns);
      }
    }
    const app = this.app();
    if (app === undefined) return;
    for (const conn of aside) this.unsubscribeSocket(conn, group.topic);
    const reached = app.numSubscribers(group.topic);
    if (reached > 0) app.publish(group.topic, d.f, true);
    this.written += reached;
    if (this.metrics !== undefined) this.metrics.groupDeliveries += reached;
    for (const conn of aside) this.subscribeSocket(conn, group.topic);
    for (const conn of silenced) this.write(conn, d.fq!);
    if (sender !== undefined && !senderLeftOut && sender.held === undefined) {
      const own = this.sockets.numberOf(d.x);
      const f = d.o ?? d.f;
      for (const conn of sender.conns) if (conn.n !== own) this.write(conn, f);
    }
    if (d.s !== undefined) this.updateSessions(group, d);
  }

  /**
   * Each member's session after message `d`: its newest message and unread
   * count, written to the member's devices as `updatesessions` (the
   * sender's sending socket excepted, as for the message).
   */
  private updateSessions(group: Group, d: GroupDelivery): void {
    let msg: Message;
    try {
      msg = (decode(d.f) as { d: Message }).d;
    } catch {
      return;
    }
    if (!isPlainObject(msg) || typeof msg.seq !== 'number') return;
    const counted: Counted = { seq: msg.seq, from: d.a, unreadable: msg.isUnreadable !== false, skip: d.n };
    group.recent.push(counted);
    if (group.recent.length > RECENT) group.recent.shift();
    const time = encode(typeof msg.time === 'number' ? msg.time : Date.now());
    const lastMsg = { in: undefined as Uint8Array | undefined, out: undefined as Uint8Array | undefined, muted: undefined as Uint8Array | undefined };
    const viewOf = (kind: 'in' | 'out' | 'muted'): Uint8Array => {
      const bytes = kind === 'in' ? d.f : kind === 'out' ? (d.o ?? d.f) : d.fq!;
      return (lastMsg[kind] ??= encode((decode(bytes) as { d: Message }).d));
    };
    const quiet = d.q === undefined || d.fq === undefined ? undefined : new Set(d.q);
    const own = this.sockets.numberOf(d.x);
    for (const member of group.members.values()) {
      const s = member.session;
      if (s === undefined || member.held !== undefined || d.n?.includes(member.account) === true) continue;
      if (counted.seq <= s.seq) continue;
      this.count(member, counted);
      const kind = member.account === d.a ? 'out' : quiet?.has(member.account) === true ? 'muted' : 'in';
      const session = encodeMapOfRaw([...s.fixed, ['unread', encode(s.unread)], ['updateTime', time], ['lastMsg', viewOf(kind)]]);
      const f = encodeMapOfRaw([['ev', UPDATE_SESSIONS], ['d', encodeArrayOfRaw([session])]]);
      // With the socket's other frames of the tick: a message published after it may come first, and its own update follows.
      // Not to the sending socket: its reply brings the message, and the SDK would take a session's newer lastMsg as a live one.
      for (const conn of member.conns) if (!(kind === 'out' && conn.n === own) && !conn.closed && conn.state === 'ready') this.frames.sendBytes(conn, f);
    }
  }
}
