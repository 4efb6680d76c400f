// `audex record` through a device outage on the virtual microphone: it says so and keeps recording.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore } from '@audex/store';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { finish, startCli } from './_helpers.js';

let mic: VirtualMic;
let dir: string;
beforeAll(async () => {
  mic = await startVirtualMic();
  dir = await mkdtemp(join(tmpdir(), 'audex-cli-continuous-'));
}, 60_000);
afterEach(() => {
  // kill() is a planned outage; a daemon that died by itself is named here
  expect(mic.crash).toBeUndefined();
});
afterAll(async () => {
  await mic?.stop();
  await rm(dir, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the audio server dies and comes back mid-`record`: "input lost … reconnecting", "input back", one recording with the gap', async () => {
  const storeDir = join(dir, 'store');
  const child = startCli(['record', '--duration', '6', '--json'], {
    AUDEX_STORE_DIR: storeDir,
    AUDEX_SPOOL_DIR: join(dir, 'spool'),
  });
  const done = finish(child);
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/^recording audex\//m.test(stderr)) resolve();
    });
    child.once('exit', () => reject(new Error(`the CLI exited before recording: ${stderr}`)));
  });
  await sleep(2000);
  await mic.kill();
  await sleep(2000);
  await mic.restart();
  const result = await done;
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toMatch(/^input lost: .*; reconnecting \(the outage is kept as silence\)$/m);
  expect(result.stderr).toMatch(/^input back after \d+\.\d s$/m);
  const saved = JSON.parse(result.stdout.toString()) as { key: string; durationMs: number };
  const metadata = await new LocalStore({ root: storeDir }).getMetadata(saved.key);
  expect(metadata.gap_count).toBe(1);
  // The outage is in the recording as silence: at least the 2 s the server was down.
  expect(((metadata.gap_frames as number) / 16_000) * 1000).toBeGreaterThan(2000);
  expect(saved.durationMs).toBeGreaterThanOrEqual(6000);
}, 60_000);

test('a muted microphone during `record`: "warning: no sound for 10.0 s", then "sound again" once a tone plays unmuted', async () => {
  const storeDir = join(dir, 'silence-store');
  await mic.setMuted(true);
  let tone: Awaited<ReturnType<VirtualMic['playBackground']>> | undefined;
  try {
    const child = startCli(['record', '--duration', '15', '--json'], {
      AUDEX_STORE_DIR: storeDir,
      AUDEX_SPOOL_DIR: join(dir, 'silence-spool'),
    });
    const done = finish(child);
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/^recording audex\//m.test(stderr)) resolve();
      });
      child.once('exit', () => reject(new Error(`the CLI exited before recording: ${stderr}`)));
    });
    await sleep(11_000);
    await mic.setMuted(false);
    tone = await mic.playBackground({ frequencies: [700], toneSeconds: 6 });
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stderr.split('\n');
    const warned = lines.indexOf('warning: no sound for 10.0 s: is the microphone muted or dead?');
    const back = lines.findIndex((l) => /^sound again after \d+\.\d s of silence$/.test(l));
    expect(warned, result.stderr).toBeGreaterThanOrEqual(0);
    expect(back, result.stderr).toBeGreaterThan(warned);
    // The silence lasted from the start until the tone: over 10 s, under the whole recording.
    const silentS = Number(/sound again after (\d+\.\d) s/.exec(lines[back]!)![1]);
    expect(silentS).toBeGreaterThan(10);
    expect(silentS).toBeLessThan(15);
  } finally {
    await tone?.stop();
    await mic.setMuted(false);
  }
}, 60_000);
