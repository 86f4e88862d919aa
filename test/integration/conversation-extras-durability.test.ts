/**
 * Pins, quick comments, threads, clears and recall-adjusted unread counts
 * across a crash: kill -9 the engine right after the acknowledgements,
 * restart it on the same data (and the same NATS server), and every
 * acknowledged change is still there, and a device that was offline through
 * it all still has the pin and the comment replayed at its login. In NATS
 * mode the actors' LMDB state is then thrown away too, and the same answers
 * come back from the Log.
 */
import { expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Message, MsgRef } from '../../engine/protocol/methods.ts';
import type { SpawnedEngine } from '../helpers/engine.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useCrashableEngines } from '../helpers/crashable-engines.ts';

const refOf = (m: Message): MsgRef => ({ scene: m.scene, from: m.from, to: m.to, time: m.time, idServer: m.idServer });

describeBothModes('pins, comments, threads and clears across kill -9', ({ name, engineOptions }) => {
  const { start, client, dataDir } = useCrashableEngines(engineOptions);

  it('keeps every acknowledged pin, comment, reply, clear and unread count', async () => {
    const [me, bob, carol] = [`me-x-${name}`, `bob-x-${name}`, `carol-x-${name}`];
    let engine = await start();
    const m = await client(engine, me);
    const b = await client(engine, bob);
    const c = await client(engine, carol);
    const root = await b.sendText({ scene: 'p2p', to: me, text: 'root' });
    // A device that saw the root, then went offline before everything else.
    const desk = await client(engine, me, { deviceId: 'desk' });
    await desk.waitForSync(20_000);
    await waitFor('the desk holds the session', () => desk.cursors.sessions >= root.time);
    const cursors = desk.cursors;
    await desk.destroy();
    const reply = await m.sendText({ scene: 'p2p', to: bob, text: 'reply', replyMsg: refOf(root) });
    await m.addMsgPin({ msg: refOf(root), pinCustom: 'pinned' });
    await b.addQuickComment({ msg: refOf(reply), body: 7, custom: 'c' });
    await c.sendText({ scene: 'p2p', to: me, text: 'cleared' });
    await m.clearServerHistoryMsgs({ scene: 'p2p', to: carol });
    const kept = await c.sendText({ scene: 'p2p', to: me, text: 'after the clear' });
    const gone = await c.sendText({ scene: 'p2p', to: me, text: 'recalled' });
    await waitFor("carol's session to count three", async () => (await m.getServerSession({ scene: 'p2p', to: carol })).session.unread === 3);
    await c.recallMsg({ msg: refOf(gone) });
    await waitFor('the recall to leave the count', async () => (await m.getServerSession({ scene: 'p2p', to: carol })).session.unread === 2);

    const check = async (e: SpawnedEngine) => {
      const again = await client(e, me);
      expect((await again.getMsgPins(`p2p-${bob}`)).pins.map((p) => [p.msg.idServer, p.pinCustom])).toEqual([[root.idServer, 'pinned']]);
      expect((await again.getQuickComments({ msgs: [refOf(reply)] }))[0]!.comments.map((q) => [q.from, q.body, q.custom])).toEqual([[bob, 7, 'c']]);
      const thread = await again.getThreadMsgs({ scene: 'p2p', threadMsgFromAccount: bob, threadMsgToAccount: me, threadMsgIdServer: root.idServer, threadMsgTime: root.time });
      expect([thread.msgs.map((r) => r.idServer), thread.total]).toEqual([[reply.idServer], 1]);
      expect(thread.msgs[0]!.threadMessageInfo?.threadMsgIdServer).toBe(root.idServer);
      expect((await again.getHistoryMsgs({ scene: 'p2p', to: carol })).msgs.map((h) => h.idServer)).toEqual([kept.idServer]);
      expect((await again.getServerSession({ scene: 'p2p', to: carol })).session.unread).toBe(2);
      await again.destroy();
      const replayed: string[] = [];
      const back = await client(e, me, {
        deviceId: 'desk',
        cursors,
        on: {
          PinMsgChange: (d) => replayed.push(`pin ${d.type} ${d.pin.msg.idServer} ${d.pin.pinCustom}`),
          QuickComment: (d) => replayed.push(`comment ${d.msg.idServer} ${d.comment.from} ${d.comment.body}`),
          ClearServerHistoryMsgs: () => replayed.push('clear'),
        },
      });
      await back.waitForSync(20_000);
      expect(replayed).toEqual([`pin add ${root.idServer} pinned`, `comment ${reply.idServer} ${bob} 7`]);
      await back.destroy();
    };
    engine.process.kill('SIGKILL');
    await engine.exited;
    engine = await start();
    await check(engine);

    if (name === 'nats') {
      await engine.kill('SIGKILL');
      rmSync(join(dataDir(), 'state'), { recursive: true, force: true });
      engine = await start();
      await check(engine);
    }
    // Up to three engine starts, each waiting for its partitions.
  }, 90_000);
});
