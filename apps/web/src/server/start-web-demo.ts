// Starting the web demo as a server: checks the port, host and input source, builds the app, listens,
// and turns every listen failure (port in use, foreign address, unresolvable name) into a WebError.
import { isIP } from 'node:net';
import type { AudioSource } from '@audex/capture';
import { PortAudioSource, SyntheticSource } from '@audex/capture';
import { STORE_FORMATS, type StoreFormat } from '@audex/recorder';
import type { Store } from '@audex/store';
import { WebError } from '../errors.js';
import { loadClientScript } from './client-bundle.js';
import { NO_DEVICE_HINT } from './live-session.js';
import { createWebApp, type WebApp } from './web-app.js';

/** The input sources the demo offers by name. */
export const WEB_DEMO_SOURCES = ['portaudio', 'synthetic'] as const;

/** An input source by name: `portaudio` (the microphone) or `synthetic` (a built-in test tone). */
export type WebDemoSource = (typeof WEB_DEMO_SOURCES)[number];

/** The port the demo listens on unless told otherwise. */
export const DEFAULT_WEB_PORT = 3000;
/** The address the demo listens on unless told otherwise: this machine only. */
export const DEFAULT_WEB_HOST = '127.0.0.1';

/** Options of {@link startWebDemo}. */
export interface WebDemoOptions {
  /** Where recordings are saved and read. */
  store: Store;
  /** Human description of the store, shown on the page and in the log (never credentials). */
  storeLabel?: string;
  /** TCP port, a whole number from 0 to 65535; 0 picks a free one. Default {@link DEFAULT_WEB_PORT}. */
  port?: number;
  /**
   * Address to listen on: an IP address (`127.0.0.1`, `::1`, `0.0.0.0` for every interface) or a host
   * name of this machine. Default {@link DEFAULT_WEB_HOST}; anything else shares the microphone.
   */
  host?: string;
  /** Input source by name; default `portaudio`. Ignored when `createSource` is given. */
  source?: WebDemoSource;
  /** Creates the capture source for each recording (overrides `source`). */
  createSource?: () => AudioSource;
  /** Recorder journal directory; default the recorder's own. */
  spoolDir?: string;
  /** Format recordings are stored in: `'wav'` (default) or `'flac'` (the recorder's `storeFormat`). */
  storeFormat?: StoreFormat;
  /**
   * Pre-roll in ms, 0 to 60000 (the recorder's `preRollMs`): while a page is connected the
   * microphone stays open, a click starts recording at once and the recording reaches this far
   * back. Privacy: the page shows that the microphone is open. Default 0 (it opens at each start).
   */
  preRollMs?: number;
  /** A file per this much audio, in ms, at least 1000 (the recorder's `rotate.everyMs`); default none. */
  rotateMs?: number;
  /**
   * The page warns of a silent input (below -60 dBFS, a muted or dead microphone) after this many
   * ms, 100 to 86400000 (the recorder's `silence.afterMs`); default 10000.
   */
  silenceMs?: number;
  /** Receives the log lines (the URL, store, input, a missing-device hint); default none. */
  log?: (line: string) => void;
}

/** A web demo listening for requests. */
export interface WebDemo {
  /** The page's address, e.g. `http://127.0.0.1:3000/`. */
  url: string;
  /** The port listened on (the one picked when 0 was asked). */
  port: number;
  /** The address listened on. */
  host: string;
  /** The server and live session. */
  app: WebApp;
  /** Stops any recording (saving it), closes sockets and the server. */
  close(): Promise<void>;
}

/** The synthetic source's signal: a 440 Hz tone that swells and fades, so the meter moves. */
function demoTone(frame: number, _channel: number, rate: number): number {
  const t = frame / rate;
  return 0.5 * Math.sin(2 * Math.PI * 440 * t) * (0.55 + 0.45 * Math.sin(2 * Math.PI * 0.5 * t));
}

function sourceFor(kind: string): { create: () => AudioSource; label: string } {
  if (kind === 'synthetic')
    return { create: () => new SyntheticSource({ generate: demoTone }), label: 'synthetic test tone' };
  if (kind === 'portaudio') return { create: () => new PortAudioSource(), label: 'microphone (PortAudio)' };
  throw new WebError(
    'BAD_SOURCE',
    `input source ${JSON.stringify(kind)} is not one; use "portaudio" (the microphone, default) or "synthetic" (a built-in test tone)`,
  );
}

/** Throws `BAD_PORT` unless `port` is a whole number from 0 to 65535. */
export function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new WebError(
      'BAD_PORT',
      `port ${String(port)} is not a TCP port; use a whole number from 0 to 65535 (0 picks a free port)`,
      { port },
    );
  }
  return port;
}

const HOST_NAME =
  /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/**
 * Returns the address to listen on: an IP address (IPv6 with or without brackets) or a host name.
 * Throws `BAD_HOST` for anything else.
 */
export function checkHost(host: string): string {
  if (host.startsWith('[') && host.endsWith(']')) {
    const inner = host.slice(1, -1);
    if (isIP(inner) === 6) return inner;
  } else if (isIP(host) !== 0 || (HOST_NAME.test(host) && !/^[\d.]+$/.test(host))) {
    // all-digit names are refused: the resolver would read "123" as the address 0.0.0.123
    return host;
  }
  throw new WebError(
    'BAD_HOST',
    `host ${JSON.stringify(host.slice(0, 100))} is not an IP address or host name; use e.g. 127.0.0.1 (this machine only, the default), ::1, localhost, or 0.0.0.0 (every interface)`,
    { host },
  );
}

function listenError(error: NodeJS.ErrnoException, port: number, host: string): WebError {
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new WebError(
        'PORT_IN_USE',
        `port ${port} on ${host} is in use by another program; choose another port (0 picks a free one)`,
        { port, host, cause: error },
      );
    case 'EACCES':
      return new WebError(
        'PORT_DENIED',
        `port ${port} on ${host} was refused: ports below 1024 need privileges; use a port from 1024 to 65535 (0 picks a free one)`,
        { port, host, cause: error },
      );
    case 'EADDRNOTAVAIL':
      return new WebError(
        'HOST_UNAVAILABLE',
        `host ${host} is not an address of this machine; use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of its own addresses`,
        { port, host, cause: error },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new WebError(
        'HOST_UNAVAILABLE',
        `host name ${JSON.stringify(host)} does not resolve to an address of this machine; use an IP address such as 127.0.0.1`,
        { port, host, cause: error },
      );
    default:
      return new WebError('LISTEN_FAILED', `could not listen on ${at}: ${error.message}`, {
        port,
        host,
        cause: error,
      });
  }
}

/**
 * Starts the web demo: checks the options, loads the browser script (so a broken install fails here,
 * not on the first page view), builds the app and listens. Resolves once it accepts requests.
 *
 * @throws {@link WebError} `BAD_PORT`, `BAD_HOST`, `BAD_SOURCE`, `CLIENT_MISSING`, `PORT_IN_USE`,
 *   `PORT_DENIED`, `HOST_UNAVAILABLE`, `LISTEN_FAILED`.
 */
export async function startWebDemo(options: WebDemoOptions): Promise<WebDemo> {
  const port = checkPort(options.port ?? DEFAULT_WEB_PORT);
  const host = checkHost(options.host ?? DEFAULT_WEB_HOST);
  const source = options.createSource
    ? { create: options.createSource, label: 'custom source' }
    : sourceFor(options.source ?? 'portaudio');
  const storeFormat = options.storeFormat ?? 'wav';
  if (!STORE_FORMATS.includes(storeFormat)) {
    throw new WebError(
      'BAD_STORE_FORMAT',
      `storeFormat ${JSON.stringify(String(storeFormat).slice(0, 40))} is not a format recordings are stored in; use ${STORE_FORMATS.map((f) => `'${f}'`).join(' or ')}`,
    );
  }
  const preRollMs = options.preRollMs ?? 0;
  if (typeof preRollMs !== 'number' || !(preRollMs >= 0 && preRollMs <= 60_000)) {
    throw new WebError(
      'BAD_PRE_ROLL',
      `preRollMs ${String(preRollMs).slice(0, 40)} is not allowed; use ms from 0 to 60000`,
    );
  }
  const { rotateMs } = options;
  if (
    rotateMs !== undefined &&
    (typeof rotateMs !== 'number' || !(rotateMs >= 1000 && Number.isFinite(rotateMs)))
  ) {
    throw new WebError(
      'BAD_ROTATE',
      `rotateMs ${String(rotateMs).slice(0, 40)} is not allowed; use ms of at least 1000`,
    );
  }
  const { silenceMs } = options;
  if (
    silenceMs !== undefined &&
    (typeof silenceMs !== 'number' || !(silenceMs >= 100 && silenceMs <= 86_400_000))
  ) {
    throw new WebError(
      'BAD_SILENCE',
      `silenceMs ${String(silenceMs).slice(0, 40)} is not allowed; use ms from 100 to 86400000`,
    );
  }
  const clientScript = await loadClientScript();
  const app = createWebApp({
    store: options.store,
    createSource: source.create,
    host,
    clientScript,
    ...(options.storeLabel !== undefined ? { storeLabel: options.storeLabel } : {}),
    ...(options.spoolDir !== undefined ? { spoolDir: options.spoolDir } : {}),
    storeFormat,
    preRollMs,
    ...(rotateMs !== undefined ? { rotateMs } : {}),
    ...(silenceMs !== undefined ? { silenceMs } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(error, port, host));
    app.server.once('error', onError);
    app.server.listen(port, host, () => {
      app.server.off('error', onError);
      resolve();
    });
  }).catch(async (error: unknown) => {
    await app.close();
    throw error;
  });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}/`;
  const log = options.log;
  if (log) {
    log(`audex web demo listening on ${url}`);
    if (options.storeLabel !== undefined) log(`  store: ${options.storeLabel}`);
    log(
      `  input: ${source.label}${preRollMs > 0 ? `, pre-roll ${preRollMs / 1000} s (the microphone stays open while a page is connected)` : ''}`,
    );
    source
      .create()
      .listInputDevices()
      .catch(() => [])
      .then((devices) => {
        if (devices.length === 0) log(`  ${NO_DEVICE_HINT}`);
      });
  }
  return { url, port: boundPort, host, app, close: () => app.close() };
}
