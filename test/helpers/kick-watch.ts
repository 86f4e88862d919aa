/** What an SDK client hears around a kick: its `kicked` events, its disconnects and its account's login-port changes. */
import type { ParleyClient } from '../../client/index.ts';
import type { ClientEvents } from '../../client/events.ts';

export interface Heard {
  kicked: Array<ClientEvents['kicked']>;
  closes: Array<ClientEvents['disconnect']>;
  ports: Array<ClientEvents['loginportschange']>;
}

/** Starts recording what `c` hears. */
export function watch(c: ParleyClient): Heard {
  const seen: Heard = { kicked: [], closes: [], ports: [] };
  c.on('kicked', (d) => seen.kicked.push(d));
  c.on('disconnect', (d) => seen.closes.push(d));
  c.on('loginportschange', (d) => seen.ports.push(d));
  return seen;
}
