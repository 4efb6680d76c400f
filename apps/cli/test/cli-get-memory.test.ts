import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeChunks, getCodec } from '@audex/codec';
import { fromFloat32 } from '@audex/pcm';
import { LocalStore } from '@audex/store';
import { decodeWithFfmpeg, toneShare } from '@audex/test-utils/audio-file-checks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from './_helpers.js';

const RATE = 16_000;
const HOURS = 2;
const TONE_AT_S = 3_600;
const TONE_HZ = 1_000;
const KEY = 'audex/long/two-hours.wav';
const PEAK_RSS = new URL('./_peak-rss.cjs', import.meta.url).pathname;

let dir: string;

/** A 2-hour 16 kHz mono int16 recording (230 MB of WAV): silence, with a tone from 3600 s to 3660 s. */
async function* twoHours(): AsyncGenerator<Uint8Array> {
  const second = new Float32Array(RATE);
  const silence = fromFloat32(second, 'int16');
  for (let i = 0; i < RATE; i++) second[i] = 0.5 * Math.sin((2 * Math.PI * TONE_HZ * i) / RATE);
  const toneSecond = fromFloat32(second, 'int16');
  for (let s = 0; s < HOURS * 3_600; s++) yield s >= TONE_AT_S && s < TONE_AT_S + 60 ? toneSecond : silence;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-cli-get-memory-'));
  const store = new LocalStore({ root: join(dir, 'store'), fsync: false });
  const frames = HOURS * 3_600 * RATE;
  const wav = getCodec('wav').createEncoder({
    rate: RATE,
    channels: 1,
    sampleFormat: 'int16',
    totalFrames: frames,
  });
  await store.upload(encodeChunks(wav, twoHours()), KEY, { sample_rate: RATE, channels: 1 });
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('audex get on a long recording', () => {
  test('cuts a 30 s MP3 clip from a 2-hour recording with a peak RSS under 200 MB, the tone at its first sample', async () => {
    const out = join(dir, 'clip.mp3');
    const result = await runCli(
      ['get', KEY, '--from', String(TONE_AT_S), '--to', String(TONE_AT_S + 30), '-f', 'mp3', '-o', out],
      {
        AUDEX_STORE_DIR: join(dir, 'store'),
        NODE_OPTIONS: `--require ${PEAK_RSS}`,
      },
    );
    expect(result.stderr).toMatch(/wrote /);
    expect(result.code).toBe(0);
    const peakKb = Number(/peak-rss-kb (\d+)/.exec(result.stderr)?.[1]);
    console.log(`audex get 30 s MP3 clip of 2 h: peak RSS ${(peakKb / 1024).toFixed(1)} MB`);
    expect(peakKb).toBeGreaterThan(10_000); // measured, not missing
    expect(peakKb).toBeLessThan(200 * 1024);
    const samples = await decodeWithFfmpeg(out);
    expect(samples.length).toBe(30 * RATE);
    // The tone starts at the clip's first sample: the first 50 ms already carry it at full level.
    const head = samples.subarray(0, 800);
    expect(toneShare(head, RATE, TONE_HZ)).toBeGreaterThan(0.9);
    let energy = 0;
    for (const x of head) energy += x * x;
    expect(Math.sqrt(energy / head.length)).toBeGreaterThan(0.3);
  }, 120_000);

  test('a clip starting 1 s before the tone is silent for exactly that second', async () => {
    const out = join(dir, 'before.wav');
    const result = await runCli(
      ['get', KEY, '--from', String(TONE_AT_S - 1), '--to', String(TONE_AT_S + 1), '-o', out],
      {
        AUDEX_STORE_DIR: join(dir, 'store'),
      },
    );
    expect(result.code).toBe(0);
    const samples = await decodeWithFfmpeg(out);
    expect(samples.length).toBe(2 * RATE);
    expect(samples.subarray(0, RATE).every((x) => x === 0)).toBe(true);
    expect(Math.abs(samples[RATE + 4]!)).toBeGreaterThan(0.1);
  }, 60_000);

  test('`-f flac` cuts a FLAC clip that flac -t accepts (MD5 set) with the same samples as the WAV clip', async () => {
    const env = { AUDEX_STORE_DIR: join(dir, 'store') };
    const flac = join(dir, 'clip.flac');
    const wav = join(dir, 'clip.wav');
    const range = ['--from', String(TONE_AT_S - 2), '--to', String(TONE_AT_S + 3)];
    expect((await runCli(['get', KEY, ...range, '-f', 'flac', '-o', flac], env)).code).toBe(0);
    expect((await runCli(['get', KEY, ...range, '-o', wav], env)).code).toBe(0);
    const check = spawnSync('flac', ['-t', flac], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(check.stderr).not.toMatch(/WARNING/);
    const samples = await decodeWithFfmpeg(flac);
    expect(samples.length).toBe(5 * RATE);
    expect(samples).toEqual(await decodeWithFfmpeg(wav));
  }, 60_000);
});
