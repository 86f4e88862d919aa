/**
 * The push hook's cost on a full advanced group: an embedded engine, a
 * group of `members` (owner included; 200 is the default limit), every
 * member but the owner with a push token on a device that is offline. The
 * owner sends `n` messages; each one is derived into push events through the
 * real actors. Prints the derivations per second, the push events per
 * message and the actor reads per message (group + presence + user).
 *
 *   node --import tsx bench/push-deriver.ts [n=50] [members=200] [concurrency=16]
 */
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { connect } from '../client/index.ts';
import { signDevToken } from '../engine/auth/jwt-verifier.ts';
import { parseConfig } from '../engine/config.ts';
import { logger } from '../engine/logger.ts';
import { startNode } from '../engine/node.ts';
import { presenceAddress } from '../engine/subjects.ts';
import { createPushDeriver } from '../engine/webhooks/push.ts';
import type { ActorClient } from '../engine/actor/call.ts';

logger.setLevel('warn');
const n = Number(process.argv[2] ?? 50);
const size = Number(process.argv[3] ?? 200);
const concurrency = Number(process.argv[4] ?? 16);
const secret = 'bench-push-secret-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'parley-push-bench-'));
const node = await startNode('start', parseConfig({ PARLEY_PORT: '0', PARLEY_HOST: '127.0.0.1', PARLEY_DATA_DIR: dir, PARLEY_JWT_SECRET: secret, PARLEY_LOG_LEVEL: 'warn' }));
const url = `ws://127.0.0.1:${node.port}/v1/ws`;
const client = async (account: string, deviceId: string) => connect({ url, token: await signDevToken(secret, account, 3600), WebSocket, reconnect: false, deviceId, deviceType: 'android' });

try {
  const members = Array.from({ length: size - 1 }, (_, i) => `m${i}`);
  for (let i = 0; i < members.length; i += 20) {
    await Promise.all(
      members.slice(i, i + 20).map(async (m) => {
        const c = await client(m, 'phone');
        await c.registerPushToken({ token: `fcm-${m}`, provider: 'fcm' });
        await c.disconnect();
      }),
    );
  }
  const owner = await client('owner', 'desk');
  const { team } = await owner.createTeam({ name: 'bench', beInviteMode: 'noVerify', accounts: members });
  // The members' sockets closed: wait until the last one's presence says so.
  const last = presenceAddress(members[members.length - 1]!);
  for (let i = 0; i < 200 && ((await node.actors.hold(last, 'pushTargets', {}, undefined, 'idempotent')) as unknown[]).length === 0; i++) await new Promise((r) => setTimeout(r, 25));

  let reads = 0;
  const counted: Pick<ActorClient, 'hold'> = {
    hold: (...a: Parameters<ActorClient['hold']>) => {
      reads++;
      return node.actors.hold(...a);
    },
  };
  const derive = createPushDeriver({ actors: counted, concurrency });
  const msgs = [];
  for (let i = 0; i < n; i++) msgs.push(await owner.sendText({ scene: 'team', to: team.teamId, text: `m${i}` }));
  let events = 0;
  const started = performance.now();
  for (const msg of msgs) events += (await derive({ id: `e-${msg.idServer}`, type: 'msg.sent', time: msg.time, data: msg })).length;
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({
      members: size,
      messages: n,
      concurrency,
      derivationsPerSec: Math.round(n / seconds),
      msPerMessage: Number(((seconds * 1000) / n).toFixed(2)),
      pushEventsPerMessage: events / n,
      readsPerMessage: reads / n,
    }),
  );
  await owner.disconnect();
} finally {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
}
