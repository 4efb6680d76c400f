import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fromFloat32 } from '@audex/pcm';
import { ffmpegEbur128 } from '@audex/test-utils/ebur128';
import { readAudioFloat, writeSpokenSentences } from '@audex/test-utils/speech';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisError, createLoudnessMeter, measureLoudness } from '../src/index.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-loudness-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** sox synth: [name, rate, channels, bits, seconds, synth args]. */
const SIGNALS: [string, number, number, number, number, string[]][] = [
  ['1 kHz tone, mono 48 kHz', 48_000, 1, 16, 10, ['sine', '1000', 'vol', '0.1']],
  ['997 Hz tone, mono 16 kHz', 16_000, 1, 16, 10, ['sine', '997', 'vol', '0.5']],
  ['tone pair, stereo 44.1 kHz', 44_100, 2, 24, 8, ['sine', '440', 'sine', '3000', 'vol', '0.6']],
  ['pink noise, stereo 48 kHz', 48_000, 2, 24, 20, ['pinknoise', 'vol', '0.3']],
  ['white noise, stereo 48 kHz', 48_000, 2, 16, 12, ['whitenoise', 'vol', '0.3']],
  // Not noise at 44.1 kHz: ffmpeg resamples it to 48 kHz first, which moves the true peak of
  // full-band noise by up to ~0.3 dB (its own interpolation); tones and speech there agree.
  ['pink noise, mono 48 kHz', 48_000, 1, 16, 12, ['pinknoise', 'vol', '0.5']],
  ['brown noise fading in, mono 22.05 kHz', 22_050, 1, 16, 15, ['brownnoise', 'fade', 't', '10', '15', '0']],
];

async function compare(file: string): Promise<void> {
  const { samples, rate, channels } = await readAudioFloat(file);
  const ours = measureLoudness(samples, { rate, channels, sampleFormat: 'float32' });
  const ref = await ffmpegEbur128(file);
  expect(
    Math.abs(ours.integratedLufs - ref.integratedLufs),
    `I ${ours.integratedLufs} vs ${ref.integratedLufs}`,
  ).toBeLessThanOrEqual(0.1);
  expect(
    Math.abs(ours.loudnessRangeLu - ref.loudnessRangeLu),
    `LRA ${ours.loudnessRangeLu} vs ${ref.loudnessRangeLu}`,
  ).toBeLessThanOrEqual(0.1);
  expect(
    Math.abs(ours.truePeakDbtp - ref.truePeakDbtp),
    `TP ${ours.truePeakDbtp} vs ${ref.truePeakDbtp}`,
  ).toBeLessThanOrEqual(0.1);
}

describe('loudness against ffmpeg ebur128=peak=true (within 0.1 LU / 0.1 dB)', () => {
  it.each(SIGNALS)('%s', async (name, rate, channels, bits, seconds, synth) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.wav`);
    await run('sox', [
      '-V1',
      '-R',
      '-n',
      '-r',
      String(rate),
      '-c',
      String(channels),
      '-b',
      String(bits),
      file,
      'synth',
      String(seconds),
      ...synth,
    ]);
    await compare(file);
  });

  it.each([
    [16_000, 1],
    [48_000, 2],
  ])('espeak-ng speech at %i Hz, %i channel(s)', async (rate, channels) => {
    const speech = await writeSpokenSentences(dir, { rate, channels });
    await compare(speech.file);
  });

  it('speech with a different level on each channel (stereo 48 kHz)', async () => {
    const speech = await writeSpokenSentences(dir, { rate: 48_000, channels: 1 });
    const file = join(dir, 'speech-uneven.wav');
    await run('sox', ['-V1', speech.file, '-b', '24', file, 'remix', '1v0.9', '1v0.3']);
    await compare(file);
  });
});

describe('LoudnessMeter', () => {
  const rate = 48_000;
  const tone = (seconds: number, amplitude: number, channels = 1) => {
    const x = new Float32Array(rate * seconds * channels);
    for (let i = 0; i < x.length / channels; i++) {
      for (let c = 0; c < channels; c++)
        x[i * channels + c] = amplitude * Math.sin((2 * Math.PI * 1000 * i) / rate);
    }
    return x;
  };

  it('gives the same result whatever the write sizes and sample format', () => {
    const x = tone(5, 0.4, 2);
    const shape = { rate, channels: 2, sampleFormat: 'int24' as const };
    const bytes = fromFloat32(x, 'int24');
    const whole = measureLoudness(bytes, shape);
    const meter = createLoudnessMeter(shape);
    const frameBytes = 6;
    for (let at = 0, n = 1; at < bytes.length; n = (n * 7 + 3) % 5000 || 1) {
      const take = Math.min(bytes.length - at, n * frameBytes);
      meter.write(bytes.subarray(at, at + take));
      at += take;
    }
    const pieces = meter.summary();
    for (const key of Object.keys(whole) as (keyof typeof whole)[])
      expect(pieces[key]).toBeCloseTo(whole[key], 9);
    const float = measureLoudness(x, { rate, channels: 2, sampleFormat: 'float32' });
    expect(Math.abs(float.integratedLufs - whole.integratedLufs)).toBeLessThan(0.001);
  });

  it('reports momentary loudness every 100 ms once 400 ms are in, short-term once 3 s are in', () => {
    const meter = createLoudnessMeter({ rate, channels: 1, sampleFormat: 'float32' });
    meter.write(tone(0.3, 0.5));
    expect(meter.momentaryLufs).toBe(Number.NEGATIVE_INFINITY);
    meter.write(tone(0.1, 0.5));
    // A 1 kHz sine of amplitude A on one channel: 20 log10(A) - 3.01 + 0.691 (K-weighting at 1 kHz) - 0.691.
    const expected = 20 * Math.log10(0.5) - 3.0103 + 0.691 - 0.691;
    expect(meter.momentaryLufs).toBeCloseTo(expected, 1);
    expect(meter.shortTermLufs).toBe(Number.NEGATIVE_INFINITY);
    meter.write(tone(2.6, 0.5));
    expect(meter.shortTermLufs).toBeCloseTo(expected, 1);
    expect(meter.frames).toBe(rate * 3);
  });

  it('follows a level change in the momentary reading', () => {
    const meter = createLoudnessMeter({ rate, channels: 1, sampleFormat: 'float32' });
    meter.write(tone(1, 0.5));
    const loud = meter.momentaryLufs;
    meter.write(tone(1, 0.05));
    expect(loud - meter.momentaryLufs).toBeCloseTo(20, 0);
    // The quiet second is under the relative gate (-10 LU); only the blocks straddling the change pull it down.
    expect(meter.integratedLufs).toBeLessThan(loud);
    expect(meter.integratedLufs).toBeGreaterThan(loud - 1);
  });

  it('measures silence as -Infinity', () => {
    const s = measureLoudness(new Float32Array(rate * 2), { rate, channels: 1, sampleFormat: 'float32' });
    expect(s.integratedLufs).toBe(Number.NEGATIVE_INFINITY);
    expect(s.truePeakDbtp).toBe(Number.NEGATIVE_INFINITY);
    expect(s.loudnessRangeLu).toBe(0);
    expect(s.durationMs).toBe(2000);
  });

  it('weights 5.1 surround channels 1.41 and leaves out LFE', () => {
    const shape = { rate, channels: 6, sampleFormat: 'float32' as const };
    const only = (channel: number) => {
      const x = new Float32Array(rate * 2 * 6);
      const t = tone(2, 0.3);
      for (let i = 0; i < t.length; i++) x[i * 6 + channel] = t[i]!;
      return measureLoudness(x, shape).integratedLufs;
    };
    expect(only(4) - only(0)).toBeCloseTo(10 * Math.log10(1.41), 2);
    expect(only(3)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('rejects a bad shape, bad channel weights and partial frames with a clear error', () => {
    expect(() => createLoudnessMeter({ rate: 0, channels: 1, sampleFormat: 'int16' })).toThrow(/rate/);
    expect(() =>
      createLoudnessMeter({ rate, channels: 2, sampleFormat: 'int16' }, { channelWeights: [1] }),
    ).toThrow(/channelWeights must be 2 finite numbers/);
    const meter = createLoudnessMeter({ rate, channels: 2, sampleFormat: 'int16' });
    try {
      meter.write(new Uint8Array(6));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AnalysisError);
      expect((error as AnalysisError).code).toBe('INVALID_DATA');
      expect((error as Error).message).toMatch(/^\[audex\/analysis\] .*whole frames of 4 bytes.*got 6 bytes/);
    }
  });
});
