/**
 * The Socket.IO peer: a relay doing Parley's p2p scenarios without
 * persistence. A socket joins the room of the account in its handshake
 * `auth`; `send {to, text}` gets the next per-conversation `seq`, is emitted
 * to the receiver's room as `msg`, and acknowledged to the sender. Listens on
 * 127.0.0.1 and prints `listening <port>`.
 *
 *   node --import tsx bench/peers/socketio-server.ts
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });
const seqs = new Map<string, number>();

io.on('connection', (socket) => {
  const account = String(socket.handshake.auth.account);
  void socket.join(account);
  socket.on('send', (m: { to: string; text: string }, ack: (r: { seq: number }) => void) => {
    const conversation = account < m.to ? `${account}|${m.to}` : `${m.to}|${account}`;
    const seq = (seqs.get(conversation) ?? 0) + 1;
    seqs.set(conversation, seq);
    io.to(m.to).emit('msg', { from: account, to: m.to, text: m.text, seq, time: Date.now() });
    ack({ seq });
  });
});
http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  console.log(`listening ${typeof address === 'object' && address !== null ? address.port : 0}`);
});
process.on('SIGTERM', () => process.exit(0));
