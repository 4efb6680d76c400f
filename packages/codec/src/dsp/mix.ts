/**
 * Owns channel mixing: default matrices (ITU-R BS.775 for 5.1 → stereo) and applying a matrix.
 */
import { channelsProblem } from '@audex/pcm';
import { CodecError } from '../errors.js';

/**
 * A mixing matrix: `matrix[out][in]` is the gain from input channel `in` to output channel
 * `out`. It has `toChannels` rows of `fromChannels` gains each.
 */
export type MixMatrix = readonly (readonly number[])[];

const SQRT1_2 = Math.SQRT1_2;

/**
 * The matrix {@link mixChannels} uses when none is given. Channel order follows WAVE/SMPTE
 * (L, R, C, LFE, Ls, Rs for 5.1).
 * - same count: identity;
 * - mono → N: the mono signal copied to every output;
 * - N → mono: the average of all inputs (never clips);
 * - 5.1 → stereo: ITU-R BS.775 (L + 0.707·C + 0.707·Ls, likewise right, LFE dropped), scaled so
 *   a full-scale input cannot clip (each row sums to 1);
 * - other downmixes: input `i` goes to output `i mod M`, each output averaging what it gets;
 * - other upmixes: input `i` to output `i`, the extra outputs silent.
 * @throws {CodecError} `INVALID_OPTIONS` for a channel count outside 1..255.
 */
export function defaultMixMatrix(fromChannels: number, toChannels: number): number[][] {
  checkChannels('fromChannels', fromChannels);
  checkChannels('toChannels', toChannels);
  const rows = Array.from({ length: toChannels }, () => new Array<number>(fromChannels).fill(0));
  if (fromChannels === toChannels) {
    for (let i = 0; i < toChannels; i++) rows[i]![i] = 1;
  } else if (fromChannels === 1) {
    for (const row of rows) row[0] = 1;
  } else if (toChannels === 1) {
    rows[0]!.fill(1 / fromChannels);
  } else if (fromChannels === 6 && toChannels === 2) {
    const norm = 1 / (1 + SQRT1_2 + SQRT1_2);
    rows[0] = [norm, 0, SQRT1_2 * norm, 0, SQRT1_2 * norm, 0];
    rows[1] = [0, norm, SQRT1_2 * norm, 0, 0, SQRT1_2 * norm];
  } else if (fromChannels > toChannels) {
    const counts = new Array<number>(toChannels).fill(0);
    for (let i = 0; i < fromChannels; i++) counts[i % toChannels]!++;
    for (let i = 0; i < fromChannels; i++) rows[i % toChannels]![i] = 1 / counts[i % toChannels]!;
  } else {
    for (let i = 0; i < fromChannels; i++) rows[i]![i] = 1;
  }
  return rows;
}

function checkChannels(name: string, value: number): void {
  const problem = channelsProblem(value, name);
  if (problem) throw new CodecError('INVALID_OPTIONS', problem);
}

/**
 * Remixes interleaved float samples from `fromChannels` to `toChannels` channels.
 * @param matrix gains, `matrix[out][in]`; default {@link defaultMixMatrix}.
 * @returns a new array of `frames × toChannels` samples (a copy even when nothing changes).
 * @throws {CodecError} `INVALID_OPTIONS` for a bad channel count, a partial frame, or a matrix
 * that is not `toChannels × fromChannels` finite numbers.
 */
export function mixChannels(
  samples: Float32Array,
  fromChannels: number,
  toChannels: number,
  matrix?: MixMatrix,
): Float32Array {
  checkChannels('fromChannels', fromChannels);
  checkChannels('toChannels', toChannels);
  if (samples.length % fromChannels !== 0) {
    throw new CodecError(
      'INVALID_OPTIONS',
      `${samples.length} samples is not a whole number of ${fromChannels}-channel frames`,
    );
  }
  const frames = samples.length / fromChannels;
  if (matrix) checkMatrix(matrix, fromChannels, toChannels);
  else if (fromChannels === toChannels) return samples.slice();
  const out = new Float32Array(frames * toChannels);
  if (!matrix && fromChannels === 1) {
    for (let f = 0, o = 0; f < frames; f++) {
      const v = samples[f]!;
      for (let c = 0; c < toChannels; c++) out[o++] = v;
    }
    return out;
  }
  if (!matrix && fromChannels === 2 && toChannels === 1) {
    for (let f = 0; f < frames; f++) out[f] = (samples[2 * f]! + samples[2 * f + 1]!) * 0.5;
    return out;
  }
  const m = matrix ?? defaultMixMatrix(fromChannels, toChannels);
  // Flatten to one typed array so the inner loop does no property lookups.
  const gains = new Float64Array(toChannels * fromChannels);
  for (let o = 0; o < toChannels; o++)
    for (let i = 0; i < fromChannels; i++) gains[o * fromChannels + i] = m[o]![i]!;
  for (let f = 0; f < frames; f++) {
    const inBase = f * fromChannels;
    const outBase = f * toChannels;
    for (let o = 0; o < toChannels; o++) {
      let acc = 0;
      const g = o * fromChannels;
      for (let i = 0; i < fromChannels; i++) acc += samples[inBase + i]! * gains[g + i]!;
      out[outBase + o] = acc;
    }
  }
  return out;
}

function checkMatrix(matrix: MixMatrix, fromChannels: number, toChannels: number): void {
  const ok =
    matrix.length === toChannels &&
    matrix.every((row) => row.length === fromChannels && row.every((g) => Number.isFinite(g)));
  if (!ok) {
    throw new CodecError(
      'INVALID_OPTIONS',
      `a mix matrix from ${fromChannels} to ${toChannels} channels must be ${toChannels} rows of ${fromChannels} finite gains`,
    );
  }
}
