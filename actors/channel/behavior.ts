/**
 * The channel actor (`channel:<channelName>`): one signaling channel at a
 * time under its name, its members and invitations. Its state is small (at
 * most MAX_CHANNEL_MEMBERS members and a bounded list of invitations), so it
 * lives in the actor's snapshot and the Log replays what came since.
 *
 * Signals go to every device of the account told (`signalingNotify`); with
 * `offlineEnabled` the account's presence actor also keeps them for its next
 * logins until `signalingMarkMsgRead`. Joins and leaves are reported to the
 * member's presence actor, which lists an account's channels at login.
 */
import type { Effect } from '../../engine/actor/behavior.ts';
import { callEffect, callerOf, defineActor } from '../../engine/actor/define.ts';
import type { ActorDefinition, DefinedActor } from '../../engine/actor/define.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import type { ChannelMember } from '../../engine/protocol/methods/signaling.ts';
import { presenceAddress } from '../../engine/subjects.ts';
import { presenceCalls } from '../presence/calls.ts';
import { channelCalls } from './calls.ts';
import { Draft, answer, applyChannelEvent, cancel, channelById, close, control, create, infoOf, invite, join, leave, liveChannel, mayManage } from './logic.ts';
import type { ChannelEvent, ChannelSettings, ChannelState, Invite, OpenChannel } from './logic.ts';

interface ChannelSnapshot {
  logSeq: number;
  generation: number;
  open?: Omit<OpenChannel, 'members' | 'invites'> & { members: ChannelMember[]; invites: Array<[string, Invite]> };
}

function snapshotOf(state: ChannelState, logSeq: number): ChannelSnapshot {
  const snap: ChannelSnapshot = { logSeq, generation: state.generation };
  if (state.open !== undefined) snap.open = { ...state.open, members: [...state.open.members.values()], invites: [...state.open.invites] };
  return snap;
}

const apply = (state: ChannelState, e: ChannelEvent): void => applyChannelEvent(state, e);

export function channelActor(settings: ChannelSettings) {
  return {
    kind: 'channel' as const,
    calls: channelCalls,

    load(ctx) {
      const snap = ctx.store.snapshot<ChannelSnapshot>(ctx.address);
      const state: ChannelState = { name: ctx.id, generation: snap?.generation ?? 0, open: undefined };
      if (snap?.open !== undefined) {
        state.open = { ...snap.open, members: new Map(snap.open.members.map((m) => [m.account, m])), invites: new Map(snap.open.invites) };
      }
      return { state, logSeq: snap?.logSeq ?? 0 };
    },

    methods: {
      signalingCreate(state, a, c, ctx) {
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        const open = create(d, callerOf(c, 'signalingCreate'), a, settings);
        return { reply: infoOf(d.state, open), events: d.events };
      },
      signalingGetChannelInfo(state, _a, _c, ctx) {
        const open = liveChannel(state, ctx.now());
        if (open === undefined) throw new ParleyError('NOT_FOUND', `no open channel is named ${state.name}`);
        return { reply: infoOf(state, open) };
      },
      signalingJoin(state, a, c, ctx) {
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        const open = channelById(d.state, a.channelId, d.now);
        join(d, open, callerOf(c, 'signalingJoin'), a);
        return { reply: infoOf(d.state, d.state.open!), events: d.events };
      },
      signalingLeave(state, a, c, ctx) {
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        leave(d, channelById(d.state, a.channelId, d.now), callerOf(c, 'signalingLeave'), a);
        return { reply: { channelId: a.channelId }, events: d.events };
      },
      signalingCreateAndJoin(state, a, c, ctx) {
        const caller = callerOf(c, 'signalingCreateAndJoin');
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        const open = liveChannel(d.state, d.now) ?? create(d, caller, a, settings);
        join(d, open, caller, a);
        return { reply: infoOf(d.state, d.state.open!), events: d.events };
      },
      signalingClose(state, a, c, ctx) {
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        close(d, channelById(d.state, a.channelId, d.now), callerOf(c, 'signalingClose'), a);
        return { reply: { channelId: a.channelId }, events: d.events };
      },
      signalingDelay(state, a, c, ctx) {
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        const open = channelById(d.state, a.channelId, d.now);
        mayManage(open, callerOf(c, 'signalingDelay').account, 'extend it');
        d.push({ t: 'delayed', expireTime: d.now + settings.ttlMs });
        return { reply: infoOf(d.state, d.state.open!), events: d.events };
      },
      signalingInvite(state, a, c, ctx) {
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        invite(d, channelById(d.state, a.channelId, d.now), callerOf(c, 'signalingInvite'), a);
        return { reply: { channelId: a.channelId, requestId: a.requestId, account: a.account }, events: d.events };
      },
      signalingCancel(state, a, c, ctx) {
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        cancel(d, channelById(d.state, a.channelId, d.now), callerOf(c, 'signalingCancel'), a);
        return { reply: { channelId: a.channelId, requestId: a.requestId }, events: d.events };
      },
      signalingReject(state, a, c, ctx) {
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        answer(d, channelById(d.state, a.channelId, d.now), callerOf(c, 'signalingReject'), a.account, a.requestId, false, a);
        return { reply: { channelId: a.channelId, requestId: a.requestId }, events: d.events };
      },
      signalingAccept(state, a, c, ctx) {
        const caller = callerOf(c, 'signalingAccept');
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        const open = channelById(d.state, a.channelId, d.now);
        answer(d, open, caller, a.account, a.requestId, true, a);
        if (a.autoJoin) join(d, d.state.open!, caller, { uid: a.uid, attachExt: a.joinAttachExt, offlineEnabled: a.offlineEnabled });
        return { reply: infoOf(d.state, d.state.open!), events: d.events };
      },
      signalingControl(state, a, c, ctx) {
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        control(d, channelById(d.state, a.channelId, d.now), callerOf(c, 'signalingControl'), a);
        return { reply: { channelId: a.channelId }, events: d.events };
      },
      signalingCall(state, a, c, ctx) {
        const caller = callerOf(c, 'signalingCall');
        const d = new Draft(state, ctx.now(), () => ctx.nextIdServer(ctx.now()));
        const open = liveChannel(d.state, d.now) ?? create(d, caller, a, settings);
        join(d, open, caller, a);
        invite(d, d.state.open!, caller, { ...a, channelId: open.channelId });
        return { reply: { ...infoOf(d.state, d.state.open!), requestId: a.requestId }, events: d.events };
      },
    },

    callHandlers: {
      info(state, a, _c, ctx) {
        return { reply: infoOf(state, channelById(state, a.channelId, ctx.now())) };
      },
    },

    events: {
      created: { apply },
      joined: { apply },
      left: { apply },
      closed: { apply },
      delayed: { apply },
      invited: { apply },
      answered: { apply },
      notify: { apply },
      sync: { apply },
    },

    persistBatch(state, _events, logSeq, ctx) {
      ctx.store.putSnapshot(ctx.address, snapshotOf(state, logSeq));
    },

    effects(_state, events) {
      const out: Effect[] = [];
      for (const e of events) {
        switch (e.t) {
          case 'notify':
            out.push({ kind: 'deliver', account: e.notify.to, frame: encode({ ev: 'signalingNotify', d: e.notify }) });
            if (e.store) out.push(callEffect(presenceCalls, 'storeSignal', presenceAddress(e.notify.to), { notify: e.notify }));
            break;
          case 'sync':
            out.push({ kind: 'deliver', account: e.account, frame: encode({ ev: 'signalingMutilClientSyncNotify', d: e.sync }), exclude: e.exclude });
            break;
          case 'joined':
            out.push(callEffect(presenceCalls, 'channelIn', presenceAddress(e.member.account), { channelId: e.channelId, in: true, at: e.member.joinTime }));
            break;
          case 'left':
            out.push(callEffect(presenceCalls, 'channelIn', presenceAddress(e.account), { channelId: e.channelId, in: false, at: 0 }));
            break;
          case 'closed':
            for (const account of e.members) out.push(callEffect(presenceCalls, 'channelIn', presenceAddress(account), { channelId: e.channelId, in: false, at: 0 }));
            break;
          default:
            break;
        }
      }
      return out;
    },
  } satisfies ActorDefinition<'channel', ChannelState, ChannelEvent, typeof channelCalls>;
}

export function channelBehavior(settings: ChannelSettings): DefinedActor<ChannelState, ChannelEvent> {
  return defineActor(channelActor(settings));
}
