/**
 * `/healthz` (alive) and `/readyz` (serving) on every role, and a drain: at
 * SIGTERM the node answers 503 on `/readyz` for PARLEY_DRAIN_GRACE_MS while
 * it still serves its sockets, and only then stops.
 */
import { rmSync } from 'node:fs';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../client/index.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { spawnEngine, startEngine, tempDir, tokenFor } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';

async function status(port: number, path: string): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
}

describeBothModes('health', (mode) => {
  it('answers /readyz 503 during the drain while it still serves, then stops', async () => {
    const dataDir = tempDir();
    const engine = await spawnEngine(mode.engineOptions({ dataDir, env: { PARLEY_DRAIN_GRACE_MS: '4000' } }));
    try {
      expect(await status(engine.port, '/readyz')).toBe(200);
      expect(await status(engine.port, '/healthz')).toBe(200);
      const alice = await connect({ url: engine.url, token: await tokenFor('alice'), WebSocket });
      await alice.sendText({ scene: 'p2p', to: 'bob', text: 'before' });

      engine.process.kill('SIGTERM');
      await waitFor('/readyz to answer 503', async () => (await status(engine.port, '/readyz')) === 503);
      // Draining, not stopped: alive, and the open socket is still served.
      expect(await status(engine.port, '/healthz')).toBe(200);
      const during = await alice.sendText({ scene: 'p2p', to: 'bob', text: 'during the drain' });
      expect(during.status).toBe('success');
      await alice.disconnect().catch(() => {});
      expect(await engine.exited).toBe(0);
    } finally {
      await engine.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  if (mode.name === 'nats') {
    it('answers /healthz and /readyz on the actors and edge roles', async () => {
      const actors = await startEngine(mode.engineOptions({ role: 'actors' }));
      const edge = await startEngine(mode.engineOptions({ role: 'edge' }));
      try {
        for (const port of [actors.port, edge.port]) {
          expect(await status(port, '/healthz')).toBe(200);
          expect(await status(port, '/readyz')).toBe(200);
        }
      } finally {
        await edge.stop();
        await actors.stop();
      }
    });
  }
});
