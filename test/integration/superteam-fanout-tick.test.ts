/**
 * Supergroup deliveries that reach an edge in one tick (an actor host's
 * publishes arrive together in one read from NATS): a delivery whose sender's
 * sockets leave the group's topic for it must not cost them the message
 * published to the topic just before, and the frames written to sockets one
 * by one (the sender's `flow: out` copy, a silenced member's `isMuted` copy)
 * must not be overtaken by a topic publish after them. Each device's raw
 * frames are counted: every seq once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as natsConnect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ParleyClient } from '../../client/index.ts';
import type { GroupDelivery } from '../../engine/envelope.ts';
import { encode } from '../../engine/protocol/codec.ts';
import { groupSubject } from '../../engine/subjects.ts';
import { startEngine, tokenFor, type TestEngine } from '../helpers/engine.ts';
import { useNatsServer } from '../helpers/nats-server.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount as account } from '../helpers/accounts.ts';
import type { RawClient } from '../helpers/raw-client.ts';
import { waitFor } from '../helpers/wait.ts';

describe('supergroup deliveries arriving in one tick (nats)', () => {
  const nats = useNatsServer({ jetstream: true });
  let engine: TestEngine;
  let nc: NatsConnection;
  beforeAll(async () => {
    engine = await startEngine({ natsUrl: nats().url, env: { PARLEY_SUPERTEAM_CLIENT_CREATE: 'true' } });
    nc = await natsConnect({ servers: nats().url });
  });
  afterAll(async () => {
    await nc?.close();
    await engine?.stop();
  });
  const conns = useConnections(() => engine.url);

  async function device(who: string, deviceId: string): Promise<RawClient> {
    const raw = await conns.raw();
    expect((await raw.request('login', { token: await tokenFor(who), deviceId })).e).toBeUndefined();
    await raw.event('syncdone');
    return raw;
  }

  function seqs(raw: RawClient, teamId: string): number[] {
    return raw.received.filter((f) => f.ev === 'msg' && f.d?.to === teamId && f.d?.type === 'text').map((f) => f.d.seq as number);
  }

  it("every device gets each of them once and in order: the sender's, a silenced member's, everyone else's", async () => {
    const [o, s, m, q] = ['owner', 'sam', 'mia', 'quin'].map((x) => account(x)) as [string, string, string, string];
    const oc: ParleyClient = await conns.client(o);
    await oc.synced;
    const { team } = await oc.createSuperTeam({ name: 'big', beInviteMode: 'noVerify', accounts: [s, m, q] });
    // One socket per device, each in this one supergroup only.
    const devices = { samPhone: await device(s, 'phone'), samDesk: await device(s, 'desk'), mia: await device(m, 'phone'), quin: await device(q, 'phone') };
    const first = await oc.sendText({ scene: 'superTeam', to: team.teamId, text: 'first' });
    await waitFor('every device to have the first message', () => Object.values(devices).every((d) => seqs(d, team.teamId).includes(first.seq)));

    // Deliveries as the group's actor publishes them, back to back: Sam's, Mia's, Sam's, Mia's (Quin silences Mia), Sam's.
    const frame = (seq: number, from: string, flow: 'in' | 'out', extra: Record<string, unknown> = {}) =>
      encode({ ev: 'msg', d: { scene: 'superTeam', from, to: team.teamId, sessionId: `superTeam-${team.teamId}`, type: 'text', text: `t${seq}`, seq, flow, time: Date.now(), ...extra } });
    const senders = [s, m, s, m, s];
    const expected = senders.map((_, i) => first.seq + 1 + i);
    for (const [i, from] of senders.entries()) {
      const seq = expected[i]!;
      const d: GroupDelivery = { s: seq, f: frame(seq, from, 'in'), o: frame(seq, from, 'out'), a: from };
      if (from === m) {
        d.q = [q];
        d.fq = frame(seq, from, 'in', { isMuted: true });
      }
      nc.publish(groupSubject(team.teamId), encode(d));
    }
    await nc.flush();
    await waitFor('every device to have the last of them', () => Object.values(devices).every((d) => seqs(d, team.teamId).includes(expected[expected.length - 1]!)));
    // Give anything still in flight the time of a round trip to show up as a repeat.
    await oc.getSuperTeam({ teamId: team.teamId });
    for (const [name, d] of Object.entries(devices)) expect([name, seqs(d, team.teamId).filter((x) => x > first.seq)]).toEqual([name, expected]);
    const flows = devices.samDesk.received.filter((f) => f.ev === 'msg' && f.d?.seq > first.seq).map((f) => `${f.d.seq}:${f.d.flow}`);
    expect(flows).toEqual(expected.map((seq, i) => `${seq}:${senders[i] === s ? 'out' : 'in'}`));
    const muted = devices.quin.received.filter((f) => f.ev === 'msg' && f.d?.seq > first.seq).map((f) => f.d.isMuted === true);
    expect(muted).toEqual(senders.map((from) => from === m));
  });
});
