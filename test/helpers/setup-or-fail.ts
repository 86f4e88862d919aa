/** Suite set-up whose failure fails the tests instead of skipping them. */
import { beforeAll, beforeEach } from 'vitest';

/**
 * `beforeAll(setup)`, except that an error (no nats-server, say) fails every
 * test of the block with that error: a throwing `beforeAll` would only mark
 * them skipped.
 */
export function setupOrFail(setup: () => Promise<void> | void): void {
  let failure: unknown;
  beforeAll(async () => {
    try {
      await setup();
    } catch (err) {
      failure = err;
    }
  });
  beforeEach(() => {
    if (failure !== undefined) throw failure;
  });
}
