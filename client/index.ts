/**
 * Parley client SDK, public entry. Browser-safe: no Node APIs; in Node 20
 * pass the `ws` package as the `WebSocket` option.
 *
 *   const client = await connect({ url: 'ws://localhost:8080/v1/ws', token, WebSocket });
 *   client.on('msg', (m) => console.log(m.from, m.text));
 *   const sent = await client.sendText({ scene: 'p2p', to: 'bob', text: 'hi' });
 */
export { connect, createClient, ParleyClient } from './client.ts';
export type { ArgsParam, Input, KnownMethod, OtherEvent, OtherMethod } from './client.ts';
export { MESSAGE_SEND_METHODS, SendError } from './connection.ts';
export type { ClientState } from './connection.ts';
export type { ClientEventName, ClientEvents, LifecycleEvents, Listener, ListenerMap } from './events.ts';
export { backoffDelay, defaultOptions } from './options.ts';
export type { BackoffOptions, ConnectOptions, Cursors, TokenSource } from './options.ts';
export type { WebSocketConstructor, WebSocketLike } from './socket.ts';

export { ERRORS, ParleyError, isParleyError } from '../engine/protocol/errors.ts';
export type { ErrorName, WireError } from '../engine/protocol/errors.ts';
export { parseSessionId, sessionIdOf } from '../engine/protocol/methods.ts';
export type { Args, ArgsInput, DeviceType, Events, Message, MethodName, MsgType, Results, Scene, Session } from '../engine/protocol/methods.ts';
