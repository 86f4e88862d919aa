/**
 * Test runner configuration. The contract, integration and cluster suites
 * start real nats-server processes; on a small machine (two cores, as in CI)
 * test files run one at a time so that server start-up and timing-sensitive
 * assertions (timeouts, reconnects) do not compete for the CPU.
 */
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const cores = availableParallelism();

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    fileParallelism: cores > 2,
    maxWorkers: cores > 2 ? Math.min(4, Math.floor(cores / 2)) : 1,
  },
});
