#!/usr/bin/env node
// Starts the audex web demo from its TypeScript sources (`pnpm start`; not published: `audex web` runs
// the built server): tsx compiles on the fly and a resolve hook adds the `@audex/source` condition,
// so workspace packages are read from `src/` (no build needed).
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./source-condition-hooks.mjs', import.meta.url);
await import('../src/server/main.ts');
