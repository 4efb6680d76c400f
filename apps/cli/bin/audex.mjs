#!/usr/bin/env node
// Launches the audex CLI from its TypeScript sources in the repository (the published command is the
// built dist/audex.js): tsx compiles on the fly and a resolve hook adds the `@audex/source` condition,
// so workspace packages are read from `src/` and no build is needed.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./source-condition-hooks.mjs', import.meta.url);
await import('../src/main.ts');
