/**
 * Loads uWebSockets.js. The package's own entry silently falls back to a slow
 * `ws`-based shim when its native binary does not match this Node; Parley
 * loads the binary itself and refuses to start without it unless the
 * operator allows the fallback (`allowUwsFallback`).
 */
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type * as UwsTypes from 'uWebSockets.js';
import { logger } from '../engine/logger.ts';

export type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  WebSocket,
  WebSocketBehavior,
  us_listen_socket,
  us_socket,
  us_socket_context_t,
} from 'uWebSockets.js';

/** The uWebSockets.js module as its typings describe it. */
export type Uws = typeof UwsTypes;

const require = createRequire(import.meta.url);

let cached: { uws: Uws; native: boolean } | undefined;

/** The Node ABIs (`process.versions.modules`) the installed package ships binaries for, e.g. `93, 108, 115`. */
export function supportedAbis(): string[] {
  try {
    const dir = join(dirname(require.resolve('uWebSockets.js/package.json')), 'binaries');
    const prefix = `uws_${process.platform}_${process.arch}_`;
    return readdirSync(dir)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.node'))
      .map((f) => f.slice(prefix.length, -'.node'.length))
      .sort((a, b) => Number(a) - Number(b));
  } catch {
    return [];
  }
}

/**
 * Returns uWebSockets.js, loading the native binary for this platform, arch
 * and Node ABI. When it cannot load: throws, or with `allowFallback` (default
 * false) loads the package's slow JavaScript fallback and logs a warning.
 */
export function loadUws(options: { allowFallback?: boolean } = {}): Uws {
  if (cached !== undefined && (cached.native || options.allowFallback === true)) return cached.uws;
  const binary = `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    cached = { uws: require(binary) as Uws, native: true };
    return cached.uws;
  } catch (err) {
    const abis = supportedAbis();
    const why =
      `the native uWebSockets.js binary for ${process.platform}-${process.arch}, Node ${process.version} ` +
      `(ABI ${process.versions.modules}) could not be loaded: ${(err as Error).message}. ` +
      `Supported Node ABIs on this platform: ${abis.length > 0 ? abis.join(', ') : 'none'} ` +
      `(93 = Node 16, 108 = Node 18, 115 = Node 20).`;
    if (options.allowFallback !== true) {
      throw new Error(
        `${why} The edge needs the native build; use a supported Node version, or set ` +
          `PARLEY_ALLOW_UWS_FALLBACK=true to run on the slow ws-based fallback.`,
        { cause: err },
      );
    }
    logger.warn('uWebSockets.js native binary unavailable; using the slow ws-based fallback', { reason: why });
    cached = { uws: require('uWebSockets.js') as Uws, native: false };
    return cached.uws;
  }
}
