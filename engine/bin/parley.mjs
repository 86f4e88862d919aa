#!/usr/bin/env node
// Runs the TypeScript entry through tsx, so `parley` works from a checkout without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli.ts');
