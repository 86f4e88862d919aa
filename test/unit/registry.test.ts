/**
 * The registry's guarantees. At compile time (`tsc` runs before the tests):
 * an actor kind's tables must cover exactly the methods it owns, reply with
 * each method's result type, and give every event type its `apply`; only
 * repeatable calls may be effects; the SDK's methods take what the
 * declarations say. Each `@ts-expect-error` below fails `tsc` if the error
 * it marks ever stops being one. At run time: every declared method is
 * served by the edge or by the actor kind that owns it.
 */
import { describe, expect, it } from 'vitest';
import { callEffect, defineActor } from '../../engine/actor/define.ts';
import type { ActorContext } from '../../engine/actor/behavior.ts';
import { declarationOf, registry, MESSAGE_SEND_METHODS, RETRY_SAFE_METHODS } from '../../engine/protocol/methods.ts';
import type { MethodName } from '../../engine/protocol/methods.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import { BEHAVIORS, behaviorsFor } from '../../engine/node.ts';
import { defaultConfig } from '../../engine/config.ts';
import { EdgeLiveness } from '../../engine/edge-liveness.ts';
import { EDGE_METHODS } from '../../edge/routes.ts';
import type { ParleyClient } from '../../client/client.ts';
import { userCalls } from '../../actors/user/calls.ts';
import { userActor } from '../../actors/user/behavior.ts';

const { getServerSession: _left, ...withoutOne } = userActor.methods;

describe('compile-time guarantees', () => {
  it('are checked by tsc', () => {
    // The real tables compile.
    defineActor({ ...userActor });
    // @ts-expect-error a method the kind owns has no handler
    defineActor({ ...userActor, methods: withoutOne });
    defineActor({
      ...userActor,
      methods: {
        ...userActor.methods,
        // @ts-expect-error a handler for a method nobody declared (or another kind owns)
        sendText: () => ({}),
      },
    });
    defineActor({
      ...userActor,
      methods: {
        ...userActor.methods,
        // @ts-expect-error a reply that is not the declared result type
        getServerSession: () => ({ reply: { sessions: [] } }),
      },
    });
    // @ts-expect-error an event type without its apply
    defineActor({ ...userActor, events: { touch: userActor.events.touch } });

    const once = { fire: internal({ doc: 'not repeatable', args: takes<{ x: number }>(), result: returns<boolean>(), retry: 'never' }) };
    // @ts-expect-error a call that must not be repeated cannot be an at-least-once effect
    callEffect(once, 'fire', 'user:x', { x: 1 });
    // @ts-expect-error arguments of the wrong type for the declared call
    callEffect(userCalls, 'touch', 'user:x', { sessionId: 1 });

    const sdk = (client: ParleyClient) => {
      void client.resetSessionUnread('p2p-bob');
      void client.getServerSessions();
      // @ts-expect-error a required argument left out
      void client.sendText({ scene: 'p2p', to: 'bob' });
      // @ts-expect-error a method nobody declared
      void client.sendTelegram({});
    };
    expect(typeof sdk).toBe('function');
  });
});

describe('the registry at run time', () => {
  it('serves every declared method, from the edge or from the kind that owns it', () => {
    const kinds = new Map(behaviorsFor(defaultConfig(), new EdgeLiveness()).map((b) => [b.kind, b]));
    for (const m of Object.keys(registry) as MethodName[]) {
      const d = declarationOf(m);
      if (d.owner === 'edge') {
        expect(EDGE_METHODS.has(m), m).toBe(true);
        continue;
      }
      const behavior = kinds.get(d.owner);
      expect(behavior, `${m}: no actor kind ${d.owner}`).toBeDefined();
      expect(Object.hasOwn((behavior as { handlers: object }).handlers, m), `${m}: no handler`).toBe(true);
    }
  });

  it('derives the retry sets from the retry classes', () => {
    for (const m of Object.keys(registry) as MethodName[]) {
      const { retry } = declarationOf(m);
      expect(MESSAGE_SEND_METHODS.has(m), m).toBe(retry === 'idClient');
      expect(RETRY_SAFE_METHODS.has(m), m).toBe(retry !== 'never');
    }
  });

  it('refuses a method the kind does not own, naming it', () => {
    const [conv] = BEHAVIORS;
    const ctx = {} as ActorContext;
    expect(() => conv!.handle(undefined as never, { m: 'getServerSessions', a: {}, caller: undefined }, ctx)).toThrow(/getServerSessions/);
  });
});
