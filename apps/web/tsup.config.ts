// @audex/web's build: the server library (ESM + CJS + .d.ts) with the shared recipe, then the browser
// script compiled by the same function the server uses from sources, written to dist/client/app.js.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTsupConfig } from '@audex/tsup-config';
import { CLIENT_SCRIPT_FILE, compileClientScript } from './src/server/client-bundle.js';

const root = dirname(fileURLToPath(import.meta.url));

export default createTsupConfig({
  // esbuild compiles the browser script from sources during development only
  external: ['esbuild'],
  async onSuccess() {
    const file = join(root, CLIENT_SCRIPT_FILE);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, await compileClientScript(root, false));
  },
});
