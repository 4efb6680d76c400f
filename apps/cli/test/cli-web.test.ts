import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '@audex/store';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { finish, runCli, startCli } from './_helpers.js';

let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-cli-web-'));
  env = { AUDEX_SOURCE: 'synthetic', NO_COLOR: '1' };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function occupiedPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('audex --version', () => {
  test('prints the version of @audex/cli from its package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString().trim()).toBe(version);
  });
});

describe('audex web', () => {
  test('serves the page with its two buttons on --port 0 over --store-dir, and Ctrl-C stops it with status 0', async () => {
    const store = join(dir, 'store');
    const child = startCli(['web', '--port', '0', '--host', '127.0.0.1', '--store-dir', store], env);
    const done = finish(child);
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`audex web exited with ${code}: ${out}`)));
    });
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toMatch(/<button id="start"[^>]*>Start recording<\/button>/);
      expect(html).toMatch(/<button id="stop"[^>]*>Stop recording<\/button>/);
      const devices = (await (await fetch(new URL('/api/devices', url))).json()) as { store: string };
      expect(devices.store).toBe(store);
    } finally {
      child.kill('SIGINT');
    }
    const result = await done;
    expect(result.code).toBe(0);
    expect(out).toContain(`store: ${store}`);
    expect(out).toContain('input: synthetic test tone');
  }, 30_000);

  test.each([
    [
      '--port',
      'http',
      /--port "http" is not a TCP port; use a whole number from 0 to 65535 \(0 picks a free port\)/,
    ],
    ['--port', '65536', /--port "65536" is not a TCP port; use a whole number from 0 to 65535/],
    ['--port', '-1', /--port "-1" is not a TCP port/],
    [
      '--host',
      'not a host',
      /--host "not a host" is not an IP address or host name; use e\.g\. 127\.0\.0\.1/,
    ],
    ['--host', '999.0.0.1', /--host "999\.0\.0\.1" is not an IP address or host name/],
    ['--pre-roll', 'soon', /--pre-roll "soon" is not a length; use e\.g\. 2s, 1500ms or 0:05/],
    ['--pre-roll', '90s', /--pre-roll "90s" is too long; use at most 60 s/],
    ['--rotate', '0.5s', /--rotate "0\.5s" is too short; a file must last at least 1 s/],
  ])(
    '`web %s %s` is a usage error (exit 2) naming the value and what is allowed',
    async (flag, value, message) => {
      const result = await runCli(['web', flag, value, '--store-dir', join(dir, 'store')], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    },
  );

  test('--pre-roll 1.5s --rotate 1s: the log says the microphone stays open; a recording is stored as a file per second', async () => {
    const store = join(dir, 'store-rotate');
    const child = startCli(
      ['web', '--port', '0', '--store-dir', store, '--pre-roll', '1.5s', '--rotate', '1s'],
      env,
    );
    const done = finish(child);
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`audex web exited with ${code}: ${out}`)));
    });
    try {
      const post = (path: string) =>
        fetch(new URL(path, url), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ device: null }),
        });
      expect((await post('/api/recording/start')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2600));
      expect((await post('/api/recording/stop')).status).toBe(200);
    } finally {
      child.kill('SIGINT');
    }
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(out).toContain('pre-roll 1.5 s (the microphone stays open while a page is connected)');
    const keys: string[] = [];
    for await (const page of new LocalStore({ root: store }).list()) keys.push(...page);
    // Over 2.6 s of audio (and what the pre-roll reached back) at one file per second: files 0, 1, 2, ….
    const suffixes = keys.sort().map((k) => k.slice(-11));
    expect(suffixes.length).toBeGreaterThanOrEqual(3);
    expect(suffixes).toEqual(suffixes.map((_, i) => `-${String(i).padStart(6, '0')}.wav`));
  }, 30_000);

  test('a port in use exits 1 naming the port and the flag to change', async () => {
    const { port, server } = await occupiedPort();
    try {
      const result = await runCli(['web', '--port', String(port), '--store-dir', join(dir, 'store')], env);
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(
        `audex: error: port ${port} on 127.0.0.1 is already in use by another program; pick another with --port (--port 0 picks a free one)`,
      );
    } finally {
      server.close();
    }
  });

  test('a host that is not this machine exits 1 naming it', async () => {
    const result = await runCli(
      ['web', '--port', '0', '--host', '192.0.2.1', '--store-dir', join(dir, 'store')],
      env,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--host 192.0.2.1 is not an address of this machine');
  });
});
