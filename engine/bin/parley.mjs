#!/usr/bin/env -S node --max-semi-space-size=64
// Runs the compiled engine, dist/engine/cli.js. When a source changed since the
// last build it builds first (scripts/build.mjs); when it cannot build, it says
// what to run and exits rather than running the TypeScript some other way.
import { pathToFileURL } from 'node:url';
import { BuildError, build } from '../../scripts/build.mjs';

let entry;
try {
  entry = build({ ifStale: true });
} catch (err) {
  if (!(err instanceof BuildError)) throw err;
  process.stderr.write(`parley: ${err.message}\n`);
  process.exit(1);
}
// The same as --enable-source-maps for every module loaded from here on: stack traces name the .ts lines.
process.setSourceMapsEnabled(true);
await import(pathToFileURL(entry).href);
