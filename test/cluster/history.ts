/**
 * Reading a conversation's whole server history and checking it against what
 * the load's clients were told: gapless `seq` from 1, every acknowledged
 * message exactly once (same idServer, seq and idClient as acknowledged), no
 * `(from, idClient)` twice, and nothing nobody sent.
 */
import type { Message, ParleyClient } from '../../client/index.ts';
import type { LoadClient } from './load.ts';

/** Every message of the p2p conversation of `client` with `peer`, oldest first (pages of 100). */
export async function readHistory(client: ParleyClient, peer: string): Promise<Message[]> {
  const out: Message[] = [];
  let page = (await client.getHistoryMsgs({ scene: 'p2p', to: peer, limit: 100, reverse: true, asc: true })).msgs;
  while (page.length > 0) {
    out.push(...page);
    const last = page[page.length - 1]!;
    page = (
      await client.getHistoryMsgs({ scene: 'p2p', to: peer, limit: 100, reverse: true, asc: true, beginTime: last.time, lastMsgId: last.idServer })
    ).msgs;
  }
  return out;
}

const SHOWN = 5;

function capped(list: string[], what: string): string[] {
  return list.length <= SHOWN ? list : [...list.slice(0, SHOWN), `… and ${list.length - SHOWN} more ${what}`];
}

/**
 * The problems of `history` written by `senders` (both clients of a pair);
 * an empty list when it is sound.
 */
export function historyProblems(history: readonly Message[], senders: readonly LoadClient[]): string[] {
  const problems: string[] = [];
  const name = senders[0]?.address ?? 'conversation';

  const badSeq: string[] = [];
  history.forEach((m, i) => {
    if (m.seq !== i + 1) badSeq.push(`position ${i + 1} holds seq ${m.seq} (${m.idServer})`);
  });
  problems.push(...capped(badSeq, 'seq problems').map((p) => `${name}: seq not gapless: ${p}`));

  const byId = new Map<string, Message[]>();
  const byClientId = new Map<string, Message[]>();
  for (const m of history) {
    byId.set(m.idServer, [...(byId.get(m.idServer) ?? []), m]);
    const key = `${m.from}/${m.idClient}`;
    byClientId.set(key, [...(byClientId.get(key) ?? []), m]);
  }
  const dupIds = [...byId].filter(([, ms]) => ms.length > 1).map(([id, ms]) => `${id} at seqs ${ms.map((m) => m.seq).join(',')}`);
  problems.push(...capped(dupIds, 'duplicates').map((p) => `${name}: idServer twice: ${p}`));
  const dupClient = [...byClientId].filter(([, ms]) => ms.length > 1).map(([key, ms]) => `${key} at seqs ${ms.map((m) => m.seq).join(',')}`);
  problems.push(...capped(dupClient, 'duplicates').map((p) => `${name}: idClient stored twice: ${p}`));

  const senderOf = new Map(senders.map((s) => [s.account, s]));
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const s of senders) {
    for (const ack of s.acked) {
      const found = byId.get(ack.msg.idServer);
      if (found === undefined) {
        missing.push(`${s.account} #${ack.n} (idServer ${ack.msg.idServer}, seq ${ack.msg.seq}, acknowledged at ${new Date(ack.at).toISOString()})`);
        continue;
      }
      const m = found[0]!;
      if (m.seq !== ack.msg.seq || m.idClient !== ack.msg.idClient || m.from !== s.account) {
        wrong.push(`${ack.msg.idServer}: acknowledged as seq ${ack.msg.seq}/${ack.msg.idClient}, stored as seq ${m.seq}/${m.from}/${m.idClient}`);
      }
    }
  }
  problems.push(...capped(missing, 'missing').map((p) => `${name}: acknowledged message not in history: ${p}`));
  problems.push(...capped(wrong, 'mismatches').map((p) => `${name}: history differs from the acknowledgement: ${p}`));

  const unknown: string[] = [];
  for (const m of history) {
    const s = senderOf.get(m.from);
    if (s === undefined) unknown.push(`${m.idServer} from ${m.from}`);
    else if (!s.idServerOf.has(m.idClient) && !s.unresolved.has(m.idClient)) unknown.push(`${m.idServer}: ${m.from}/${m.idClient} was never sent`);
  }
  problems.push(...capped(unknown, 'unknown messages').map((p) => `${name}: unexpected message: ${p}`));
  return problems;
}

/** Reads the history of each pair (through its first client) and returns every problem found, plus the histories. */
export async function checkHistories(
  pairs: readonly (readonly [LoadClient, LoadClient])[],
): Promise<{ problems: string[]; histories: Map<string, Message[]> }> {
  const problems: string[] = [];
  const histories = new Map<string, Message[]>();
  for (const [a, b] of pairs) {
    const history = await readHistory(a.client, b.account);
    histories.set(a.address, history);
    problems.push(...historyProblems(history, [a, b]));
  }
  return { problems, histories };
}
