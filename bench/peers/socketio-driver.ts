/**
 * Drives the Socket.IO relay through `socket.io-client` (websocket
 * transport) with the shared p2p loop (pair-driver.ts); the relay's
 * per-conversation `seq` is checked.
 *
 *   node --import tsx bench/peers/socketio-driver.ts <port> <pairs> <seconds> <window|0> [rate]
 */
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { drivePairs } from './pair-driver.ts';

const [port, pairs, seconds, window, rate] = process.argv.slice(2).map(Number) as number[];

function open(account: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], auth: { account }, reconnection: false });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

await drivePairs({
  pairs: pairs!,
  seconds: seconds!,
  window: window!,
  rate: rate ?? 0,
  async open(i) {
    // Accounts unique to this run: the relay keeps its seq counters across runs.
    const a = await open(`${process.pid}-a${i}`);
    const b = await open(`${process.pid}-b${i}`);
    return {
      send: async (text) => void (await a.emitWithAck('send', { to: `${process.pid}-b${i}`, text })),
      onMessage: (deliver) => void b.on('msg', (m: { text: string; seq: number }) => deliver(m.text, m.seq)),
      close: () => (a.close(), b.close()),
    };
  },
});
process.exit(0);
