#!/usr/bin/env node
// Launches the audex CLI from its TypeScript sources: tsx compiles on the fly and a resolve hook adds
// the `@audex/source` condition, so workspace packages are read from `src/` and no build is needed.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./source-condition-hooks.mjs', import.meta.url);
await import('../src/main.ts');
