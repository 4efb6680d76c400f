import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AudioSource } from '@audex/capture';
import { LocalStore } from '@audex/store';
import { decodeWithFfmpeg, probeSeconds, toneShare } from '@audex/test-utils/audio-file-checks';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { createWebApp } from '../src/server/web-app.js';
import { ARTIFACTS, type RunningServer, startServer } from './_helpers.js';

const TONE_HZ = 1000;

/** The parts of an HTMLAudioElement the test reads (the test's own lib has no DOM types). */
interface MediaLike {
  readyState: number;
  duration: number;
  error: { code: number } | null;
  load(): void;
  addEventListener(type: string, listener: () => void, options?: { once?: boolean }): void;
}

let mic: VirtualMic;
let server: RunningServer;
let browser: Browser;
let page: Page;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-web-test-'));
  await mkdir(ARTIFACTS, { recursive: true });
  mic = await startVirtualMic();
  server = await startServer({ AUDEX_STORE_DIR: join(dir, 'store'), AUDEX_SPOOL_DIR: join(dir, 'spool') });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await mic?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A GET with exactly the headers given (fetch forbids setting `Host`). */
function rawGet(port: string, path: string, headers: Record<string, string>): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: Number(port), path, headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('web demo in headless Chromium with the virtual microphone', () => {
  test('records a tone: the meter moves, the recording is listed, plays, and downloads as MP3 and as a range', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.locator('#device option').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const tone = await mic.playBackground({ frequencies: [TONE_HZ], toneSeconds: 10, amplitude: 0.5 });
    try {
      const meter = page.getByRole('meter', { name: 'Input level' });
      expect(Number(await meter.evaluate((m) => (m as unknown as { value: number }).value))).toBe(0);
      await page.getByRole('button', { name: 'Start recording' }).click();
      await expect
        .poll(() => page.getByRole('button', { name: 'Stop recording' }).isEnabled(), { timeout: 15_000 })
        .toBe(true);
      // the meter follows the tone: well above silence (−60 dBFS floor) while it plays
      await expect
        .poll(async () => Number(await meter.evaluate((m) => (m as unknown as { value: number }).value)), {
          timeout: 10_000,
        })
        .toBeGreaterThan(0.1);
      const readings: number[] = [];
      for (let i = 0; i < 10; i += 1) {
        readings.push(Number(await meter.evaluate((m) => (m as unknown as { value: number }).value)));
        await page.waitForTimeout(250);
      }
      expect(Math.min(...readings)).toBeGreaterThan(0.1);
      // the scrolling waveform has been drawn from the WebSocket's min/max columns
      const drawnColumns = await page.locator('#live-wave').evaluate((element) => {
        const canvas = element as unknown as {
          width: number;
          height: number;
          getContext(kind: '2d'): {
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        };
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        const columns = new Set<number>();
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 2]! > 200 && data[i]! < 120) columns.add((i / 4) % canvas.width);
        }
        return columns.size;
      });
      expect(drawnColumns).toBeGreaterThan(100);
      await page.screenshot({ path: join(ARTIFACTS, 'recording.png') });
      await page.getByRole('button', { name: 'Stop recording' }).click();
    } finally {
      await tone.stop();
    }
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor({ timeout: 20_000 });
    const item = page.locator('li.recording').first();
    await item.waitFor();
    const key = await item.getAttribute('data-key');
    expect(key).toMatch(/^audex\/web\/.+\.wav$/);

    // the audio element loads the WAV and knows its length
    const audioSeconds = await item.locator('audio').evaluate(
      (audio: MediaLike) =>
        new Promise<number>((resolve, reject) => {
          if (audio.readyState >= 1) resolve(audio.duration);
          audio.addEventListener('loadedmetadata', () => resolve(audio.duration), { once: true });
          audio.addEventListener('error', () => reject(new Error(`audio error ${audio.error?.code}`)), {
            once: true,
          });
          audio.load();
        }),
    );
    expect(audioSeconds).toBeGreaterThan(2);

    // MP3 download through the page's link, decoded by ffmpeg
    const [mp3] = await Promise.all([
      page.waitForEvent('download'),
      item.getByRole('link', { name: /as MP3$/ }).click(),
    ]);
    const mp3File = join(dir, 'download.mp3');
    await mp3.saveAs(mp3File);
    expect(mp3.suggestedFilename()).toMatch(/\.mp3$/);
    // length from the decoded samples: ffprobe only estimates an MP3's duration from its bitrate
    const decoded = await decodeWithFfmpeg(mp3File);
    expect(Math.abs(decoded.length / 16_000 - audioSeconds)).toBeLessThan(0.01);
    const middle = decoded.subarray(Math.floor(decoded.length * 0.3), Math.floor(decoded.length * 0.7));
    expect(toneShare(middle, 16_000, TONE_HZ)).toBeGreaterThan(0.5);

    // the Opus link serves an Ogg Opus file of the same length
    const opusHref = await item.getByRole('link', { name: /as Opus$/ }).getAttribute('href');
    const opusResponse = await fetch(new URL(opusHref!, server.url));
    expect(opusResponse.headers.get('content-type')).toMatch(/^audio\/ogg/);
    const opusFile = join(dir, 'download.opus');
    await writeFile(opusFile, new Uint8Array(await opusResponse.arrayBuffer()));
    expect(Math.abs((await decodeWithFfmpeg(opusFile)).length / 16_000 - audioSeconds)).toBeLessThan(0.03);

    // the FLAC link serves a FLAC file that flac -t accepts, holding the same samples as the WAV
    const flacHref = await item.getByRole('link', { name: /as FLAC$/ }).getAttribute('href');
    const flacResponse = await fetch(new URL(flacHref!, server.url));
    expect(flacResponse.headers.get('content-type')).toBe('audio/flac');
    const flacFile = join(dir, 'download.flac');
    await writeFile(flacFile, new Uint8Array(await flacResponse.arrayBuffer()));
    const flacCheck = spawnSync('flac', ['-t', flacFile], { encoding: 'utf8' });
    expect(flacCheck.status, flacCheck.stderr).toBe(0);
    expect(flacCheck.stderr).not.toMatch(/WARNING/); // the MD5 is set
    const wavHref = await item.getByRole('link', { name: /as WAV$/ }).getAttribute('href');
    const wavFile = join(dir, 'download.wav');
    await writeFile(
      wavFile,
      new Uint8Array(await (await fetch(new URL(wavHref!, server.url))).arrayBuffer()),
    );
    expect(await decodeWithFfmpeg(flacFile)).toEqual(await decodeWithFfmpeg(wavFile));

    // pick a range by dragging across the recording's waveform, then download it
    const canvas = item.locator('canvas');
    await expect.poll(() => item.getAttribute('data-duration-ms')).not.toBeNull();
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 8 });
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    const from = Number(await item.getByLabel(/Range start/).inputValue());
    const to = Number(await item.getByLabel(/Range end/).inputValue());
    expect(to - from).toBeGreaterThan(audioSeconds * 0.4);
    expect(to - from).toBeLessThan(audioSeconds * 0.6);
    await page.screenshot({ path: join(ARTIFACTS, 'range-picked.png'), fullPage: true });
    const [range] = await Promise.all([
      page.waitForEvent('download'),
      item.getByRole('link', { name: 'Download range' }).click(),
    ]);
    const rangeFile = join(dir, 'range.wav');
    await range.saveAs(rangeFile);
    expect(Math.abs((await probeSeconds(rangeFile)) - (to - from))).toBeLessThan(0.002);
  }, 120_000);

  test('hostile requests get 4xx with a message and the server stays healthy', {
    timeout: 60_000,
  }, async () => {
    // a recording of its own to aim the range cases at
    const started = await fetch(`${server.url}api/recording/start`, { method: 'POST', body: '{}' });
    expect(started.status).toBe(200);
    expect((await fetch(`${server.url}api/recording/start`, { method: 'POST', body: '{}' })).status).toBe(
      409,
    );
    await new Promise((r) => setTimeout(r, 1000));
    const stopped = (await (await fetch(`${server.url}api/recording/stop`, { method: 'POST' })).json()) as {
      key: string;
    };
    const key = encodeURIComponent(stopped.key);
    const cases: Array<[string, RequestInit | undefined, number]> = [
      ['api/audio?key=..%2F..%2Fetc%2Fpasswd', undefined, 400],
      ['api/audio?key=audex%2F..%2F..%2Fpackage.json', undefined, 400],
      ['api/audio?key=%2Fetc%2Fpasswd', undefined, 400],
      ['api/audio?key=audex%5C..%5Csecret', undefined, 400],
      ['api/audio?key=audex%2Fweb%2F%00.wav', undefined, 400],
      ['api/audio', undefined, 400],
      ['api/audio?key=other%2Fx.wav', undefined, 400],
      ['api/audio?key=audex%2Fweb%2Fmissing.wav', undefined, 404],
      [`api/audio?key=${key}&format=aac`, undefined, 400],
      [`api/audio?key=${key}&format=..%2F..%2Fwav`, undefined, 400],
      [`api/audio?key=${key}&from=2&to=1`, undefined, 400],
      [`api/audio?key=${key}&from=1&to=1`, undefined, 400],
      [`api/audio?key=${key}&from=-1&to=1`, undefined, 400],
      [`api/audio?key=${key}&from=1e308&to=1e309`, undefined, 400],
      [`api/audio?key=${key}&from=NaN`, undefined, 400],
      [`api/audio?key=${key}&to=Infinity`, undefined, 400],
      [`api/audio?key=${key}&from=0x10`, undefined, 400],
      [`api/audio?key=${key}&from=999999&to=9999999`, undefined, 416],
      [`api/peaks?key=${key}&columns=100000000`, undefined, 400],
      ['api/recordings?key=..%2Fx', { method: 'DELETE' }, 400],
      ['api/recording/stop', { method: 'POST' }, 409],
      ['api/recording/start', { method: 'POST', body: '{not json' }, 400],
      ['api/recording/start', { method: 'POST', body: '{"device":-3}' }, 400],
      ['api/recording/start', { method: 'POST', body: '{"device":4242}' }, 400],
      ['api/recording/start', { method: 'POST', body: 'x'.repeat(100_000) }, 413],
      ['api/recording/start', { method: 'GET' }, 405],
      ['%2e%2e/%2e%2e/etc/passwd', undefined, 404],
      ['api/nothing', undefined, 404],
    ];
    for (const [path, init, status] of cases) {
      const response = await fetch(`${server.url}${path}`, init);
      const body = (await response.json()) as { error?: string };
      expect({ path, status: response.status }).toEqual({ path, status });
      expect(body.error).toMatch(/^\[audex\/web\] /);
      expect(body.error).not.toContain('root:');
    }
    // other web pages cannot switch the microphone on: cross-site POSTs and DNS-rebinding hosts
    const crossSite = await fetch(`${server.url}api/recording/start`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(crossSite.status).toBe(403);
    expect(((await crossSite.json()) as { error: string }).error).toContain(
      'cross-origin requests from http://evil.example',
    );
    const port = new URL(server.url).port;
    const rebound = await rawGet(port, '/api/recordings', { host: `evil.example:${port}` });
    expect(rebound.status).toBe(403);
    const socketRefused = await new Promise<boolean>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/live`, { origin: 'http://evil.example' });
      socket.on('open', () => {
        socket.close();
        resolve(false);
      });
      socket.on('error', () => resolve(true));
    });
    expect(socketRefused).toBe(true);

    const health = await fetch(`${server.url}api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, recording: false });
    expect(server.process.exitCode).toBeNull();
  });
});

describe('web demo on a machine without an input device', () => {
  // a source that lists no device: what PortAudio reports on a machine with no microphone
  const noDevices: AudioSource = {
    listInputDevices: async () => [],
    start: async () => {
      throw new Error('no device to open');
    },
    stop: async () => {},
  };

  test('the page says so plainly, points to the virtual microphone helper, and start is refused', async () => {
    const app = createWebApp({
      store: new LocalStore({ root: join(dir, 'empty-store') }),
      createSource: () => noDevices,
    });
    await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`;
    const tab = await browser.newPage({ viewport: { width: 1100, height: 700 } });
    try {
      await tab.goto(url);
      const notice = tab.getByRole('alert');
      await notice.waitFor();
      expect(await notice.textContent()).toMatch(/No audio input device found\..*virtual-mic\.mjs start/);
      expect(await tab.getByRole('button', { name: 'Start recording' }).isDisabled()).toBe(true);
      await tab.screenshot({ path: join(ARTIFACTS, 'no-device.png') });
      const response = await fetch(`${url}api/recording/start`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: string }).error).toContain('virtual-mic.mjs start');
    } finally {
      await tab.close();
      await app.close();
    }
  });
});
