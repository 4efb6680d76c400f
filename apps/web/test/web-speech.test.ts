import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSpokenSentences } from '@audex/test-utils/speech';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ARTIFACTS, type RunningServer, startServer } from './_helpers.js';

let mic: VirtualMic;
let server: RunningServer;
let browser: Browser;
let page: Page;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-web-speech-'));
  await mkdir(ARTIFACTS, { recursive: true });
  mic = await startVirtualMic();
  server = await startServer({ AUDEX_STORE_DIR: join(dir, 'store'), AUDEX_SPOOL_DIR: join(dir, 'spool') });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await mic?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('speech recorded in the browser: live LUFS, then the recording shows its loudness and its three speech regions on the waveform', async () => {
  const speech = await writeSpokenSentences(dir, { rate: 48_000, channels: 2 });
  await page.goto(server.url);
  await expect.poll(() => page.locator('#device option').count(), { timeout: 15_000 }).toBeGreaterThan(0);
  await page.getByRole('button', { name: 'Start recording' }).click();
  await expect
    .poll(() => page.getByRole('button', { name: 'Stop recording' }).isEnabled(), { timeout: 15_000 })
    .toBe(true);
  const playback = await mic.playBackground(speech.file);
  try {
    // The live meter shows the momentary loudness while the voice plays (it reads −∞ in silence).
    await expect
      .poll(() => page.locator('#level-lufs').textContent(), { timeout: 15_000 })
      .toMatch(/^-\d+\.\d LUFS$/);
    await playback.done;
  } finally {
    await playback.stop();
  }
  await page.waitForTimeout(500);
  await page.getByRole('button', { name: 'Stop recording' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor({ timeout: 30_000 });
  const item = page.locator('li.recording').first();
  await item.waitFor();
  await expect
    .poll(() => item.locator('.rec-meta').textContent())
    .toMatch(/-\d+\.\d LUFS · peak -?\d+\.\d dBTP/);
  const text = (await item.locator('.rec-speech').textContent()) ?? '';
  expect(text).toMatch(/^Speech \(3\): \d+\.\d s–\d+\.\d s, \d+\.\d s–\d+\.\d s, \d+\.\d s–\d+\.\d s$/);
  // The band under the waveform is drawn where the regions are: green pixels in its bottom rows.
  await expect
    .poll(
      () =>
        item.locator('canvas').evaluate((element) => {
          const canvas = element as unknown as {
            width: number;
            height: number;
            getContext(kind: '2d'): {
              getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
            };
          };
          const { data } = canvas.getContext('2d').getImageData(0, canvas.height - 4, canvas.width, 1);
          let green = 0;
          for (let i = 0; i < data.length; i += 4) if (data[i + 1]! > 150 && data[i]! < 100) green += 1;
          return green / canvas.width;
        }),
      { timeout: 10_000 },
    )
    .toBeGreaterThan(0.3);
  await page.screenshot({ path: join(ARTIFACTS, 'speech.png') });
});
