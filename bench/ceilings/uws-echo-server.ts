/**
 * The socket ceiling: a bare uWebSockets.js server on 127.0.0.1 that echoes
 * every binary frame to its sender (`/echo`). Prints `listening <port>` once
 * bound. No protocol, no persistence.
 *
 *   node --import tsx bench/ceilings/uws-echo-server.ts
 */
import { loadUws } from '../../edge/uws.ts';

const uws = loadUws();
const app = uws.App();
app.ws('/echo', {
  maxPayloadLength: 1 << 20,
  idleTimeout: 120,
  message: (ws, message, isBinary) => void ws.send(message, isBinary),
});
app.listen('127.0.0.1', 0, (listenSocket) => {
  if (!listenSocket) {
    console.error('uws-echo-server: cannot listen');
    process.exit(1);
  }
  console.log(`listening ${uws.us_socket_local_port(listenSocket)}`);
});
process.on('SIGTERM', () => process.exit(0));
