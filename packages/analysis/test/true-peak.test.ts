import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ffmpegEbur128 } from '@audex/test-utils/ebur128';
import { readAudioFloat, writeSpokenSentences } from '@audex/test-utils/speech';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TruePeakMeter, truePeakReference } from '../src/_true-peak.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'audex-true-peak-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes interleaved float samples as a 32-bit float WAV (through sox) and returns its path. */
async function floatWav(name: string, x: Float32Array, rate: number, channels: number): Promise<string> {
  const raw = join(dir, `${name}.f32`);
  const wav = join(dir, `${name}.wav`);
  await writeFile(raw, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  await run('sox', [
    '-V1',
    '-t',
    'raw',
    '-e',
    'floating-point',
    '-b',
    '32',
    '-r',
    String(rate),
    '-c',
    String(channels),
    raw,
    wav,
  ]);
  return wav;
}

const dbtp = (linear: number) => 20 * Math.log10(linear);

/** The meter's peak after writing `x` in pieces of the given frame counts (cycled). */
function metered(x: Float32Array, rate: number, channels: number, pieces: readonly number[]): number {
  const meter = new TruePeakMeter(rate, channels);
  for (let at = 0, k = 0; at < x.length; k++) {
    const take = Math.min(x.length - at, pieces[k % pieces.length]! * channels);
    meter.write(x.subarray(at, at + take));
    at += take;
  }
  return meter.peak;
}

/** Deterministic test signals, interleaved, `seconds` long. */
function signal(kind: string, rate: number, channels: number, seconds: number): Float32Array {
  const frames = Math.round(rate * seconds);
  const x = new Float32Array(frames * channels);
  let seed = 12345;
  const noise = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed / 2 ** 32) * 2 - 1;
  };
  let brown = 0;
  for (let i = 0; i < frames; i++) {
    const t = i / rate;
    for (let c = 0; c < channels; c++) {
      let v: number;
      switch (kind) {
        case 'tone':
          v = 0.5 * Math.sin(2 * Math.PI * 997 * t + c);
          break;
        case 'near Nyquist':
          // 0.45 fs at 45°: inter-sample peaks up to ~3 dB over the samples
          v = 0.5 * Math.sin(2 * Math.PI * 0.45 * rate * t + Math.PI / 4 + c);
          break;
        case 'quarter rate':
          v = 0.7 * Math.sin((Math.PI / 2) * i + Math.PI / 4);
          if (i < 64) v *= i / 64; // faded in: no step at the start
          break;
        case 'white noise':
          v = 0.3 * noise();
          break;
        case 'brown noise':
          brown = 0.995 * brown + 0.05 * noise();
          v = brown;
          break;
        case 'sweep':
          v = 0.4 * Math.sin(2 * Math.PI * (40 * t + ((rate / 2.2 - 40) / (2 * seconds)) * t * t));
          break;
        case 'clipped tone':
          v = Math.max(-0.6, Math.min(0.6, 0.9 * Math.sin(2 * Math.PI * 1234 * t + c)));
          break;
        case 'bursts':
          v = (t % 0.5 < 0.05 ? 0.8 : 0.02) * Math.sin(2 * Math.PI * 3000 * t) + 0.01 * noise();
          break;
        default:
          v = i === Math.floor(frames / 2) ? 0.9 : 0; // one click
      }
      x[i * channels + c] = v;
    }
  }
  return x;
}

const KINDS = [
  'tone',
  'near Nyquist',
  'quarter rate',
  'white noise',
  'brown noise',
  'sweep',
  'clipped tone',
  'bursts',
  'click',
];

describe('TruePeakMeter (pruned) equals the full interpolation of every phase', () => {
  it.each([
    [8_000, 1],
    [16_000, 1],
    [22_050, 2],
    [44_100, 2],
    [48_000, 2],
    [96_000, 1],
  ])('at %i Hz, %i channel(s), for tones, noise, sweeps, clipping, bursts and a click', (rate, channels) => {
    for (const kind of KINDS) {
      const x = signal(kind, rate, channels, 1.5);
      const meter = new TruePeakMeter(rate, channels);
      // uneven writes: the filter history crosses every boundary
      for (let at = 0, n = 1; at < x.length; n = (n * 7 + 3) % 4000 || 1) {
        const take = Math.min(x.length - at, n * channels);
        meter.write(x.subarray(at, at + take));
        at += take;
      }
      const want = truePeakReference(x, rate, channels);
      expect(Math.abs(meter.peak - want), `${kind}: ${meter.peak} vs ${want}`).toBeLessThanOrEqual(
        want * 1e-12,
      );
      // and the inter-sample peak is really found: fs/4 at 45° has samples at ±0.495, crests at 0.7
      // (0.691 at 44.1 kHz, whose x5 grid misses the crest by a tenth of a sample)
      if (kind === 'quarter rate') {
        expect(meter.peak).toBeGreaterThan(0.69);
        expect(meter.peak).toBeLessThan(0.701);
      }
    }
  });

  it('gives the same peak for one large write as for 100 ms chunks', () => {
    const x = signal('bursts', 48_000, 2, 3);
    const whole = new TruePeakMeter(48_000, 2);
    whole.write(x);
    const chunked = new TruePeakMeter(48_000, 2);
    for (let at = 0; at < x.length; at += 9600) chunked.write(x.subarray(at, at + 9600));
    expect(chunked.peak).toBe(whole.peak);
  });
});

describe('TruePeakMeter against ffmpeg ebur128=peak=true (within 0.1 dB)', () => {
  // Signals whose true peak is well above their sample peak, where a sample-peak meter is wrong
  // by up to 3 dB; speech and noise (mono and stereo) are also compared in loudness.test.ts.
  it.each([
    ['quarter rate at 45° (crests 3 dB over the samples)', 48_000, 1, 'quarter rate'],
    ['0.45 fs tone, stereo', 48_000, 2, 'near Nyquist'],
    ['white noise, stereo', 48_000, 2, 'white noise'],
    ['tone, mono 16 kHz', 16_000, 1, 'tone'],
    ['bursts, stereo 48 kHz', 48_000, 2, 'bursts'],
    ['clipped tone, stereo 48 kHz', 48_000, 2, 'clipped tone'],
  ] as const)('%s', async (name, rate, channels, kind) => {
    // Faded in over 64 samples: ffmpeg's resampler mirrors the first samples, so a file that starts
    // with a step (a tone cut mid-wave) rings only in ours, where the filter history is silence.
    const x = signal(kind, rate, channels, 3);
    for (let i = 0; i < 64 * channels; i++) x[i]! *= Math.floor(i / channels) / 64;
    const file = await floatWav(name.replace(/\W+/g, '-'), x, rate, channels);
    const ref = await ffmpegEbur128(file);
    const ours = dbtp(metered(x, rate, channels, [4800]));
    expect(Math.abs(ours - ref.truePeakDbtp), `${ours} vs ffmpeg ${ref.truePeakDbtp}`).toBeLessThanOrEqual(
      0.1,
    );
    if (kind === 'quarter rate') {
      // the samples say -6.1 dBFS; the waveform between them reaches -3.1
      let samplePeak = 0;
      for (const v of x) samplePeak = Math.max(samplePeak, Math.abs(v));
      expect(ours - dbtp(samplePeak)).toBeGreaterThan(2.9);
    }
  });

  it.each([
    [16_000, 1],
    [48_000, 2],
  ])('espeak-ng speech at %i Hz, %i channel(s), in 100 ms chunks', async (rate, channels) => {
    const speech = await writeSpokenSentences(dir, { rate, channels });
    const { samples } = await readAudioFloat(speech.file);
    const ref = await ffmpegEbur128(speech.file);
    const ours = dbtp(metered(samples, rate, channels, [rate / 10]));
    expect(Math.abs(ours - ref.truePeakDbtp), `${ours} vs ffmpeg ${ref.truePeakDbtp}`).toBeLessThanOrEqual(
      0.1,
    );
    expect(metered(samples, rate, channels, [rate / 10])).toBe(truePeakReference(samples, rate, channels));
  });
});

describe('TruePeakMeter edge cases', () => {
  it('gives identical results for any chunking (1 frame, primes, 100 ms, random, one write)', () => {
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const randomPieces = Array.from({ length: 97 }, () => 1 + (random() % 6000));
    for (const kind of ['near Nyquist', 'bursts', 'white noise', 'quarter rate', 'click']) {
      const x = signal(kind, 48_000, 2, 1);
      const whole = metered(x, 48_000, 2, [x.length]);
      for (const pieces of [[1], [31], [32], [33], [4800], [16_385], [7, 1, 30_000], randomPieces]) {
        expect(metered(x, 48_000, 2, pieces), `${kind}, pieces ${pieces.slice(0, 3)}`).toBe(whole);
      }
    }
  });

  it('finds a peak between two samples that straddle a chunk boundary', () => {
    // fs/4 at 45°: every crest lies between two samples; cut the signal right between them
    const x = signal('quarter rate', 48_000, 1, 0.1);
    for (const cut of [100, 101, 102, 103]) {
      expect(metered(x, 48_000, 1, [cut, x.length])).toBe(metered(x, 48_000, 1, [x.length]));
    }
    expect(metered(x, 48_000, 1, [101, x.length])).toBeGreaterThan(0.69);
  });

  it('reads silence as 0, a lone full-scale sample at least at full scale, and ignores empty writes', () => {
    const meter = new TruePeakMeter(48_000, 2);
    meter.write(new Float32Array(0));
    meter.write(new Float32Array(9600));
    expect(meter.peak).toBe(0);
    const click = new Float32Array(9600);
    click[4801] = -1; // right channel only
    meter.write(click);
    meter.write(new Float32Array(0));
    expect(meter.peak).toBeGreaterThanOrEqual(1);
    expect(meter.peak).toBe(
      truePeakReference(new Float32Array([...new Float32Array(9600), ...click]), 48_000, 2),
    );
  });

  it('keeps the largest channel: a loud left and a quiet right give the left peak', () => {
    const mono = signal('near Nyquist', 48_000, 1, 0.5);
    const stereo = new Float32Array(mono.length * 2);
    for (let i = 0; i < mono.length; i++) {
      stereo[2 * i] = mono[i]!;
      stereo[2 * i + 1] = mono[i]! * 0.1;
    }
    expect(metered(stereo, 48_000, 2, [4800])).toBe(metered(mono, 48_000, 1, [4800]));
  });
});
