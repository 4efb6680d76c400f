// Loudness normalisation of a whole piece of PCM: a gain to the target integrated loudness and, when
// that gain would push the true peak over the ceiling, a look-ahead true-peak limiter on the peaks
// only, repeated until the result measures at the target (±0.05 LU) under the ceiling.
import { fromFloat32, type PcmShape } from '@audex/pcm';
import { checkShape, toSamples } from './_shape.js';
import { truePeakEnvelope } from './_true-peak.js';
import { AnalysisError } from './errors.js';
import { type LoudnessSummary, measureLoudness } from './loudness.js';

/** Options of {@link normalizeLoudness}. */
export interface NormalizeOptions {
  /** Integrated loudness to reach, in LUFS, from -70 to 0. Default -23 (EBU R128); speech for listening is often -16 to -19. */
  targetLufs?: number;
  /** True-peak ceiling in dBTP, from -30 to 0. Default -1 (EBU R128). */
  truePeakDbtp?: number;
}

/** What {@link normalizeLoudness} did. */
export interface NormalizeResult<T extends Uint8Array | Float32Array> {
  /** The normalised PCM, same shape and type as the input. */
  readonly pcm: T;
  /** Gain applied before the limiter, in dB (0 for silence). */
  readonly gainDb: number;
  /** Largest gain reduction of the limiter, in dB (0 when it was not needed). */
  readonly limiterDb: number;
  /** Measurement of the input. */
  readonly before: LoudnessSummary;
  /** Measurement of the output. */
  readonly after: LoudnessSummary;
}

/** Attack (look-ahead) and release of the limiter. */
const ATTACK_MS = 5;
const RELEASE_MS = 80;
/** Most limiting the normaliser applies to reach the target; past it the result stays quieter than asked. */
const MAX_LIMITING_DB = 12;

function checkNumber(value: unknown, field: string, min: number, max: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new AnalysisError(
      'INVALID_OPTIONS',
      `${field} must be a number from ${min} to ${max} ${unit}, got ${String(value)}`,
      {
        field,
      },
    );
  }
  return value;
}

/**
 * Scales PCM to a target integrated loudness under a true-peak ceiling. Integer output is rounded
 * and clipped to its format (the ceiling keeps it from clipping). Silence is returned unchanged. The
 * limiter reduces peaks by at most 12 dB: a target that needs more stays unreached, and `after`
 * says how loud the result is.
 * @throws {AnalysisError} `INVALID_OPTIONS` for a bad shape or option; `INVALID_DATA` for PCM that is not whole frames.
 */
export function normalizeLoudness<T extends Uint8Array | Float32Array>(
  pcm: T,
  shape: PcmShape,
  options: NormalizeOptions = {},
): NormalizeResult<T> {
  const s = checkShape(shape);
  const target = checkNumber(options.targetLufs ?? -23, 'targetLufs', -70, 0, 'LUFS');
  const ceilingDb = checkNumber(options.truePeakDbtp ?? -1, 'truePeakDbtp', -30, 0, 'dBTP');
  const input = toSamples(pcm, s);
  const floatShape = { ...s, sampleFormat: 'float32' as const };
  const before = measureLoudness(input, floatShape);
  if (!Number.isFinite(before.integratedLufs)) {
    return { pcm, gainDb: 0, limiterDb: 0, before, after: before };
  }
  let gainDb = target - before.integratedLufs;
  let out = scale(input, 10 ** (gainDb / 20));
  let after = measureLoudness(out, floatShape);
  let limiterDb = 0;
  if (after.truePeakDbtp > ceilingDb) {
    // Limiting lowers the loudness a little; raise the gain by the shortfall and limit again.
    let inner = ceilingDb - 0.05;
    const maxGainDb = ceilingDb - before.truePeakDbtp + MAX_LIMITING_DB;
    gainDb = Math.min(gainDb, maxGainDb);
    for (let round = 0; round < 6; round++) {
      out = scale(input, 10 ** (gainDb / 20));
      limiterDb = limit(out, s.rate, s.channels, 10 ** (inner / 20));
      after = measureLoudness(out, floatShape);
      const short = target - after.integratedLufs;
      if (after.truePeakDbtp > ceilingDb) inner -= after.truePeakDbtp - ceilingDb + 0.02;
      else if (Math.abs(short) <= 0.05) break;
      else if (gainDb >= maxGainDb && short > 0) break;
      else gainDb = Math.min(maxGainDb, gainDb + short);
    }
  }
  const result = (pcm instanceof Float32Array ? out : fromFloat32(out, s.sampleFormat)) as T;
  if (!(pcm instanceof Float32Array)) after = measureLoudness(result, s);
  return { pcm: result, gainDb, limiterDb, before, after };
}

function scale(samples: Float32Array, gain: number): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! * gain;
  return out;
}

/**
 * Look-ahead limiter in place: the gain needed at each frame (ceiling over the true-peak envelope)
 * is min-held from `release` before to `attack` after, then averaged over ±attack, so the gain is
 * fully down at every peak and rises back smoothly. Returns the largest reduction in dB.
 */
function limit(samples: Float32Array, rate: number, channels: number, ceiling: number): number {
  const frames = samples.length / channels;
  const env = truePeakEnvelope(samples, rate, channels, ceiling);
  const attack = Math.max(1, Math.round((ATTACK_MS * rate) / 1000));
  const release = Math.max(attack, Math.round((RELEASE_MS * rate) / 1000));
  const need = new Float64Array(frames);
  let any = false;
  for (let n = 0; n < frames; n++) {
    const e = env[n]!;
    need[n] = e > ceiling ? ceiling / e : 1;
    if (need[n]! < 1) any = true;
  }
  if (!any) return 0;
  // Sliding minimum over [n - release, n + attack] (monotonic deque of indices).
  const held = new Float64Array(frames);
  const deque = new Int32Array(frames);
  let head = 0;
  let tail = 0;
  let next = 0;
  for (let n = 0; n < frames; n++) {
    for (; next <= Math.min(frames - 1, n + attack); next++) {
      while (tail > head && need[deque[tail - 1]!]! >= need[next]!) tail--;
      deque[tail++] = next;
    }
    while (deque[head]! < n - release) head++;
    held[n] = need[deque[head]!]!;
  }
  // Moving average over [n - attack, n + attack], edges padded with the edge value.
  let sum = 0;
  const width = 2 * attack + 1;
  const at = (i: number) => held[Math.min(frames - 1, Math.max(0, i))]!;
  for (let i = -attack; i <= attack; i++) sum += at(i);
  let deepest = 1;
  for (let n = 0; n < frames; n++) {
    const g = sum / width;
    if (g < deepest) deepest = g;
    for (let c = 0, o = n * channels; c < channels; c++) samples[o + c] = samples[o + c]! * g;
    sum += at(n + attack + 1) - at(n - attack);
  }
  return -20 * Math.log10(deepest);
}
