/**
 * With PARLEY_KICK_ON_TOKEN_EXPIRY, a socket whose login token expires is
 * told `kicked` (reason `tokenExpired`) and closed with 4003, and its SDK
 * does not reconnect; without it (the default, as in the reference SDK),
 * the socket stays. Both modes, real sockets, tokens minted to expire in
 * two seconds.
 */
import { expect, it } from 'vitest';
import type { ClientEvents } from '../../client/events.ts';
import { CLOSE_CODES } from '../../edge/edge.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { tokenFor } from '../helpers/engine.ts';
import { useConnections } from '../helpers/connections.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { waitFor } from '../helpers/wait.ts';

describeBothModes('token expiry kick', (mode) => {
  const engine = mode.useEngine({ env: { PARLEY_KICK_ON_TOKEN_EXPIRY: 'true' } });
  const conns = useConnections(() => engine.url);

  it('kicks a socket once its token expires, and the SDK stays closed', { timeout: 15_000 }, async () => {
    const account = freshAccount('expiring');
    const client = await conns.client(account, { token: await tokenFor(account, 2), backoff: { initialMs: 20, maxMs: 50, jitter: 0 } });
    const kicked: Array<ClientEvents['kicked']> = [];
    client.on('kicked', (d) => kicked.push(d));
    await waitFor('the kick', () => kicked.length === 1, 8000);
    expect(kicked[0]).toEqual({ reason: 'tokenExpired' });
    await waitFor('the client closed', () => client.state === 'closed', 3000);

    const raw = await conns.raw();
    await raw.request('login', { token: await tokenFor(freshAccount('raw'), 2) });
    const closed = await raw.waitClosed(8000);
    expect(closed.code).toBe(CLOSE_CODES.kicked);
  });
});

describeBothModes('token expiry without the kick', (mode) => {
  const engine = mode.useEngine();
  const conns = useConnections(() => engine.url);

  it('keeps a socket past its token expiry', { timeout: 15_000 }, async () => {
    const account = freshAccount('kept');
    const client = await conns.client(account, { token: await tokenFor(account, 1) });
    // Absence of a kick can only be seen over time: past the expiry and two sweeps.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(client.state).toBe('ready');
    await expect(client.getServerTime()).resolves.toBeTypeOf('number');
  });
});
