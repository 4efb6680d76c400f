// Where the page's files come from: the static files in `public/`, and the browser script, which the
// package build writes to `dist/client/app.js` and a server running from sources compiles in memory.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebError } from '../errors.js';

const PACKAGE_NAME = '@audex/web';

/** The browser script's path inside the package, as the build writes it and the installed server reads it. */
export const CLIENT_SCRIPT_FILE = 'dist/client/app.js';

function isPackageRoot(dir: string): boolean {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return false;
  try {
    return JSON.parse(readFileSync(manifest, 'utf8')).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/**
 * The directory of this package (`apps/web` in the repository, `node_modules/@audex/web` installed):
 * the nearest parent of this module holding the package's `package.json`. Sources (`src/server/`) and
 * the build (`dist/`) sit at different depths, so the path is found, not assumed.
 */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (isPackageRoot(dir)) return dir;
    if (dirname(dir) === dir) throw new Error(`[audex/web] no ${PACKAGE_NAME} package.json above ${here}`);
  }
}

/** True when this module runs from the TypeScript sources (`pnpm start`, tests), not from the build. */
function runningFromSources(root: string): boolean {
  return fileURLToPath(import.meta.url).startsWith(join(root, 'src') + sep);
}

/**
 * Compiles the browser script (`src/client/main.ts`) to one ES module with esbuild, in memory. The
 * package build writes this same output to {@link CLIENT_SCRIPT_FILE}; esbuild is a build-time
 * dependency only, so it is imported here on demand.
 *
 * @param root - the package directory (see {@link packageRoot}).
 * @param sourcemap - `'inline'` while developing; none in the published file.
 */
export async function compileClientScript(root: string, sourcemap: 'inline' | false): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(root, 'src/client/main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap,
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('[audex/web] esbuild produced no client script');
  return file.text;
}

/**
 * The browser script the server sends as `/app.js`: compiled from the sources when the server runs
 * from them (so edits show on reload), else the file the package build shipped.
 */
export async function loadClientScript(): Promise<string> {
  const root = packageRoot();
  if (runningFromSources(root)) return compileClientScript(root, 'inline');
  return readClientScriptFile(root);
}

/** Reads the built browser script; a missing file means a broken install and says so. */
export async function readClientScriptFile(root: string): Promise<string> {
  const file = join(root, CLIENT_SCRIPT_FILE);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new WebError(
      'CLIENT_MISSING',
      `the browser script ${file} is missing; the package was not built before packing (run pnpm build in apps/web) or the install is damaged`,
      { cause: error },
    );
  }
}

/** The directory of the static files (`index.html`, `style.css`). */
export function publicDir(): string {
  return join(packageRoot(), 'public');
}
