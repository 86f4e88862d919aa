export interface PeerResult { system: string; scenario: string; rate: number }
export async function runPeers(_o: unknown): Promise<PeerResult[]> { return []; }
