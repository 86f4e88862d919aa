/**
 * Runs one suite in both deployment modes: embedded (in-process Bus, LMDB
 * Log) and NATS (a real nats-server with JetStream, started for the suite and
 * stopped after it). A missing nats-server fails the NATS run's tests; it
 * never skips them.
 */
import { afterAll, describe } from 'vitest';
import { startEngine, type EngineOptions, type TestEngine } from './engine.ts';
import { useNatsServer, type NatsServerOptions } from './nats-server.ts';
import { setupOrFail } from './setup-or-fail.ts';

export type ModeName = 'embedded' | 'nats';

export interface Mode {
  readonly name: ModeName;
  /** `options` with the NATS URL added in NATS mode, as given in embedded mode. */
  engineOptions<T extends EngineOptions>(options?: T): T;
  /**
   * One in-process engine for the block, in this mode: started before its
   * tests (a failure fails them) and stopped after. The returned object reads
   * through to the running engine.
   */
  useEngine(options?: EngineOptions): TestEngine;
}

/** Options of `describeBothModes`. */
export interface BothModesOptions {
  /** For the NATS run's server; default JetStream on. */
  nats?: NatsServerOptions;
}

/** `describe(\`${title} (embedded)\`)` and `describe(\`${title} (nats)\`)`, each calling `body` with its mode. */
export function describeBothModes(title: string, body: (mode: Mode) => void, options: BothModesOptions = {}): void {
  for (const name of ['embedded', 'nats'] as const) {
    describe(`${title} (${name})`, () => {
      // Registered before the body's hooks: the server is up before they start an engine and stopped after they stop it.
      const server = name === 'nats' ? useNatsServer({ jetstream: true, ...options.nats }) : undefined;
      const engineOptions = <T extends EngineOptions>(opts = {} as T): T => (server === undefined ? opts : { ...opts, natsUrl: server().url });
      body({ name, engineOptions, useEngine: (opts) => useEngine(() => engineOptions(opts)) });
    });
  }
}

function useEngine(options: () => EngineOptions): TestEngine {
  let engine: TestEngine | undefined;
  setupOrFail(async () => {
    engine = await startEngine(options());
  });
  afterAll(async () => {
    await engine?.stop();
  });
  const running = (): TestEngine => {
    if (engine === undefined) throw new Error('the engine is not running (used outside a test, or its start failed)');
    return engine;
  };
  return {
    get port() {
      return running().port;
    },
    get url() {
      return running().url;
    },
    get dataDir() {
      return running().dataDir;
    },
    get config() {
      return running().config;
    },
    get edge() {
      return running().edge;
    },
    get actors() {
      return running().actors;
    },
    stop: () => running().stop(),
  };
}
