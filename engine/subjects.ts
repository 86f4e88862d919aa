/**
 * Subject names and partitioning, in one place so every role agrees.
 *
 *   parley.p.<partition>              requests for the actors of a partition
 *   parley.dlv.<account>              deliveries to an account's online devices
 *   parley.grp.<teamId>               a supergroup's messages, once per edge with members online
 *   parley.log.<partition>.<address>  Log subject of one actor
 *   parley.log.<partition>.fence      markers of each new owner of a partition
 */

/** Actor kinds and their address prefix: `conv:<a>|<b>`, `user:<account>`. */
export type ActorKind = 'conv' | 'user' | 'team' | 'superTeam' | 'userTeams' | 'channel' | 'presence' | 'pushToken';

/** FNV-1a 32-bit over the UTF-16 code units: stable across processes and versions. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The partition that owns `address`, for a cluster of `partitions` partitions. */
export function partitionOf(address: string, partitions: number): number {
  return hash32(address) % partitions;
}

const SAFE_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Turns an arbitrary identifier into one subject token. Safe identifiers pass
 * through; anything else (dots, wildcards, spaces, non-ASCII) becomes `~` and
 * its base64url, so distinct identifiers never share a token.
 */
export function subjectToken(id: string): string {
  if (SAFE_TOKEN.test(id)) return id;
  return '~' + base64url(new TextEncoder().encode(id));
}

/** The identifier a subject token stands for (the inverse of subjectToken). */
export function tokenValue(token: string): string {
  if (!token.startsWith('~')) return token;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (let i = 1; i < token.length; i++) {
    value = (value << 6) | alphabet.indexOf(token[i]!);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >> bits) & 0xff);
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function base64url(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]!;
  }
  return out;
}

export function requestSubject(partition: number): string {
  return `parley.p.${partition}`;
}

export function deliverySubject(account: string): string {
  return `parley.dlv.${subjectToken(account)}`;
}

/** A supergroup's fan-out subject: one publish per message, received by each edge holding a member's socket. */
/** Where edges confirm they applied one event-subscription change (`EventsControl.ack`). */
export function eventAckSubject(edge: string, n: number): string {
  return `parley.evack.${subjectToken(edge)}.${n}`;
}

export function groupSubject(teamId: string): string {
  return `parley.grp.${subjectToken(teamId)}`;
}

/** Log subject of an actor: `parley.log.<partition>.<kind>.<id-token>`. */
export function logSubject(address: string, partition: number): string {
  const colon = address.indexOf(':');
  return `parley.log.${partition}.${address.slice(0, colon)}.${subjectToken(address.slice(colon + 1))}`;
}

/** The actor address of a Log subject (`parley.log.<p>.<kind>.<token>`), undefined for other subjects. */
export function addressOfLogSubject(subject: string): string | undefined {
  const parts = subject.split('.');
  if (parts.length !== 5 || parts[0] !== 'parley' || parts[1] !== 'log') return undefined;
  return `${parts[3]}:${tokenValue(parts[4]!)}`;
}

/** Where each new owner of a partition appends its marker; the partition's appends expect the latest. */
export function fenceSubject(partition: number): string {
  return `parley.log.${partition}.fence`;
}

/** The p2p conversation of two accounts: `conv:<a>|<b>` with the pair sorted. */
export function p2pAddress(a: string, b: string): string {
  return a < b ? `conv:${a}|${b}` : `conv:${b}|${a}`;
}

export function userAddress(account: string): string {
  return `user:${account}`;
}

/** The actor that knows which of `account`'s devices are online. */
export function presenceAddress(account: string): string {
  return `presence:${account}`;
}
