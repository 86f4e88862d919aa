/**
 * A lean load client: `pairs` pairs of raw protocol sockets (no SDK), each
 * sender keeping `window` sends in flight for `seconds`. Prints one JSON line:
 * acknowledged and delivered messages per second. Talks to one URL on this
 * machine; bounded in time.
 *
 *   node --import tsx bench/load-client.ts ws://127.0.0.1:8080/v1/ws <tag> [pairs] [window] [seconds]
 */
import WebSocket from 'ws';
import { decode, encode } from '../engine/protocol/codec.ts';
import { signDevToken } from '../engine/auth/jwt-verifier.ts';

const [url = 'ws://127.0.0.1:8080/v1/ws', tag = 'load', pairsArg = '20', windowArg = '64', secondsArg = '6'] = process.argv.slice(2);
const PAIRS = Number(pairsArg);
const WINDOW = Number(windowArg);
const SECONDS = Number(secondsArg);
const SECRET = process.env.PARLEY_JWT_SECRET ?? '';
if (!/^wss?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(url)) throw new Error(`load only targets this machine, not ${url}`);

type Frame = { id?: number; ev?: string };

async function open(account: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(encode({ id: 0, m: 'login', a: { token: await signDevToken(SECRET, account, 600) } }));
  await new Promise<void>((resolve) => {
    const onFrame = (data: Buffer) => {
      if ((decode(data) as Frame).ev === 'syncdone') {
        ws.off('message', onFrame);
        resolve();
      }
    };
    ws.on('message', onFrame);
  });
  return ws;
}

let acked = 0;
let delivered = 0;
const end = Date.now() + SECONDS * 1000;
// PARLEY_LOAD_PROGRESS_MS: every that many ms, a line `{"progress": acked so far}` (a driver's steady-state window).
const progressMs = Number(process.env.PARLEY_LOAD_PROGRESS_MS ?? 0);
if (progressMs > 0) setInterval(() => console.log(JSON.stringify({ progress: acked })), progressMs).unref();
await Promise.all(
  Array.from({ length: PAIRS }, async (_, i) => {
    const sender = await open(`${tag}-a${i}`);
    const receiver = await open(`${tag}-b${i}`);
    receiver.on('message', () => delivered++);
    let id = 1;
    const sendOne = () => sender.send(encode({ id: id++, m: 'sendText', a: { scene: 'p2p', to: `${tag}-b${i}`, text: 'x'.repeat(100) } }));
    await new Promise<void>((done) => {
      let inFlight = WINDOW;
      sender.on('message', (data: Buffer) => {
        if ((decode(data) as Frame).id === undefined) return;
        acked++;
        if (Date.now() < end) sendOne();
        else if (--inFlight === 0) done();
      });
      for (let k = 0; k < WINDOW; k++) sendOne();
    });
    sender.close();
    receiver.close();
  }),
);
console.log(JSON.stringify({ tag, ackedPerSec: Math.round(acked / SECONDS), deliveredFramesPerSec: Math.round(delivered / SECONDS) }));
