// `pnpm start` in the repository: starts the web demo from the environment (PORT, HOST,
// AUDEX_STORE_DIR, AUDEX_SOURCE, AUDEX_SPOOL_DIR, AUDEX_PRE_ROLL_MS, AUDEX_ROTATE_MS,
// AUDEX_SILENCE_MS) and stops it, saving any recording, on Ctrl-C.
import { resolve } from 'node:path';
import { LocalStore } from '@audex/store';
import { isWebError } from '../errors.js';
import { DEFAULT_WEB_HOST, DEFAULT_WEB_PORT, startWebDemo, type WebDemoSource } from './start-web-demo.js';

const portText = process.env.PORT ?? String(DEFAULT_WEB_PORT);
if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
  process.stderr.write(
    `[audex/web] PORT "${portText.slice(0, 40)}" is not a TCP port; use a whole number from 0 to 65535 (0 picks a free port)\n`,
  );
  process.exit(2);
}
// `pnpm start` runs in apps/web; resolve the default store against where the user typed the command
const base = process.env.INIT_CWD ?? process.cwd();
const root = resolve(base, process.env.AUDEX_STORE_DIR ?? 'recordings');
const sourceName = process.env.AUDEX_SOURCE || 'portaudio';

/** A number of ms from the environment; text that is not one is passed on as it is, so the check names it. */
function envMs(value: string): number {
  const ms = Number(value.trim());
  return Number.isNaN(ms) ? (value as unknown as number) : ms;
}

try {
  const demo = await startWebDemo({
    store: new LocalStore({ root }),
    storeLabel: root,
    port: Number(portText),
    host: process.env.HOST ?? DEFAULT_WEB_HOST,
    source: sourceName as WebDemoSource,
    ...(process.env.AUDEX_SPOOL_DIR ? { spoolDir: process.env.AUDEX_SPOOL_DIR } : {}),
    ...(process.env.AUDEX_PRE_ROLL_MS ? { preRollMs: envMs(process.env.AUDEX_PRE_ROLL_MS) } : {}),
    ...(process.env.AUDEX_ROTATE_MS ? { rotateMs: envMs(process.env.AUDEX_ROTATE_MS) } : {}),
    ...(process.env.AUDEX_SILENCE_MS ? { silenceMs: envMs(process.env.AUDEX_SILENCE_MS) } : {}),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  let closing = false;
  const shutdown = () => {
    if (closing) process.exit(130);
    closing = true;
    demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (error) {
  const usage =
    isWebError(error) &&
    ['BAD_PORT', 'BAD_HOST', 'BAD_SOURCE', 'BAD_PRE_ROLL', 'BAD_ROTATE', 'BAD_SILENCE'].includes(error.code);
  const variable: Record<string, string> = {
    BAD_PORT: 'PORT',
    PORT_IN_USE: 'PORT',
    PORT_DENIED: 'PORT',
    BAD_HOST: 'HOST',
    HOST_UNAVAILABLE: 'HOST',
    BAD_SOURCE: 'AUDEX_SOURCE',
    BAD_PRE_ROLL: 'AUDEX_PRE_ROLL_MS',
    BAD_ROTATE: 'AUDEX_ROTATE_MS',
    BAD_SILENCE: 'AUDEX_SILENCE_MS',
  };
  const from = isWebError(error) ? variable[error.code] : undefined;
  const hint = from ? ` (set by ${from})` : '';
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}${hint}\n`);
  process.exit(usage ? 2 : 1);
}
