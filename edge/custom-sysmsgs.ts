/**
 * `sendCustomSysMsg`, answered by the edge. An online-only notification
 * (the default, fit for "typing…") is published straight to the
 * recipient's delivery subject: whichever edges hold its sockets send it,
 * and when none does it is gone, with no write anywhere. Otherwise the
 * recipient's user actor keeps it (`postSysMsg`) and delivers it, so the
 * devices that were offline get it at their next login. To a team or a
 * supergroup it goes through the group's actor, which refuses a sender that
 * is not a member and tells (or keeps it for) every other member. It never
 * touches a conversation, a session or an unread count.
 */
import type { ActorClient, HeldCallOptions } from '../engine/actor/call.ts';
import type { Bus } from '../engine/bus/bus.ts';
import type { Caller, Delivery } from '../engine/envelope.ts';
import { IdServerGenerator } from '../engine/ids.ts';
import { encode } from '../engine/protocol/codec.ts';
import { ParleyError } from '../engine/protocol/errors.ts';
import type { Args, CustomSysMsg } from '../engine/protocol/methods.ts';
import { deliverySubject, userAddress } from '../engine/subjects.ts';
import { userCalls } from '../actors/user/calls.ts';
import { teamCalls } from '../actors/team/calls.ts';
import { conversationAddress } from '../engine/protocol/methods.ts';
import { adminCaller } from '../engine/admin/methods.ts';
import type { PostSysMsgArgs } from '../actors/user/calls.ts';
import type { Conn, Sockets } from './connection.ts';
import { MAX_IN_FLIGHT_PER_SOCKET } from './dispatch.ts';

export class CustomSysMsgs {
  private readonly bus: Bus;
  private readonly actors: ActorClient;
  private readonly sockets: Sockets;
  private readonly ids: IdServerGenerator;

  constructor(bus: Bus, actors: ActorClient, sockets: Sockets, nodeId: string) {
    this.bus = bus;
    this.actors = actors;
    this.sockets = sockets;
    this.ids = new IdServerGenerator(`${nodeId}/custom-sysmsgs`);
  }

  /** Sends one notification from the socket's account; answers it as sent (as kept, for a stored one). */
  async send(conn: Conn, a: Args<'sendCustomSysMsg'>): Promise<CustomSysMsg> {
    const msg = this.compose({ account: conn.account, deviceId: conn.deviceId, deviceType: conn.deviceType }, a);
    if (msg.scene !== 'p2p') return this.toGroup(msg, conn.caller!, this.sockets.heldOptions(conn));
    if (a.sendToOnlineUsersOnly) {
      // The sender's own socket is spared when it writes to itself.
      this.publish(msg, conn.ref);
      return msg;
    }
    // A stored one waits on the recipient's actor: it counts among the socket's requests in flight.
    if (conn.inFlight >= MAX_IN_FLIGHT_PER_SOCKET) {
      throw new ParleyError('RATE_LIMITED', `more than ${MAX_IN_FLIGHT_PER_SOCKET} requests in flight on this socket; wait for replies`);
    }
    conn.inFlight++;
    try {
      return await this.keep(msg, conn.caller!, conn.ref, this.sockets.heldOptions(conn));
    } finally {
      conn.inFlight--;
    }
  }

  /** Sends one notification as `from` on no socket of its own (the admin API). */
  async sendAs(from: string, a: Args<'sendCustomSysMsg'>): Promise<CustomSysMsg> {
    const msg = this.compose({ account: from, deviceId: 'admin', deviceType: 'server' }, a);
    if (msg.scene !== 'p2p') return this.toGroup(msg, adminCaller(from), {});
    if (a.sendToOnlineUsersOnly) {
      this.publish(msg, undefined);
      return msg;
    }
    return this.keep(msg, adminCaller(from), undefined, {});
  }

  private compose(sender: { account: string; deviceId: string; deviceType: CustomSysMsg['fromClientType'] }, a: Args<'sendCustomSysMsg'>): CustomSysMsg {
    const now = Date.now();
    const msg: CustomSysMsg = {
      type: 'custom',
      scene: a.scene,
      from: sender.account,
      to: a.to,
      idServer: this.ids.next(now),
      time: now,
      content: a.content,
      sendToOnlineUsersOnly: a.sendToOnlineUsersOnly,
      isPushable: a.isPushable,
      needPushNick: a.needPushNick,
      cc: a.cc,
      fromDeviceId: sender.deviceId,
      fromClientType: sender.deviceType,
    };
    if (a.apnsText !== undefined) msg.apnsText = a.apnsText;
    if (a.pushPayload !== undefined) msg.pushPayload = a.pushPayload;
    if (a.env !== undefined) msg.env = a.env;
    return msg;
  }

  /** To a team or supergroup: its actor checks the sender is a member and tells (or keeps it for) every other member. */
  private async toGroup(msg: CustomSysMsg, caller: Caller, held: HeldCallOptions): Promise<CustomSysMsg> {
    const address = conversationAddress(caller.account, msg.scene, msg.to);
    return (await this.actors.hold(address, 'customSysMsg', { msg }, caller, teamCalls.customSysMsg.retry, held)) as CustomSysMsg;
  }

  /** Online only: straight to the recipient's delivery subject, sparing socket `exclude`. */
  private publish(msg: CustomSysMsg, exclude: string | undefined): void {
    const f = encode({ ev: 'customsysmsg', d: msg });
    const delivery: Delivery = exclude === undefined ? { f } : { x: exclude, f };
    this.bus.publish(deliverySubject(msg.to), encode(delivery));
  }

  /** Kept in the recipient's store, which delivers it now and at the next logins. */
  private async keep(msg: CustomSysMsg, caller: Caller, exclude: string | undefined, held: HeldCallOptions): Promise<CustomSysMsg> {
    const { time: _time, ...unstamped } = msg;
    const post: PostSysMsgArgs = exclude === undefined ? { msg: unstamped } : { msg: unstamped, exclude };
    return (await this.actors.hold(userAddress(msg.to), 'postSysMsg', post, caller, userCalls.postSysMsg.retry, held)) as CustomSysMsg;
  }
}
