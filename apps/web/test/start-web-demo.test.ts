import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '@audex/store';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkHost, checkPort, isWebError, startWebDemo, WebError } from '../src/index.js';
import { WEB_BIN } from './_helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-web-start-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function errorOf(fn: () => unknown): WebError {
  try {
    fn();
  } catch (error) {
    if (error instanceof WebError) return error;
    throw error;
  }
  throw new Error('no error thrown');
}

async function rejectionOf(promise: Promise<unknown>): Promise<WebError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isWebError(error)) throw new Error(`expected a WebError, got ${String(error)}`);
  return error;
}

/** A TCP server holding a port on 127.0.0.1, as another program would. */
async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('checkPort and checkHost', () => {
  test.each([0, 1, 3000, 65535])('port %d is accepted', (port) => {
    expect(checkPort(port)).toBe(port);
  });

  test.each([-1, 65536, 3000.5, Number.NaN])('port %d is refused naming the value and the range', (port) => {
    const error = errorOf(() => checkPort(port));
    expect(error.code).toBe('BAD_PORT');
    expect(error.message).toMatch(
      /^\[audex\/web\] port .* is not a TCP port; use a whole number from 0 to 65535/,
    );
  });

  test.each([
    ['127.0.0.1', '127.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['localhost', 'localhost'],
    ['my-host.example.org', 'my-host.example.org'],
  ])('host %s is accepted as %s', (host, bound) => {
    expect(checkHost(host)).toBe(bound);
  });

  test.each(['', 'bad host', '999.1.1.1', '123', 'a_b.example', '[127.0.0.1]', 'http://localhost', '-x'])(
    'host %j is refused naming the value and what is allowed',
    (host) => {
      const error = errorOf(() => checkHost(host));
      expect(error.code).toBe('BAD_HOST');
      expect(error.host).toBe(host);
      expect(error.message).toContain(`host ${JSON.stringify(host)} is not an IP address or host name`);
      expect(error.message).toContain('127.0.0.1');
    },
  );
});

describe('startWebDemo', () => {
  test('listens on a free port, serves the page and the browser script, and closes', async () => {
    const lines: string[] = [];
    const demo = await startWebDemo({
      store: new MemoryStore(),
      storeLabel: 'memory',
      port: 0,
      source: 'synthetic',
      log: (line) => lines.push(line),
    });
    try {
      expect(demo.url).toBe(`http://127.0.0.1:${demo.port}/`);
      expect(demo.port).toBeGreaterThan(0);
      expect(lines[0]).toBe(`audex web demo listening on ${demo.url}`);
      expect(lines).toContain('  store: memory');
      expect(lines).toContain('  input: synthetic test tone');
      const page = await fetch(demo.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<button id="start"');
      const script = await fetch(new URL('/app.js', demo.url));
      expect(script.status).toBe(200);
      expect(await script.text()).toContain('/api/recording/start');
    } finally {
      await demo.close();
    }
    await expect(fetch(demo.url)).rejects.toThrow();
  });

  test('a port in use is PORT_IN_USE naming the port and host, and nothing is left listening', async () => {
    const { port, server } = await occupiedPort();
    try {
      const error = await rejectionOf(startWebDemo({ store: new MemoryStore(), port, source: 'synthetic' }));
      expect(error.code).toBe('PORT_IN_USE');
      expect(error.port).toBe(port);
      expect(error.host).toBe('127.0.0.1');
      expect(error.message).toBe(
        `[audex/web] port ${port} on 127.0.0.1 is in use by another program; choose another port (0 picks a free one)`,
      );
    } finally {
      server.close();
    }
  });

  test('a host that is not an address of this machine is HOST_UNAVAILABLE', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a machine
    const error = await rejectionOf(
      startWebDemo({ store: new MemoryStore(), port: 0, host: '192.0.2.1', source: 'synthetic' }),
    );
    expect(error.code).toBe('HOST_UNAVAILABLE');
    expect(error.message).toContain('host 192.0.2.1 is not an address of this machine');
  });

  test('a host name that does not resolve is HOST_UNAVAILABLE', async () => {
    const error = await rejectionOf(
      startWebDemo({ store: new MemoryStore(), port: 0, host: 'no-such-host.invalid', source: 'synthetic' }),
    );
    expect(error.code).toBe('HOST_UNAVAILABLE');
    expect(error.message).toContain('host name "no-such-host.invalid" does not resolve');
  });

  test('bad options are refused before anything listens', async () => {
    const store = new MemoryStore();
    expect((await rejectionOf(startWebDemo({ store, port: 70000 }))).code).toBe('BAD_PORT');
    expect((await rejectionOf(startWebDemo({ store, host: 'a b' }))).code).toBe('BAD_HOST');
    const source = await rejectionOf(startWebDemo({ store, port: 0, source: 'tape' as 'synthetic' }));
    expect(source.code).toBe('BAD_SOURCE');
    expect(source.message).toContain('input source "tape" is not one; use "portaudio"');
    const format = await rejectionOf(startWebDemo({ store, port: 0, storeFormat: 'mp3' as 'flac' }));
    expect(format.code).toBe('BAD_STORE_FORMAT');
    expect(format.message).toContain(
      `storeFormat "mp3" is not a format recordings are stored in; use 'wav' or 'flac'`,
    );
    const preRoll = await rejectionOf(startWebDemo({ store, port: 0, preRollMs: 90_000 }));
    expect(preRoll.code).toBe('BAD_PRE_ROLL');
    expect(preRoll.message).toContain('preRollMs 90000 is not allowed; use ms from 0 to 60000');
    expect((await rejectionOf(startWebDemo({ store, port: 0, preRollMs: Number.NaN }))).code).toBe(
      'BAD_PRE_ROLL',
    );
    const rotate = await rejectionOf(startWebDemo({ store, port: 0, rotateMs: 500 }));
    expect(rotate.code).toBe('BAD_ROTATE');
    expect(rotate.message).toContain('rotateMs 500 is not allowed; use ms of at least 1000');
    const silence = await rejectionOf(startWebDemo({ store, port: 0, silenceMs: 50 }));
    expect(silence.code).toBe('BAD_SILENCE');
    expect(silence.message).toContain('silenceMs 50 is not allowed; use ms from 100 to 86400000');
  });

  test("storeFormat 'flac': recordings are stored as FLAC, listed, and play as WAV", async () => {
    const store = new MemoryStore();
    const demo = await startWebDemo({
      store,
      port: 0,
      source: 'synthetic',
      storeFormat: 'flac',
      spoolDir: join(dir, 'flac-spool'),
    });
    try {
      const started = await fetch(new URL('/api/recording/start', demo.url), { method: 'POST', body: '{}' });
      expect(started.status, await started.clone().text()).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const stopped = await fetch(new URL('/api/recording/stop', demo.url), { method: 'POST' });
      expect(stopped.status, await stopped.clone().text()).toBe(200);
      const { key } = (await stopped.json()) as { key: string };
      expect(key).toMatch(/\.flac$/);
      const stored = await store.download(key);
      expect(new TextDecoder().decode(stored.subarray(0, 4))).toBe('fLaC');
      expect((await store.getMetadata(key)).content_type).toBe('audio/flac');
      const list = (await (await fetch(new URL('/api/recordings', demo.url))).json()) as {
        recordings: { key: string; durationMs: number }[];
      };
      expect(list.recordings.find((r) => r.key === key)?.durationMs).toBeGreaterThan(500);
      const wav = await fetch(new URL(`/api/audio?${new URLSearchParams({ key, format: 'wav' })}`, demo.url));
      expect(wav.status).toBe(200);
      expect(new TextDecoder().decode(new Uint8Array(await wav.arrayBuffer()).subarray(0, 4))).toBe('RIFF');
    } finally {
      await demo.close();
    }
  }, 60_000);
});

describe('pnpm start (the environment-driven launcher)', () => {
  function launch(env: Record<string, string>) {
    const child = spawn(process.execPath, [WEB_BIN], {
      env: { ...process.env, AUDEX_SOURCE: 'synthetic', AUDEX_STORE_DIR: join(dir, 'store'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    return new Promise<{ code: number | null; stderr: string }>((resolve) =>
      child.once('close', (code) => resolve({ code, stderr })),
    );
  }

  test('a bad PORT exits 2 naming the value and the range', async () => {
    const result = await launch({ PORT: 'http' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PORT "http" is not a TCP port; use a whole number from 0 to 65535');
  });

  test('a PORT in use exits 1 saying so and naming the variable', async () => {
    const { port, server } = await occupiedPort();
    try {
      const result = await launch({ PORT: String(port), HOST: '127.0.0.1' });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is in use by another program`);
      expect(result.stderr).toContain('(set by PORT)');
    } finally {
      server.close();
    }
  });

  test('a bad HOST exits 2 naming the value and the variable', async () => {
    const result = await launch({ PORT: '0', HOST: 'not a host' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('host "not a host" is not an IP address or host name');
    expect(result.stderr).toContain('(set by HOST)');
  });

  test('a bad AUDEX_PRE_ROLL_MS, AUDEX_ROTATE_MS or AUDEX_SILENCE_MS exits 2 naming the value and the variable', async () => {
    for (const [name, value, message] of [
      ['AUDEX_PRE_ROLL_MS', 'soon', 'preRollMs soon is not allowed; use ms from 0 to 60000'],
      ['AUDEX_ROTATE_MS', '10', 'rotateMs 10 is not allowed; use ms of at least 1000'],
      ['AUDEX_SILENCE_MS', '-5', 'silenceMs -5 is not allowed; use ms from 100 to 86400000'],
    ] as const) {
      const result = await launch({ PORT: '0', AUDEX_SOURCE: 'synthetic', [name]: value });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain(`(set by ${name})`);
    }
  });
});
