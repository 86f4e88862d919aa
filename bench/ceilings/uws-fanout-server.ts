/**
 * The fan-out ceiling: a bare uWebSockets.js server on 127.0.0.1 where a
 * socket opened on `/fanout/<topic>` subscribes to `<topic>`, and every binary
 * frame it sends is published to that topic, reaching every subscriber (the
 * sender included, so a publisher sees its own frame come back). Prints
 * `listening <port>` once bound. No protocol, no persistence.
 *
 *   node --import tsx bench/ceilings/uws-fanout-server.ts
 */
import { loadUws } from '../../edge/uws.ts';

interface Subscriber {
  topic: string;
}

const uws = loadUws();
const app = uws.App();
const PREFIX = '/fanout/';
app.ws<Subscriber>(`${PREFIX}*`, {
  maxPayloadLength: 1 << 20,
  // Large enough that a burst to a slow reader is buffered, never dropped.
  maxBackpressure: 64 << 20,
  idleTimeout: 120,
  compression: uws.DISABLED,
  upgrade: (res, req, context) => {
    res.upgrade<Subscriber>(
      { topic: req.getUrl().slice(PREFIX.length) },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  open: (ws) => void ws.subscribe(ws.getUserData().topic),
  message: (ws, message, isBinary) => void app.publish(ws.getUserData().topic, message, isBinary),
});
app.listen('127.0.0.1', 0, (listenSocket) => {
  if (!listenSocket) {
    console.error('uws-fanout-server: cannot listen');
    process.exit(1);
  }
  console.log(`listening ${uws.us_socket_local_port(listenSocket)}`);
});
process.on('SIGTERM', () => process.exit(0));
