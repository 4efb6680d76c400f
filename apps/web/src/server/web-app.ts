// The web demo's HTTP server: static page and browser script, the JSON API over the store and the
// live recording, and the /live WebSocket. Listening (port, host, errors) is start-web-demo.ts's job.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { AudioSource } from '@audex/capture';
import { getCodec } from '@audex/codec';
import type { StoreFormat } from '@audex/recorder';
import type { Store } from '@audex/store';
import { WebSocketServer } from 'ws';
import { loadClientScript, publicDir } from './client-bundle.js';
import { HttpError } from './http-error.js';
import { LiveSession, NO_DEVICE_HINT } from './live-session.js';
import { computePeaks, decodeRecording, exportRecording } from './recording-audio.js';
import { checkRequestOrigin } from './request-origin.js';
import { parseRange, requireFormat, requireKey, storeErrorToHttp } from './request-params.js';

/** Options of {@link createWebApp}. */
export interface WebAppOptions {
  /** Where recordings are saved and read. */
  store: Store;
  /** Creates the capture source for each recording. */
  createSource: () => AudioSource;
  /** Recorder journal directory; default the recorder's own. */
  spoolDir?: string;
  /** Format recordings are stored in; default `'wav'`. */
  storeFormat?: StoreFormat;
  /** Pre-roll in ms (the microphone stays open while a page is connected); default 0. */
  preRollMs?: number;
  /** A file per this much audio, in ms (rotation); default none. */
  rotateMs?: number;
  /** The silence warning after this many ms below -60 dBFS; default 10000. */
  silenceMs?: number;
  /** Human description of the store, shown on the page (never credentials). */
  storeLabel?: string;
  /**
   * The address the server will listen on, for the Host/Origin guard (see `checkRequestOrigin`).
   * Default `127.0.0.1`: only loopback host names are served.
   */
  host?: string;
  /** The browser script served as `/app.js`; default: loaded (or compiled from sources) on first request. */
  clientScript?: string;
}

/** A running web demo: an HTTP server (not yet listening) plus its live session. */
export interface WebApp {
  /** The HTTP server; call `listen()` on it. */
  server: Server;
  /** Stops any recording (saving it), closes sockets and the server. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 16 * 1024;
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.byteLength;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`);
    parts.push(part);
  }
  if (size === 0) return {};
  try {
    const value: unknown = JSON.parse(Buffer.concat(parts).toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new HttpError(400, 'request body must be a JSON object', { cause: error });
  }
}

function requireMethod(req: IncomingMessage, ...methods: string[]): void {
  if (!methods.includes(req.method ?? '')) {
    throw new HttpError(405, `${req.method} not allowed here; use ${methods.join(' or ')}`);
  }
}

/** Answers a single `bytes=a-b` Range request (what audio elements send for seeking), else the whole body. */
function sendBytes(
  req: IncomingMessage,
  res: ServerResponse,
  bytes: Uint8Array,
  headers: Record<string, string>,
): void {
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  const total = bytes.byteLength;
  if (range && (range[1] !== '' || range[2] !== '')) {
    const suffix = range[1] === '';
    const start = suffix ? Math.max(0, total - Number(range[2])) : Number(range[1]);
    const end = suffix || range[2] === '' ? total - 1 : Math.min(Number(range[2]), total - 1);
    if (start > end || start >= total) {
      res.writeHead(416, { 'content-range': `bytes */${total}` });
      res.end();
      return;
    }
    res.writeHead(206, {
      ...headers,
      'accept-ranges': 'bytes',
      'content-range': `bytes ${start}-${end}/${total}`,
      'content-length': String(end - start + 1),
    });
    res.end(req.method === 'HEAD' ? undefined : bytes.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { ...headers, 'accept-ranges': 'bytes', 'content-length': String(total) });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

function fileName(key: string, ext: string, from?: number, to?: number): string {
  const base = (key.split('/').pop() ?? 'recording').replace(/\.[^.]*$/, '').replace(/[^\w.-]/g, '_');
  const cut = from !== undefined || to !== undefined ? `_${from ?? 0}s-${to ?? 'end'}s` : '';
  return `${base}${cut}.${ext}`;
}

/**
 * Builds the web demo: static page and client script, a JSON API over the store and the live
 * recording, and a WebSocket at `/live` for levels and the scrolling waveform. Every key, format
 * and range from a request is validated; client mistakes get a 4xx JSON `{ error }`, and a failure
 * inside one request never takes the server down.
 */
export function createWebApp(options: WebAppOptions): WebApp {
  const { store } = options;
  const session = new LiveSession({
    store,
    createSource: options.createSource,
    ...(options.spoolDir ? { spoolDir: options.spoolDir } : {}),
    ...(options.storeFormat ? { storeFormat: options.storeFormat } : {}),
    ...(options.preRollMs !== undefined ? { preRollMs: options.preRollMs } : {}),
    ...(options.rotateMs !== undefined ? { rotateMs: options.rotateMs } : {}),
    ...(options.silenceMs !== undefined ? { silenceMs: options.silenceMs } : {}),
  });
  let clientScript: Promise<string> | undefined =
    options.clientScript === undefined ? undefined : Promise.resolve(options.clientScript);
  const staticDir = publicDir();

  const boundHost = options.host ?? '127.0.0.1';

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    checkRequestOrigin(req, boundHost);
    const path = url.pathname;
    const page = STATIC[path];
    if (page) {
      requireMethod(req, 'GET', 'HEAD');
      const body = await readFile(join(staticDir, page.file));
      res.writeHead(200, {
        'content-type': page.type,
        'content-length': body.byteLength,
        'cache-control': 'no-cache',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (path === '/app.js') {
      requireMethod(req, 'GET', 'HEAD');
      clientScript ??= loadClientScript().catch((error: unknown) => {
        clientScript = undefined; // a failed compile or read is retried on the next request
        throw error;
      });
      const body = await clientScript;
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    switch (path) {
      case '/api/health':
        requireMethod(req, 'GET');
        return sendJson(res, 200, { ok: true, recording: session.recording });
      case '/api/devices': {
        requireMethod(req, 'GET');
        const devices = await session.devices().catch(() => []);
        return sendJson(res, 200, {
          devices,
          store: options.storeLabel ?? null,
          ...(devices.length === 0 ? { hint: NO_DEVICE_HINT } : {}),
        });
      }
      case '/api/recording/start': {
        requireMethod(req, 'POST');
        const body = await readJsonBody(req);
        const device = body.device ?? null;
        if (device !== null && !(typeof device === 'number' && Number.isInteger(device) && device >= 0)) {
          throw new HttpError(
            400,
            '"device" must be a device index (a whole number ≥ 0) or null for the default',
          );
        }
        return sendJson(res, 200, await session.start(device));
      }
      case '/api/recording/stop':
        requireMethod(req, 'POST');
        return sendJson(res, 200, await session.stop());
      case '/api/recordings': {
        requireMethod(req, 'GET', 'DELETE');
        if (req.method === 'DELETE') {
          const key = requireKey(store, url.searchParams.get('key'));
          if (!(await store.exists(key))) throw new HttpError(404, `no recording "${key}"`);
          await store.delete(key).catch((error) => storeErrorToHttp(error, key));
          return sendJson(res, 200, { deleted: key });
        }
        const recordings: { key: string; startedAt: unknown; [field: string]: unknown }[] = [];
        for await (const page of store.list(store.keyBuilder.prefix)) {
          for (const key of page) {
            const meta = await store.getMetadata(key).catch(() => ({}) as Record<string, unknown>);
            recordings.push({
              key,
              durationMs: meta.duration_ms ?? null,
              startedAt: meta.started_at ?? null,
              sampleRate: meta.sample_rate ?? null,
              channels: meta.channels ?? null,
              loudnessLufs: meta.loudness_lufs ?? null,
              truePeakDbtp: meta.true_peak_dbtp ?? null,
              speech: Array.isArray(meta.speech) ? meta.speech : null,
              speechCount: meta.speech_count ?? null,
            });
          }
        }
        // newest first: keys are random ids, so order by the recorded start time
        const startOf = (r: { startedAt: unknown }) => (typeof r.startedAt === 'string' ? r.startedAt : '');
        recordings.sort((a, b) => startOf(b).localeCompare(startOf(a)));
        return sendJson(res, 200, { recordings });
      }
      case '/api/audio': {
        requireMethod(req, 'GET', 'HEAD');
        const key = requireKey(store, url.searchParams.get('key'));
        const format = requireFormat(url.searchParams.get('format'));
        const range = parseRange(url.searchParams.get('from'), url.searchParams.get('to'));
        const bytes = await exportRecording(store, key, format, range);
        const codec = getCodec(format);
        const headers: Record<string, string> = {
          'content-type': codec.mimeType,
          'cache-control': 'no-store',
        };
        if (url.searchParams.get('download') === '1') {
          headers['content-disposition'] =
            `attachment; filename="${fileName(key, codec.extension, range.from, range.to)}"`;
        }
        return sendBytes(req, res, bytes, headers);
      }
      case '/api/peaks': {
        requireMethod(req, 'GET');
        const key = requireKey(store, url.searchParams.get('key'));
        const columnsText = url.searchParams.get('columns') ?? '800';
        if (!/^\d{1,5}$/.test(columnsText) || Number(columnsText) < 1 || Number(columnsText) > 4000) {
          throw new HttpError(
            400,
            `"columns" must be a whole number from 1 to 4000, got "${columnsText.slice(0, 40)}"`,
          );
        }
        const audio = await decodeRecording(store, key);
        return sendJson(res, 200, computePeaks(audio, Number(columnsText)));
      }
      default:
        throw new HttpError(404, `no such page or API: ${path.slice(0, 200)}`);
    }
  }

  const server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendJson(res, 400, { error: '[audex/web] malformed request URL' });
      return;
    }
    route(req, res, url).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) {
        sendJson(res, error.status, { error: error.message });
        return;
      }
      process.stderr.write(
        `[audex/web] ${req.method} ${url.pathname} failed: ${(error as Error)?.stack ?? error}\n`,
      );
      sendJson(res, 500, { error: `[audex/web] internal error: ${(error as Error)?.message ?? 'unknown'}` });
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  server.on('upgrade', (req, socket, head) => {
    let path = '';
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
      checkRequestOrigin(req, boundHost);
    } catch {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    if (path !== '/live') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => session.addClient(ws));
  });

  return {
    server,
    async close() {
      await session.close();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
