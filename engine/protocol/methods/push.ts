/**
 * Push notifications: a device registers the token its platform's push
 * service gave it (`registerPushToken`); the account's presence actor
 * (`presence:<account>`) keeps it with the account's devices, one per
 * device, until the device registers another, logs out (`logout`) or is
 * displaced by another login under the login policy. A socket that merely
 * drops keeps its token: that is when pushes matter.
 * The host's backend learns whom to alert from the `push` webhook events
 * (engine/webhooks/push.ts); Parley itself talks to no push service.
 * Browser-safe.
 */
import * as s from '../schema.ts';
import { actorMethod, returns } from '../registry.ts';
import { presenceAddress } from '../../subjects.ts';

/**
 * The push services a token may come from: Apple (`apns`), Firebase
 * (`fcm`) and the Android vendors' own services.
 */
export const PUSH_PROVIDERS = ['apns', 'fcm', 'huawei', 'xiaomi', 'vivo', 'oppo', 'honor', 'meizu'] as const;
export type PushProvider = (typeof PUSH_PROVIDERS)[number];

/** Longest push token, characters (APNs tokens are 64, FCM tokens about 160). */
export const MAX_PUSH_TOKEN_CHARS = 512;
/** Most devices with a token per account: registering one more forgets the one registered longest ago. */
export const MAX_PUSH_TOKENS = 20;

/** A device's push registration, as `registerPushToken` answers it. */
export interface PushRegistration {
  deviceId: string;
  provider: PushProvider;
  /** When it was registered (or last changed), ms. */
  updateTime: number;
}

export const pushMethods = {
  registerPushToken: actorMethod({
    doc: "Registers this device's push `token` (printable ASCII, at most 512 characters) from `provider` (apns, fcm, huawei, xiaomi, vivo, oppo, honor or meizu), replacing the device's earlier one; kept until the device logs out (`logout`) or another login displaces it. The host's backend gets `push` webhook events for the device while it is offline.",
    owner: 'presence',
    address: (account) => presenceAddress(account),
    args: s.object({
      token: s.string({ min: 1, max: MAX_PUSH_TOKEN_CHARS, pattern: /^[\x21-\x7e]+$/, patternText: 'printable ASCII without spaces' }),
      provider: s.literal(PUSH_PROVIDERS),
    }),
    result: returns<PushRegistration>(),
    retry: 'idempotent',
    errors: [],
  }),
};
