// The web demo's recording that keeps going, in headless Chromium: with pre-roll on the virtual
// microphone the page says the microphone is open, a click records at once (reaching back), a dead
// audio server shows "reconnecting" then "back" and the recording goes on through it; a muted
// microphone shows the silence warning until sound returns; with rotation (synthetic source) the page
// counts the files and each is saved as it closes, one chain of keys.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '@audex/store';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type RunningServer, startServer } from './_helpers.js';

let browser: Browser;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-web-continuous-'));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('virtual microphone, pre-roll 1.5 s, silence warning after 2 s', () => {
  let mic: VirtualMic;
  let server: RunningServer;
  let page: Page;
  const storeDir = () => join(dir, 'mic-store');

  beforeAll(async () => {
    mic = await startVirtualMic();
    server = await startServer({
      ...mic.env,
      AUDEX_STORE_DIR: storeDir(),
      AUDEX_SPOOL_DIR: join(dir, 'mic-spool'),
      AUDEX_PRE_ROLL_MS: '1500',
      AUDEX_SILENCE_MS: '2000',
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  }, 90_000);

  afterAll(async () => {
    await page?.close();
    await server?.stop();
    await mic?.stop();
  });

  test('the page shows the microphone open, Start records from before the click; a dead audio server shows reconnecting, then back', async () => {
    expect(server.output()).toContain('pre-roll 1.5 s (the microphone stays open while a page is connected)');
    await page.goto(server.url);
    const inputState = page.locator('#input-state');
    await expect.poll(() => inputState.textContent(), { timeout: 20_000 }).toContain('Microphone open');
    await page.waitForTimeout(1600); // the ring fills
    const clickedAt = Date.now();
    await page.getByRole('button', { name: 'Start recording' }).click();
    await expect
      .poll(() => page.getByRole('button', { name: 'Stop recording' }).isEnabled(), { timeout: 15_000 })
      .toBe(true);
    await expect.poll(() => inputState.textContent()).toMatch(/^Microphone open \(pre-roll 1\.5 s\)/);
    await page.waitForTimeout(1000);
    await mic.kill();
    await expect
      .poll(() => inputState.textContent(), { timeout: 10_000 })
      .toContain('Input lost: reconnecting');
    await page.waitForTimeout(1000);
    await mic.restart();
    await expect
      .poll(() => inputState.textContent(), { timeout: 20_000 })
      .toMatch(/^Microphone open \(pre-roll 1\.5 s\) · input back after \d+\.\d s/);
    const back = /input back after (\d+\.\d) s/.exec((await inputState.textContent()) ?? '');
    await page.waitForTimeout(500);
    await page.getByRole('button', { name: 'Stop recording' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor({ timeout: 20_000 });
    const key = await page.locator('li.recording').first().getAttribute('data-key');
    const metadata = await new LocalStore({ root: storeDir() }).getMetadata(key!);
    // It began before the click, reaching back 1.5 s, and holds the outage as one gap: the one the page showed.
    expect(metadata.pre_roll_ms).toBeGreaterThanOrEqual(1400);
    expect(Date.parse(metadata.started_at as string)).toBeLessThan(clickedAt);
    expect(metadata.gap_count).toBe(1);
    const gapMs = (metadata.gap_frames as number) / ((metadata.sample_rate as number) / 1000);
    expect(Math.abs(Number(back![1]) * 1000 - gapMs)).toBeLessThan(1000);
    // Still open for the next recording while the page is there.
    await expect.poll(() => inputState.textContent()).toContain('a recording starts at once');
  }, 90_000);

  test('a muted microphone shows "No sound for 2 s" while recording, and the notice goes when sound returns', async () => {
    const inputState = page.locator('#input-state');
    const tone = await mic.playBackground({ frequencies: [700], toneSeconds: 30 });
    try {
      await page.getByRole('button', { name: 'Start recording' }).click();
      await expect
        .poll(() => page.getByRole('button', { name: 'Stop recording' }).isEnabled(), { timeout: 15_000 })
        .toBe(true);
      await page.waitForTimeout(3000); // the tone plays: no warning
      expect(await inputState.textContent()).not.toContain('No sound');
      await mic.setMuted(true);
      await expect
        .poll(() => inputState.textContent(), { timeout: 15_000 })
        .toContain('No sound for 2 s: is the microphone muted?');
      expect(await inputState.getAttribute('class')).toContain('warn');
      await mic.setMuted(false);
      await expect.poll(() => inputState.textContent(), { timeout: 15_000 }).not.toContain('No sound');
      await page.getByRole('button', { name: 'Stop recording' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor({ timeout: 20_000 });
    } finally {
      await tone.stop();
    }
  }, 90_000);
});

test('rotation every 1 s (synthetic source): the page counts the files, each is saved as it closes, one chain of keys', async () => {
  const storeDir = join(dir, 'rotate-store');
  const server = await startServer({
    AUDEX_SOURCE: 'synthetic',
    AUDEX_STORE_DIR: storeDir,
    AUDEX_SPOOL_DIR: join(dir, 'rotate-spool'),
    AUDEX_ROTATE_MS: '1000',
  });
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  try {
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Start recording' }).click();
    const inputState = page.locator('#input-state');
    await expect.poll(() => inputState.textContent(), { timeout: 20_000 }).toContain('file 3');
    // A closed file is saved while recording goes on: the status names it and the file being written.
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: 10_000 })
      .toMatch(
        /^Saved audex\/web\/\S+-0000\d\d\.wav \(0:01\.0\); recording to audex\/web\/\S+-0000\d\d\.wav…$/,
      );
    await page.getByRole('button', { name: 'Stop recording' }).click();
    await expect.poll(() => inputState.textContent(), { timeout: 20_000 }).not.toContain('file');
    const store = new LocalStore({ root: storeDir });
    const keys: string[] = [];
    for await (const page of store.list()) keys.push(...page);
    expect(keys.length).toBeGreaterThanOrEqual(3);
    const metadata = await Promise.all(keys.map((key) => store.getMetadata(key)));
    const files = keys
      .map((key, i) => ({ key, m: metadata[i]! }))
      .sort((a, b) => Number(a.m.sequence) - Number(b.m.sequence));
    // One recording (one id), sequence 0, 1, 2, … each naming the key before it.
    expect(new Set(files.map((f) => f.m.recording_id)).size).toBe(1);
    files.forEach((f, i) => {
      expect(Number(f.m.sequence)).toBe(i);
      if (i > 0) expect(f.m.previous_key).toBe(files[i - 1]!.key);
      else expect(f.m.previous_key ?? null).toBeNull();
    });
    // Every file but the last holds exactly 1 s of audio.
    for (const f of files.slice(0, -1)) expect(f.m.duration_ms).toBe(1000);
    // The page lists every file.
    await expect.poll(() => page.locator('li.recording').count(), { timeout: 10_000 }).toBe(files.length);
  } finally {
    await page.close();
    await server.stop();
  }
}, 90_000);
