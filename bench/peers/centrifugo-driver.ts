/**
 * Drives Centrifugo through its `centrifuge` JavaScript client (websocket
 * transport, `ws` as the WebSocket) with the shared p2p loop
 * (pair-driver.ts): each receiver subscribes to its personal channel
 * `personal:<account>`, its sender publishes into it. Centrifugo keeps no
 * per-channel sequence without history, so the order check runs on the
 * driver's own send counter.
 *
 *   node --import tsx bench/peers/centrifugo-driver.ts <port> <secret> <pairs> <seconds> <window|0> [rate]
 */
import { Centrifuge } from 'centrifuge';
import WebSocket from 'ws';
import { signDevToken } from '../../engine/auth/jwt-verifier.ts';
import { readStamp } from '../driver/scenario.ts';
import { drivePairs } from './pair-driver.ts';

const [portArg, secret, ...rest] = process.argv.slice(2);
const [pairs, seconds, window, rate] = rest.map(Number) as number[];
const url = `ws://127.0.0.1:${portArg}/connection/websocket`;

async function open(account: string): Promise<Centrifuge> {
  const client = new Centrifuge(url, { websocket: WebSocket, token: await signDevToken(secret!, account, 3600) });
  client.connect();
  await client.ready(10_000);
  return client;
}

await drivePairs({
  pairs: pairs!,
  seconds: seconds!,
  window: window!,
  rate: rate ?? 0,
  async open(i) {
    const a = await open(`${process.pid}-a${i}`);
    const b = await open(`${process.pid}-b${i}`);
    const channel = `personal:${process.pid}-b${i}`;
    const sub = b.newSubscription(channel);
    let deliver: (text: string, seq: number) => void = () => {};
    sub.on('publication', (ctx) => {
      const text = (ctx.data as { text: string }).text;
      deliver(text, readStamp(text).k);
    });
    sub.subscribe();
    await sub.ready(10_000);
    return {
      send: async (text) => void (await a.publish(channel, { text })),
      onMessage: (d) => void (deliver = d),
      close: () => (a.disconnect(), b.disconnect()),
    };
  },
});
process.exit(0);
