/** Account names for tests. */

let accountSeq = 0;
/** A fresh account name per call (`name`, a counter and the time), so tests never share conversations. */
export function freshAccount(name: string): string {
  return `${name}${++accountSeq}x${Date.now().toString(36)}`;
}
