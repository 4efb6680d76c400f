import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fromFloat32 } from '@audex/pcm';
import { ffmpegEbur128 } from '@audex/test-utils/ebur128';
import { readAudioFloat, writeSpokenSentences } from '@audex/test-utils/speech';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisError, normalizeLoudness } from '../src/index.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-normalize-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes int16/int24/float32 PCM as a WAV with sox and measures it with ffmpeg. */
async function measureWithFfmpeg(
  pcm: Uint8Array,
  rate: number,
  channels: number,
  sampleFormat: 'int16' | 'int24' | 'float32',
) {
  const raw = join(dir, `out-${Math.random().toString(36).slice(2)}.raw`);
  const wav = `${raw}.wav`;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(raw, pcm);
  const type = sampleFormat === 'float32' ? ['-t', 'f32'] : ['-t', sampleFormat === 'int16' ? 's16' : 's24'];
  await run('sox', ['-V1', ...type, '-r', String(rate), '-c', String(channels), raw, wav]);
  return ffmpegEbur128(wav);
}

describe('normalizeLoudness', () => {
  it.each([
    ['speech to -23 LUFS, no limiting needed', -23, -1, 'int16'],
    ['speech to -16 LUFS under -1 dBTP (peaks limited)', -16, -1, 'int16'],
    ['speech to -19 LUFS under -2 dBTP, 24-bit', -19, -2, 'int24'],
  ] as const)(
    '%s: ffmpeg measures the target ±0.2 LU and the peak under the ceiling',
    async (_name, targetLufs, ceiling, sampleFormat) => {
      const speech = await writeSpokenSentences(dir, { rate: 48_000, channels: 2, gainDb: -12 });
      const { samples, rate, channels } = await readAudioFloat(speech.file);
      const shape = { rate, channels, sampleFormat };
      const result = normalizeLoudness(fromFloat32(samples, sampleFormat), shape, {
        targetLufs,
        truePeakDbtp: ceiling,
      });
      const ref = await measureWithFfmpeg(result.pcm, rate, channels, sampleFormat);
      expect(Math.abs(ref.integratedLufs - targetLufs), `ffmpeg I ${ref.integratedLufs}`).toBeLessThanOrEqual(
        0.2,
      );
      expect(ref.truePeakDbtp, `ffmpeg TP ${ref.truePeakDbtp}`).toBeLessThanOrEqual(ceiling + 0.1);
      expect(Math.abs(result.after.integratedLufs - targetLufs)).toBeLessThanOrEqual(0.2);
      expect(result.before.integratedLufs).toBeLessThan(targetLufs);
    },
  );

  it('turns a quiet tone up by exactly the gap to the target (float input stays float)', () => {
    const rate = 16_000;
    const x = new Float32Array(rate * 5);
    for (let i = 0; i < x.length; i++) x[i] = 0.05 * Math.sin((2 * Math.PI * 997 * i) / rate);
    const r = normalizeLoudness(x, { rate, channels: 1, sampleFormat: 'float32' }, { targetLufs: -20 });
    expect(r.pcm).toBeInstanceOf(Float32Array);
    expect(r.limiterDb).toBe(0);
    expect(r.gainDb).toBeCloseTo(-20 - r.before.integratedLufs, 6);
    expect(r.after.integratedLufs).toBeCloseTo(-20, 2);
    expect(r.pcm[100]! / x[100]!).toBeCloseTo(10 ** (r.gainDb / 20), 5);
  });

  it('says how loud it got when the target needs more than 12 dB of limiting', () => {
    const rate = 16_000;
    const x = new Float32Array(rate * 4);
    // A click train: peaks far above the average loudness.
    for (let i = 0; i < x.length; i += 800) x[i] = 0.9;
    const r = normalizeLoudness(
      x,
      { rate, channels: 1, sampleFormat: 'float32' },
      { targetLufs: -5, truePeakDbtp: -1 },
    );
    expect(r.after.truePeakDbtp).toBeLessThanOrEqual(-1 + 0.05);
    expect(r.after.integratedLufs).toBeLessThan(-5);
    expect(r.limiterDb).toBeLessThanOrEqual(12.5);
  });

  it('returns silence unchanged', () => {
    const pcm = new Uint8Array(3200);
    const r = normalizeLoudness(pcm, { rate: 16_000, channels: 1, sampleFormat: 'int16' });
    expect(r.pcm).toBe(pcm);
    expect(r.gainDb).toBe(0);
  });

  it('rejects a target or ceiling out of range, naming it', () => {
    const shape = { rate: 16_000, channels: 1, sampleFormat: 'int16' } as const;
    expect(() => normalizeLoudness(new Uint8Array(2), shape, { targetLufs: 3 })).toThrow(
      /targetLufs must be a number from -70 to 0 LUFS, got 3/,
    );
    expect(() => normalizeLoudness(new Uint8Array(2), shape, { truePeakDbtp: Number.NaN })).toThrow(
      AnalysisError,
    );
  });
});
