/**
 * Events made from other events inside the webhook feed. The feed reads an
 * event off the Log (a `msg.sent`, say) and hands it to each deriver; what
 * a deriver returns is delivered on the same lane, after the event it came
 * from, and the feed's cursor passes that Log entry only once every event
 * made from it was acknowledged or recorded dead. A deriver runs again for
 * an entry read again after a restart, so it must give the same ids for the
 * same input (for example `<event id>:push:<account>:<device>`).
 *
 * The push hook (`push.ts`) is one: for a sent message it returns one `push`
 * event per recipient device that is offline and should be alerted.
 */
import type { WebhookEvent } from './sender.ts';

export type WebhookDeriver = (event: WebhookEvent) => Promise<WebhookEvent[]>;
