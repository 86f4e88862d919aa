/**
 * history-read: readers page through a conversation's history with
 * getHistoryMsgs (newest first, `limit` per page) while its sender keeps
 * writing at `sendRate` per second. Measures page latency and pages per
 * second; checks that every pass sees each `seq` from the newest down to 1
 * exactly once.
 */
import { defineScenario, stampedText } from '../driver/scenario.ts';
import { loginPair } from './p2p-throughput.ts';

export default defineScenario({
  name: 'history-read',
  describe: 'paged getHistoryMsgs under concurrent writes: page latency, pages/s, every seq once per pass',
  options: { vus: 20, duration: 10, warmup: 1, messages: 200, limit: 50, sendRate: 2, bytes: 100 },
  smoke: { vus: 4, duration: 2, warmup: 0.5, messages: 60, limit: 20 },
  headline: ['pages.rate', 'page.p50', 'page.p99', 'historyMsgs.rate'],
  checks: ['gaps == 0', 'duplicates == 0', 'orderErrors == 0', 'passes.count > 0'],
  thresholds: ['page.p99 < 500'],
  async vu(ctx) {
    const limit = ctx.opt('limit');
    const bytes = ctx.opt('bytes');
    const { sender, receiver: reader, to } = await loginPair(ctx, 'hist');
    let k = 0;
    const seed = async () => {
      while (k < ctx.opt('messages')) await sender.request('sendText', { scene: 'p2p', to, text: stampedText(++k, ctx.now(), bytes) });
    };
    await Promise.all(Array.from({ length: 8 }, seed));
    const t0 = await ctx.barrier('seeded');
    const from = t0 + ctx.options.warmup * 1000;
    const until = from + ctx.options.duration * 1000;
    ctx.window(from, until);
    const writer = (async () => {
      while (ctx.now() < until) {
        await sender.request('sendText', { scene: 'p2p', to, text: stampedText(++k, ctx.now(), bytes) });
        await ctx.sleep(1000 / ctx.opt('sendRate'));
      }
    })();
    const peer = `${ctx.tag}-hist-a${ctx.vu}`;
    while (ctx.now() < until) {
      let expected: number | undefined;
      let anchor: { endTime: number; lastMsgId: string } | undefined;
      for (;;) {
        const started = ctx.now();
        const r = await reader.request('getHistoryMsgs', { scene: 'p2p', to: peer, limit, ...(anchor ?? {}) });
        const at = ctx.now();
        if (at >= from) {
          ctx.trend('page', at - started, at);
          ctx.count('pages', 1, at);
          ctx.count('historyMsgs', r.msgs.length, at);
        }
        for (const msg of r.msgs) {
          const want: number = expected ?? msg.seq;
          if (msg.seq > want) ctx.count('duplicates');
          else if (msg.seq < want) ctx.count('gaps', want - msg.seq);
          if (msg.seq !== want) ctx.count('orderErrors');
          expected = msg.seq - 1;
        }
        const last = r.msgs.at(-1);
        if (r.msgs.length < limit || last === undefined) break;
        anchor = { endTime: last.time, lastMsgId: last.idServer };
      }
      if (expected !== 0) ctx.count('gaps', expected ?? 1);
      ctx.count('passes');
    }
    await writer;
    sender.close();
    reader.close();
  },
});
