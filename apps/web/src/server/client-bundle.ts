import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = fileURLToPath(new URL('../client/main.ts', import.meta.url));

/** Compiles the browser script (`src/client/main.ts`) to one ES module, in memory, once per server. */
export async function buildClientScript(): Promise<string> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('[audex/web] esbuild produced no client script');
  return file.text;
}
