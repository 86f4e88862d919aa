/**
 * Who holds a push token now (`pushToken:<sha-256 of the token>`): one
 * device of one account. A token belongs to an app install, not to an
 * account: when another account registers it on the same install (the user
 * switched accounts without logging out), the previous holder's presence
 * actor is told to forget it, so its messages stop alerting a phone it no
 * longer uses. The latest registration wins, by the registering presence
 * actor's clock; a claim older than the holder's is the one released.
 *
 * The address carries a digest, never the token, so Log subjects and log
 * lines name no token. The state is one small record, kept in the snapshot.
 */
import { createHash } from 'node:crypto';
import type { Effect } from '../../engine/actor/behavior.ts';
import { callEffect, defineActor } from '../../engine/actor/define.ts';
import { internal, returns, takes } from '../../engine/protocol/registry.ts';
import { presenceAddress } from '../../engine/subjects.ts';
import { presenceCalls } from './calls.ts';

/** A device that registered the token, and when. */
export interface TokenHolder {
  account: string;
  deviceId: string;
  /** Registration time, ms (the registering presence actor's clock). */
  time: number;
}

export type TokenHolderEvent =
  /** `holder` holds the token now; `released`, if any, held it before. */
  | { t: 'claimed'; holder: TokenHolder; released?: TokenHolder }
  /** A claim older than the holder's: the claimant is the one to forget the token. */
  | { t: 'stale'; released: TokenHolder };

export const tokenHolderCalls = {
  claim: internal({
    doc: 'A device registered the token: it holds it unless a later registration does; a device that held it before is told to forget it.',
    args: takes<TokenHolder>(),
    result: returns<boolean>(),
    retry: 'idempotent',
  }),
};

/** The digest a token's holder actor is named by. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function tokenHolderAddress(token: string): string {
  return `pushToken:${tokenDigest(token)}`;
}

/** Whether claim `a` is later than `b`: by time, then by account and device for a tie, so every replay agrees. */
function later(a: TokenHolder, b: TokenHolder): boolean {
  if (a.time !== b.time) return a.time > b.time;
  if (a.account !== b.account) return a.account > b.account;
  return a.deviceId > b.deviceId;
}

const same = (a: TokenHolder, b: TokenHolder) => a.account === b.account && a.deviceId === b.deviceId;

/** What a claim changes: nothing for a repeat, a new holder for a later claim, a release of the claimant for an earlier one. */
export function decideClaim(holder: TokenHolder | undefined, claim: TokenHolder): TokenHolderEvent[] {
  if (holder === undefined) return [{ t: 'claimed', holder: claim }];
  if (same(holder, claim)) return claim.time > holder.time ? [{ t: 'claimed', holder: claim }] : [];
  return later(claim, holder) ? [{ t: 'claimed', holder: claim, released: holder }] : [{ t: 'stale', released: claim }];
}

interface TokenHolderState {
  digest: string;
  holder: TokenHolder | undefined;
}

export const tokenHolderBehavior = defineActor<'pushToken', TokenHolderState, TokenHolderEvent, typeof tokenHolderCalls>({
  kind: 'pushToken',
  calls: tokenHolderCalls,

  load(ctx) {
    const snap = ctx.store.snapshot<{ logSeq: number; holder?: TokenHolder }>(ctx.address);
    return { state: { digest: ctx.id, holder: snap?.holder }, logSeq: snap?.logSeq ?? 0 };
  },

  methods: {},

  callHandlers: {
    claim: (state, a) => ({ reply: true, events: decideClaim(state.holder, { account: a.account, deviceId: a.deviceId, time: a.time }) }),
  },

  events: {
    claimed: {
      apply(state, e) {
        state.holder = e.holder;
      },
    },
    stale: { apply() {} },
  },

  persistBatch(state, _events, logSeq, ctx) {
    ctx.store.putSnapshot(ctx.address, state.holder === undefined ? { logSeq } : { logSeq, holder: state.holder });
  },

  effects(state, events) {
    const out: Effect[] = [];
    for (const e of events) {
      const gone = e.released;
      if (gone === undefined) continue;
      out.push(callEffect(presenceCalls, 'releaseToken', presenceAddress(gone.account), { deviceId: gone.deviceId, digest: state.digest }));
    }
    return out;
  },
});
