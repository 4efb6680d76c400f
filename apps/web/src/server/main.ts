import { resolve } from 'node:path';
import type { AudioSource } from '@audex/capture';
import { PortAudioSource, SyntheticSource } from '@audex/capture';
import { LocalStore } from '@audex/store';
import { NO_DEVICE_HINT } from './live-session.js';
import { createWebApp } from './web-app.js';

/** A demo signal for `AUDEX_SOURCE=synthetic`: a 440 Hz tone that swells and fades, so the meter moves. */
function demoTone(frame: number, _channel: number, rate: number): number {
  const t = frame / rate;
  return 0.5 * Math.sin(2 * Math.PI * 440 * t) * (0.55 + 0.45 * Math.sin(2 * Math.PI * 0.5 * t));
}

function sourceFactory(): { create: () => AudioSource; label: string } {
  const kind = process.env.AUDEX_SOURCE ?? 'portaudio';
  if (kind === 'synthetic')
    return { create: () => new SyntheticSource({ generate: demoTone }), label: 'synthetic test tone' };
  if (kind !== 'portaudio' && kind !== '') {
    throw new Error(
      `[audex/web] AUDEX_SOURCE "${kind}" is not a source; use "portaudio" (default) or "synthetic"`,
    );
  }
  return { create: () => new PortAudioSource(), label: 'microphone (PortAudio)' };
}

const host = process.env.HOST ?? '127.0.0.1';
const portText = process.env.PORT ?? '3000';
if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
  process.stderr.write(`[audex/web] PORT "${portText}" is not a port number (0–65535)\n`);
  process.exit(2);
}
// `pnpm start` runs in apps/web; resolve the default store against where the user typed the command
const base = process.env.INIT_CWD ?? process.cwd();
const root = resolve(base, process.env.AUDEX_STORE_DIR ?? 'recordings');
const source = sourceFactory();
const app = createWebApp({
  store: new LocalStore({ root }),
  createSource: source.create,
  storeLabel: root,
  host,
  ...(process.env.AUDEX_SPOOL_DIR ? { spoolDir: process.env.AUDEX_SPOOL_DIR } : {}),
});

app.server.on('error', (error: NodeJS.ErrnoException) => {
  process.stderr.write(
    error.code === 'EADDRINUSE'
      ? `[audex/web] port ${portText} on ${host} is in use; set PORT to another port\n`
      : `[audex/web] server error: ${error.message}\n`,
  );
  process.exit(1);
});

app.server.listen(Number(portText), host, async () => {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : Number(portText);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  process.stdout.write(`audex web demo listening on http://${shownHost}:${port}/\n`);
  process.stdout.write(`  store: ${root}\n  input: ${source.label}\n`);
  const devices = await source
    .create()
    .listInputDevices()
    .catch(() => []);
  if (devices.length === 0) process.stdout.write(`  ${NO_DEVICE_HINT}\n`);
});

let closing = false;
const shutdown = () => {
  if (closing) process.exit(130);
  closing = true;
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
