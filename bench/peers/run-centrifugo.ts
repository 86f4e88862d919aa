/** Centrifugo as a peer: not measured yet (see the README's Performance section). */
import type { PeerResult } from './run-peers.ts';

export async function runCentrifugo(_seconds: number): Promise<PeerResult[]> {
  return [];
}
