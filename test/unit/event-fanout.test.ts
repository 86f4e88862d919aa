/**
 * The edge's event fan-out while a socket's login sync reads its account's
 * subscriptions: a change from another device arriving between the read and
 * the attach applies, and the read made before it does not undo it.
 */
import { describe, expect, it } from 'vitest';
import { EmbeddedBus } from '../../engine/bus/embedded-bus.ts';
import { EventFanout } from '../../edge/events.ts';
import type { Conn } from '../../edge/connection.ts';
import type { Frames } from '../../edge/frames.ts';
import type { ActorClient } from '../../engine/actor/call.ts';

function fanout(): { events: EventFanout; conn: Conn } {
  const bus = new EmbeddedBus();
  const events = new EventFanout(bus, {} as Frames, {} as ActorClient, () => 'edge-test');
  const conn = { account: 'alice', closed: false } as unknown as Conn;
  return { events, conn };
}

const later = () => Date.now() + 60_000;

describe('event fan-out during a login sync', () => {
  it('keeps a subscription added after the read', () => {
    const { events, conn } = fanout();
    events.prepare(conn);
    // Another device subscribes while the read (which saw nothing) is on its way.
    events.apply('alice', { add: [['bob', later()]] });
    events.attach(conn, []);
    expect(events.stats()).toEqual({ publishers: 1, subscribers: 1 });
  });

  it('does not bring back a subscription removed after the read', () => {
    const { events, conn } = fanout();
    events.prepare(conn);
    events.apply('alice', { remove: ['bob'] });
    events.attach(conn, [['bob', later()], ['carol', later()]]);
    expect(events.stats()).toEqual({ publishers: 1, subscribers: 1 });
    events.prepare(conn);
    events.apply('alice', { all: true });
    events.apply('alice', { add: [['dave', later()]] });
    events.attach(conn, [['carol', later()], ['erin', later()]]);
    // carol and erin were cancelled by `all`; dave came after it.
    expect(events.stats()).toEqual({ publishers: 1, subscribers: 1 });
  });

  it('holds nothing for a socket that closed or whose sync failed', () => {
    const { events, conn } = fanout();
    events.prepare(conn);
    events.apply('alice', { add: [['bob', later()]] });
    events.abandon(conn);
    expect(events.stats()).toEqual({ publishers: 0, subscribers: 0 });
    events.prepare(conn);
    (conn as { closed: boolean }).closed = true;
    events.attach(conn, [['bob', later()]]);
    expect(events.stats()).toEqual({ publishers: 0, subscribers: 0 });
  });
});
