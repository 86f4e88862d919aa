/**
 * A supergroup's recall notices for the login sync. An advanced group posts
 * each recall's `deleteMsg` notice to every member's notification store, so
 * a device offline at the recall gets it at its next login; a supergroup
 * writes nothing per member (10,000 stores per recall), and its online
 * members hear the notice once on the group subject. A device that was
 * offline gets it from the group instead: the recalls the group keeps
 * (`KEPT_RECALLS`), from those past the device's cursor, oldest first.
 * I/O free: the notices are read through `noticeOf`.
 */
import { encode } from '../../engine/protocol/codec.ts';
import type { SysMsg } from '../../engine/protocol/objects.ts';
import type { TeamState } from './logic.ts';

/** Arguments of `syncRecalls`. */
export interface RecallSyncArgs {
  /** The member whose device logs in. */
  viewer: string;
  /** The device's `sysmsgs` cursor (ms): recalls made up to it are not sent. Absent: every kept one. */
  since?: number;
  /** The `next` of the previous page: [recall time, seq] of the last notice it held. */
  after?: [number, number];
  /** Most bytes of the page, when the caller needs less than the Bus carries. */
  maxBytes?: number;
}

/** One page of recall notices, oldest recall first; `next` is set when more follow. */
export interface RecallSyncPage {
  sysmsgs: SysMsg[];
  next?: [number, number];
}

/** [recall time, seq]: the order notices are sent in, and where a page resumes. */
type Place = [number, number];

function before(x: Place, y: Place): boolean {
  return x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]);
}

/**
 * The page of `a.viewer`'s recall notices within `budget` bytes (at least
 * one notice when any is due): the kept recalls made once it was a member
 * (as a device of it online then heard them), after `a.since` and after
 * `a.after`. Nothing for a non-member or a group not created.
 * `noticeOf(seq)` is the notice kept on the recalled message's row.
 */
export function recallNoticePage(state: TeamState, a: RecallSyncArgs, budget: number, noticeOf: (seq: number) => SysMsg | undefined): RecallSyncPage {
  const page: RecallSyncPage = { sysmsgs: [] };
  const row = state.team?.valid === true ? state.members.get(a.viewer) : undefined;
  if (row === undefined) return page;
  const since = typeof a.since === 'number' ? a.since : undefined;
  const after = Array.isArray(a.after) && typeof a.after[0] === 'number' && typeof a.after[1] === 'number' ? (a.after as Place) : undefined;
  const due: Array<{ place: Place; notice: SysMsg | undefined }> = [];
  for (const kept of state.recalls) {
    const [seq] = kept;
    // Recalls kept before their time was: the notice on the row holds it.
    const notice = kept[3] === undefined ? noticeOf(seq) : undefined;
    const at = kept[3] ?? notice?.time;
    if (at === undefined || at < row.joinTime) continue;
    if (since !== undefined && at <= since) continue;
    const place: Place = [at, seq];
    if (after !== undefined && !before(after, place)) continue;
    due.push({ place, notice });
  }
  due.sort((x, y) => (before(x.place, y.place) ? -1 : before(y.place, x.place) ? 1 : 0));
  let bytes = 0;
  let last: Place | undefined;
  for (const { place, notice } of due) {
    const msg = notice ?? noticeOf(place[1]);
    if (msg === undefined) continue;
    const size = encode(msg).byteLength;
    if (last !== undefined && bytes + size > budget) {
      page.next = last;
      break;
    }
    page.sysmsgs.push(msg);
    bytes += size;
    last = place;
  }
  return page;
}
