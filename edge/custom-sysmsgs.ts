/**
 * `sendCustomSysMsg`, answered by the edge. An online-only notification
 * (the default, fit for "typing…") is published straight to the
 * recipient's delivery subject: whichever edges hold its sockets send it,
 * and when none does it is gone, with no write anywhere. Otherwise the
 * recipient's user actor keeps it (`postSysMsg`) and delivers it, so the
 * devices that were offline get it at their next login. It never touches a
 * conversation, a session or an unread count.
 */
import type { ActorClient } from '../engine/actor/call.ts';
import type { Bus } from '../engine/bus/bus.ts';
import type { Delivery } from '../engine/envelope.ts';
import { IdServerGenerator } from '../engine/ids.ts';
import { encode } from '../engine/protocol/codec.ts';
import { ParleyError } from '../engine/protocol/errors.ts';
import type { Args, CustomSysMsg } from '../engine/protocol/methods.ts';
import { deliverySubject, userAddress } from '../engine/subjects.ts';
import { userCalls } from '../actors/user/calls.ts';
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
    if (a.scene !== 'p2p') throw new ParleyError('BAD_REQUEST', `\`scene\` ${a.scene} is not served yet: custom system notifications go to p2p accounts`);
    const now = Date.now();
    const msg: CustomSysMsg = {
      type: 'custom',
      scene: a.scene,
      from: conn.account,
      to: a.to,
      idServer: this.ids.next(now),
      time: now,
      content: a.content,
      sendToOnlineUsersOnly: a.sendToOnlineUsersOnly,
      isPushable: a.isPushable,
      needPushNick: a.needPushNick,
      cc: a.cc,
      fromDeviceId: conn.deviceId,
      fromClientType: conn.deviceType,
    };
    if (a.apnsText !== undefined) msg.apnsText = a.apnsText;
    if (a.pushPayload !== undefined) msg.pushPayload = a.pushPayload;
    if (a.env !== undefined) msg.env = a.env;
    if (a.sendToOnlineUsersOnly) {
      // The sender's own socket is spared when it writes to itself.
      const delivery: Delivery = { x: conn.ref, f: encode({ ev: 'customsysmsg', d: msg }) };
      this.bus.publish(deliverySubject(a.to), encode(delivery));
      return msg;
    }
    // A stored one waits on the recipient's actor: it counts among the socket's requests in flight.
    if (conn.inFlight >= MAX_IN_FLIGHT_PER_SOCKET) {
      throw new ParleyError('RATE_LIMITED', `more than ${MAX_IN_FLIGHT_PER_SOCKET} requests in flight on this socket; wait for replies`);
    }
    const { time: _time, ...unstamped } = msg;
    const post: PostSysMsgArgs = { msg: unstamped, exclude: conn.ref };
    conn.inFlight++;
    try {
      const kept = await this.actors.hold(userAddress(a.to), 'postSysMsg', post, conn.caller, userCalls.postSysMsg.retry, this.sockets.heldOptions(conn));
      return kept as CustomSysMsg;
    } finally {
      conn.inFlight--;
    }
  }
}
