import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A sequence of pure tones, one after another, for {@link writeToneSequence}. */
export interface ToneSequenceOptions {
  /** Frequencies in Hz, played in order. */
  frequencies: readonly number[];
  /** Length of each tone, in seconds. Default 0.5. */
  toneSeconds?: number;
  /** Sample rate of the file, in Hz. Default 48000. */
  rate?: number;
  /** Channels of the file (the same tone on each). Default 2. */
  channels?: number;
  /** Peak amplitude, 0..1. Default 0.5. */
  amplitude?: number;
  /** Silence before the first tone, in seconds. Default 0. */
  leadSilenceSeconds?: number;
}

/**
 * Writes a 16-bit WAV of tones of distinct frequencies, `toneSeconds` each, made with sox
 * (phase-continuous synth per tone, no fades). Returns `file`.
 */
export async function writeToneSequence(file: string, options: ToneSequenceOptions): Promise<string> {
  const seconds = options.toneSeconds ?? 0.5;
  const rate = options.rate ?? 48_000;
  const channels = options.channels ?? 2;
  const gainDb = 20 * Math.log10(options.amplitude ?? 0.5);
  const lead = options.leadSilenceSeconds ?? 0;
  // one synth effect per tone, chained with sox's ':' effect-chain separator
  const chain: string[] = [];
  options.frequencies.forEach((f, i) => {
    if (i > 0) chain.push(':');
    chain.push('synth', String(seconds), 'sine', String(f), 'gain', gainDb.toFixed(2));
  });
  const args = ['-n', '-r', String(rate), '-c', String(channels), '-b', '16', file, ...chain];
  if (lead > 0) args.push(':', 'pad', String(lead), '0');
  await run('sox', ['-V1', ...args]);
  return file;
}

/**
 * Power of `freq` in `samples` relative to the signal's total power (0..1), by the Goertzel
 * algorithm. A pure tone at `freq` gives about 1; other frequencies about 0.
 */
export function detectTone(samples: Float32Array, rate: number, freq: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const k = Math.round((n * freq) / rate);
  const w = (2 * Math.PI * k) / n;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[i]!;
    energy += x * x;
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  if (energy === 0) return 0;
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  // |X(k)|^2 of a full-scale sine is (n/2)^2 * a^2, and its energy n * a^2 / 2: ratio n / 2
  return power / ((energy * n) / 2);
}

/**
 * The frequency among `candidates` with the most power in `samples` and its share (see
 * {@link detectTone}), or `null` when no candidate holds at least `minShare` of the power.
 */
export function dominantFrequency(
  samples: Float32Array,
  rate: number,
  candidates: readonly number[],
  minShare = 0.5,
): { freq: number; share: number } | null {
  let best: { freq: number; share: number } | null = null;
  for (const freq of candidates) {
    const share = detectTone(samples, rate, freq);
    if (share >= minShare && (best === null || share > best.share)) best = { freq, share };
  }
  return best;
}

/** Takes channel `channel` out of interleaved float samples. */
export function channelOf(interleaved: Float32Array, channels: number, channel = 0): Float32Array {
  const out = new Float32Array(Math.floor(interleaved.length / channels));
  for (let i = 0; i < out.length; i++) out[i] = interleaved[i * channels + channel]!;
  return out;
}
