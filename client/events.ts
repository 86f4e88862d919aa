/**
 * The SDK's events: every server event of `Events` (methods.ts), the local
 * lifecycle events, and any other server event by name. Browser-safe.
 */
import type { Events, Results } from '../engine/protocol/methods.ts';

/** Events the SDK raises itself, never sent by the server. */
export interface LifecycleEvents {
  /** Login succeeded on a socket (first connect and every reconnect); `url` is the one in use. */
  connect: Results['login'] & { url: string };
  /** A logged-in socket closed; `willReconnect` says whether the SDK retries. */
  disconnect: { code: number; reason: string; willReconnect: boolean };
  /**
   * A retry is scheduled: `attempt` counts from 1 since the last login (or the
   * `connect()` call), `delayMs` is the wait before it, `url` the address it
   * will try, `error` why the previous attempt failed (absent right after a
   * logged-in socket dropped).
   */
  willReconnect: { attempt: number; delayMs: number; url: string; error?: Error };
  /** Something went wrong outside any request: an undecodable frame, a failed reconnect, a throwing listener. */
  error: Error;
}

/** Every event with a known payload type. */
export type ClientEvents = Events & LifecycleEvents;
export type ClientEventName = keyof ClientEvents;
export type Listener<T> = (data: T) => void;

/** Listeners given as an object, as the reference SDK's `on*` options are (`{msg: fn, syncdone: fn}`). */
export type ListenerMap = { [K in ClientEventName]?: Listener<ClientEvents[K]> } & {
  [event: string]: Listener<never> | undefined;
};

interface Entry {
  fn: Listener<never>;
  once: boolean;
}

/**
 * A small event emitter. A listener that throws does not stop the others or
 * the socket handler: the error goes to `error` listeners, or to
 * `console.error` when there are none (or when an `error` listener threw).
 */
export class Emitter {
  private readonly listeners = new Map<string, Entry[]>();

  on(event: string, fn: Listener<never>, once = false): void {
    const list = this.listeners.get(event);
    if (list === undefined) this.listeners.set(event, [{ fn, once }]);
    else list.push({ fn, once });
  }

  /** Removes one registration of `fn`, or every listener of `event` when `fn` is omitted. */
  off(event: string, fn?: Listener<never>): void {
    if (fn === undefined) {
      this.listeners.delete(event);
      return;
    }
    const list = this.listeners.get(event);
    if (list === undefined) return;
    const i = list.findIndex((e) => e.fn === fn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.listeners.delete(event);
  }

  listenerCount(event: string): number {
    return this.listeners.get(event)?.length ?? 0;
  }

  /** Calls every listener of `event` with `data`; true when there was one. */
  emit(event: string, data: unknown): boolean {
    const list = this.listeners.get(event);
    if (list === undefined) return false;
    for (const entry of [...list]) {
      if (entry.once) this.off(event, entry.fn);
      try {
        (entry.fn as Listener<unknown>)(data);
      } catch (err) {
        if (event !== 'error' && this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
        else console.error(`parley: a \`${event}\` listener threw`, err);
      }
    }
    return true;
  }

  clear(): void {
    this.listeners.clear();
  }
}
