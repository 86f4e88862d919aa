/** The SDK clients and raw sockets a block's tests open, closed after each test. */
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import type { ConnectOptions, ParleyClient } from '../../client/index.ts';
import { freshAccount } from './accounts.ts';
import { tokenFor } from './engine.ts';
import { RawClient } from './raw-client.ts';

export interface Connections {
  /** An SDK client of `account` (a token signed with the test secret) at the block's URL; `options` go to `connect`. */
  client(account: string, options?: Partial<ConnectOptions>): Promise<ParleyClient>;
  /** A raw wire client at `url` (default the block's URL). */
  raw(url?: string): Promise<RawClient>;
  /** Disconnects the SDK clients opened so far; done after each test anyway. */
  disconnectClients(): Promise<void>;
}

/** Opens connections to `url()` (read when each one is opened) and closes them after each test. */
export function useConnections(url: () => string): Connections {
  const clients: ParleyClient[] = [];
  const raws: RawClient[] = [];
  const disconnectClients = async () => {
    await Promise.all(clients.splice(0).map((c) => c.disconnect().catch(() => {})));
  };
  afterEach(async () => {
    await disconnectClients();
    for (const r of raws.splice(0)) r.terminate();
  });
  return {
    async client(account, options = {}) {
      const c = await connect({ url: url(), token: await tokenFor(account), WebSocket, ...options });
      clients.push(c);
      return c;
    },
    async raw(at = url()) {
      const r = await RawClient.open(at);
      raws.push(r);
      return r;
    },
    disconnectClients,
  };
}

/** A fresh account on two devices (`phone`, `desk`) and a fresh peer on one (`b`), SDK clients of `conns`. */
export async function accountAndPeer(conns: Connections): Promise<{ me: string; bob: string; phone: ParleyClient; desk: ParleyClient; peer: ParleyClient }> {
  const [me, bob] = [freshAccount('me'), freshAccount('bob')];
  const phone = await conns.client(me, { deviceId: 'phone' });
  const desk = await conns.client(me, { deviceId: 'desk' });
  const peer = await conns.client(bob, { deviceId: 'b' });
  return { me, bob, phone, desk, peer };
}
