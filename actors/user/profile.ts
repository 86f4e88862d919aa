/**
 * The account's profile, kept by its user actor: `getUser` reads it (an
 * account that never set a field has an empty one, `updateTime` 0),
 * `updateMyInfo` sets fields and tells the account's other devices with
 * `updatemyinfo`; the login sync sends it as `myinfo`. Pure: no I/O.
 */
import type { Args } from '../../engine/protocol/methods.ts';
import type { UserProfile } from '../../engine/protocol/objects.ts';

/** The fields `updateMyInfo` stores. */
export const PROFILE_FIELDS = ['nick', 'avatar', 'sign', 'gender', 'email', 'birth', 'tel', 'custom'] as const;
export type ProfileFields = Partial<Pick<UserProfile, (typeof PROFILE_FIELDS)[number]>>;

export type ProfileEvent = { t: 'profile'; fields: ProfileFields; time: number; conn?: string };

/** The profile of `account` as stored (undefined: never set) seen from outside. */
export function profileView(account: string, stored: UserProfile | undefined): UserProfile {
  return stored === undefined ? { account, createTime: 0, updateTime: 0 } : { ...stored };
}

/**
 * The fields of an `updateMyInfo` that change the profile: nothing when
 * every one given holds its value already (a repeat), so repeats are free.
 */
export function decideProfile(stored: UserProfile | undefined, a: Args<'updateMyInfo'>, now: number, conn: string | undefined): ProfileEvent[] {
  const fields: ProfileFields = {};
  let changed = false;
  for (const f of PROFILE_FIELDS) {
    const v = a[f];
    if (v === undefined) continue;
    (fields as Record<string, unknown>)[f] = v;
    if ((stored?.[f] ?? '') !== v) changed = true;
  }
  if (!changed) return [];
  const time = Math.max(now, (stored?.updateTime ?? 0) + 1);
  return [conn === undefined ? { t: 'profile', fields, time } : { t: 'profile', fields, time, conn }];
}

/** The profile as an event leaves it; an empty string clears a field. */
export function applyProfile(account: string, stored: UserProfile | undefined, e: ProfileEvent): UserProfile {
  const next: UserProfile = stored === undefined ? { account, createTime: e.time, updateTime: e.time } : { ...stored, updateTime: e.time };
  for (const [f, v] of Object.entries(e.fields)) {
    if (v === '') delete (next as unknown as Record<string, unknown>)[f];
    else (next as unknown as Record<string, unknown>)[f] = v;
  }
  return next;
}
