// EBU R128 / ITU-R BS.1770-4 loudness, streaming: K-weighting, 100 ms steps, momentary (400 ms) and
// short-term (3 s) loudness, gated integrated loudness, loudness range (EBU Tech 3342) and true peak.
// Memory is constant whatever the length (see _gating.ts).
import type { PcmShape } from '@audex/pcm';
import { GatingHistogram, powerToLufs } from './_gating.js';
import { checkShape, toSamples } from './_shape.js';
import { TruePeakMeter } from './_true-peak.js';
import { AnalysisError } from './errors.js';

/** Options of {@link createLoudnessMeter} and {@link measureLoudness}. */
export interface LoudnessOptions {
  /**
   * Weight of each channel in the sum (BS.1770 G_i). Default by channel count, channels in WAVE
   * order: 1.41 for the surround channels (Ls/Rs of 4.0, 5.0 and 5.1, the back and side pairs of
   * 6.1 and 7.1), 0 for LFE (fourth channel of 5.1, 6.1, 7.1), 1 otherwise.
   */
  channelWeights?: readonly number[];
  /** Measure the true peak (over-sampled to ≥ 192 kHz). Default true; off saves the interpolation. */
  truePeak?: boolean;
}

/** Summary of a measurement; loudness of pure silence is `-Infinity`. */
export interface LoudnessSummary {
  /** Integrated (gated) loudness in LUFS. */
  readonly integratedLufs: number;
  /** Loudness range in LU (0 when under 3 s or silent). */
  readonly loudnessRangeLu: number;
  /** Largest true peak over all channels in dBTP; `-Infinity` for silence, `NaN` when not measured. */
  readonly truePeakDbtp: number;
  /** Largest sample peak over all channels in dBFS. */
  readonly samplePeakDbfs: number;
  /** Length measured, in ms. */
  readonly durationMs: number;
}

/** A streaming loudness meter; create it with {@link createLoudnessMeter}. */
export interface LoudnessMeter {
  /** The PCM shape it measures. */
  readonly shape: PcmShape;
  /**
   * Adds PCM: bytes in `shape.sampleFormat`, or a `Float32Array` of interleaved float samples.
   * @throws {AnalysisError} `INVALID_DATA` unless it holds whole frames.
   */
  write(pcm: Uint8Array | Float32Array): void;
  /** Loudness of the last 400 ms in LUFS, updated every 100 ms; `-Infinity` before 400 ms. */
  readonly momentaryLufs: number;
  /** Loudness of the last 3 s in LUFS, updated every 100 ms; `-Infinity` before 3 s. */
  readonly shortTermLufs: number;
  /** Integrated loudness so far in LUFS. */
  readonly integratedLufs: number;
  /** Loudness range so far in LU. */
  readonly loudnessRangeLu: number;
  /** True peak so far in dBTP (`NaN` when `truePeak: false`). */
  readonly truePeakDbtp: number;
  /** Sample peak so far in dBFS. */
  readonly samplePeakDbfs: number;
  /** Frames written so far. */
  readonly frames: number;
  /** Everything so far, as one object. */
  summary(): LoudnessSummary;
}

/** The default BS.1770 channel weights for a channel count (WAVE channel order). */
export function defaultChannelWeights(channels: number): number[] {
  const s = 1.41;
  switch (channels) {
    case 4:
      return [1, 1, s, s];
    case 5:
      return [1, 1, 1, s, s];
    case 6:
      return [1, 1, 1, 0, s, s];
    case 7:
      return [1, 1, 1, 0, s, s, s];
    case 8:
      return [1, 1, 1, 0, s, s, s, s];
    default:
      return new Array<number>(channels).fill(1);
  }
}

/** Coefficients of the two K-weighting biquads at a sample rate (BS.1770-4 stage 1 and 2, as libebur128 derives them). */
function kWeighting(rate: number): { b: number[]; a: number[] }[] {
  let f0 = 1681.974450955533;
  const gainDb = 3.999843853973347;
  let q = 0.7071752369554196;
  let k = Math.tan((Math.PI * f0) / rate);
  const vh = 10 ** (gainDb / 20);
  const vb = vh ** 0.4996667741545416;
  let a0 = 1 + k / q + k * k;
  const shelf = {
    b: [(vh + (vb * k) / q + k * k) / a0, (2 * (k * k - vh)) / a0, (vh - (vb * k) / q + k * k) / a0],
    a: [1, (2 * (k * k - 1)) / a0, (1 - k / q + k * k) / a0],
  };
  f0 = 38.13547087602444;
  q = 0.5003270373238773;
  k = Math.tan((Math.PI * f0) / rate);
  a0 = 1 + k / q + k * k;
  const highPass = { b: [1, -2, 1], a: [1, (2 * (k * k - 1)) / a0, (1 - k / q + k * k) / a0] };
  return [shelf, highPass];
}

const STEPS_MOMENTARY = 4;
const STEPS_SHORT_TERM = 30;

class Meter implements LoudnessMeter {
  readonly shape: PcmShape;
  readonly #weights: Float64Array;
  readonly #coef: Float64Array;
  /** Per channel: x1, x2, y1, y2 of the shelf, y1, y2 of the high-pass. */
  readonly #state: Float64Array;
  readonly #sumSquares: Float64Array;
  readonly #peaks: Float64Array;
  readonly #truePeak: TruePeakMeter | undefined;
  readonly #integrated = new GatingHistogram();
  readonly #range = new GatingHistogram();
  /** Ring of the last 30 steps: channel-weighted energy and frames. */
  readonly #stepEnergy = new Float64Array(STEPS_SHORT_TERM);
  readonly #stepFrames = new Float64Array(STEPS_SHORT_TERM);
  #steps = 0;
  #frames = 0;
  #stepEnd: number;
  #momentary = Number.NEGATIVE_INFINITY;
  #shortTerm = Number.NEGATIVE_INFINITY;

  constructor(shape: PcmShape, options: LoudnessOptions) {
    this.shape = shape;
    const weights = options.channelWeights ?? defaultChannelWeights(shape.channels);
    if (
      !Array.isArray(weights) ||
      weights.length !== shape.channels ||
      weights.some((w) => typeof w !== 'number' || !Number.isFinite(w) || w < 0)
    ) {
      throw new AnalysisError(
        'INVALID_OPTIONS',
        `channelWeights must be ${shape.channels} finite numbers ≥ 0 (one per channel), got ${JSON.stringify(weights)}`,
        { field: 'channelWeights' },
      );
    }
    if (options.truePeak !== undefined && typeof options.truePeak !== 'boolean') {
      throw new AnalysisError(
        'INVALID_OPTIONS',
        `truePeak must be a boolean, got ${String(options.truePeak)}`,
        {
          field: 'truePeak',
        },
      );
    }
    this.#weights = Float64Array.from(weights);
    const [shelf, highPass] = kWeighting(shape.rate);
    this.#coef = Float64Array.from([...shelf!.b, ...shelf!.a.slice(1), ...highPass!.a.slice(1)]);
    this.#state = new Float64Array(shape.channels * 6);
    this.#sumSquares = new Float64Array(shape.channels);
    this.#peaks = new Float64Array(shape.channels);
    this.#truePeak = options.truePeak === false ? undefined : new TruePeakMeter(shape.rate, shape.channels);
    this.#stepEnd = this.#boundary(1);
  }

  /** Frame index where step `n` ends (fractional rates round, so steps average exactly 100 ms). */
  #boundary(n: number): number {
    return Math.round((n * this.shape.rate) / 10);
  }

  get frames(): number {
    return this.#frames;
  }
  get momentaryLufs(): number {
    return this.#momentary;
  }
  get shortTermLufs(): number {
    return this.#shortTerm;
  }
  get integratedLufs(): number {
    return this.#integrated.integrated();
  }
  get loudnessRangeLu(): number {
    return this.#range.range();
  }
  get truePeakDbtp(): number {
    return this.#truePeak ? toDb(this.#truePeak.peak) : Number.NaN;
  }
  get samplePeakDbfs(): number {
    let m = 0;
    for (const p of this.#peaks) m = Math.max(m, p);
    return toDb(m);
  }

  summary(): LoudnessSummary {
    return {
      integratedLufs: this.integratedLufs,
      loudnessRangeLu: this.loudnessRangeLu,
      truePeakDbtp: this.truePeakDbtp,
      samplePeakDbfs: this.samplePeakDbfs,
      durationMs: (this.#frames * 1000) / this.shape.rate,
    };
  }

  write(pcm: Uint8Array | Float32Array): void {
    const samples = toSamples(pcm, this.shape);
    const ch = this.shape.channels;
    const frames = samples.length / ch;
    this.#truePeak?.write(samples);
    let done = 0;
    while (done < frames) {
      const take = Math.min(frames - done, this.#stepEnd - this.#frames);
      this.#filter(samples, done, take);
      done += take;
      this.#frames += take;
      if (this.#frames === this.#stepEnd) this.#closeStep();
    }
  }

  /** K-weights frames [from, from + count) of every channel, adding their squares to the step. */
  #filter(samples: Float32Array, from: number, count: number): void {
    const ch = this.shape.channels;
    const c = this.#coef;
    const b0 = c[0]!;
    const b1 = c[1]!;
    const b2 = c[2]!;
    const a1 = c[3]!;
    const a2 = c[4]!;
    const h1 = c[5]!;
    const h2 = c[6]!;
    const st = this.#state;
    for (let k = 0; k < ch; k++) {
      let peak = this.#peaks[k]!;
      if (this.#weights[k] === 0) {
        for (let i = from * ch + k, n = 0; n < count; n++, i += ch) {
          const x = samples[i]!;
          const a = x < 0 ? -x : x;
          if (a > peak) peak = a;
        }
        this.#peaks[k] = peak;
        continue;
      }
      const o = k * 6;
      let x1 = st[o]!;
      let x2 = st[o + 1]!;
      let y1 = st[o + 2]!;
      let y2 = st[o + 3]!;
      let z1 = st[o + 4]!;
      let z2 = st[o + 5]!;
      let sum = 0;
      for (let i = from * ch + k, n = 0; n < count; n++, i += ch) {
        const x = samples[i]!;
        const a = x < 0 ? -x : x;
        if (a > peak) peak = a;
        const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
        x2 = x1;
        x1 = x;
        // High-pass numerator is 1, -2, 1.
        const z = y - 2 * y1 + y2 - h1 * z1 - h2 * z2;
        y2 = y1;
        y1 = y;
        z2 = z1;
        z1 = z;
        sum += z * z;
      }
      st[o] = x1;
      st[o + 1] = x2;
      st[o + 2] = y1;
      st[o + 3] = y2;
      // Denormals would slow the filter to a crawl on long silences.
      st[o + 4] = Math.abs(z1) < 1e-30 ? 0 : z1;
      st[o + 5] = Math.abs(z2) < 1e-30 ? 0 : z2;
      this.#sumSquares[k]! += sum;
      this.#peaks[k] = peak;
    }
  }

  #closeStep(): void {
    let energy = 0;
    for (let k = 0; k < this.shape.channels; k++) {
      energy += this.#weights[k]! * this.#sumSquares[k]!;
      this.#sumSquares[k] = 0;
    }
    const slot = this.#steps % STEPS_SHORT_TERM;
    this.#stepEnergy[slot] = energy;
    this.#stepFrames[slot] = this.#stepEnd - this.#boundary(this.#steps);
    this.#steps += 1;
    this.#stepEnd = this.#boundary(this.#steps + 1);
    if (this.#steps >= STEPS_MOMENTARY) {
      const power = this.#window(STEPS_MOMENTARY);
      this.#momentary = powerToLufs(power);
      this.#integrated.add(power);
    }
    if (this.#steps >= STEPS_SHORT_TERM) {
      const power = this.#window(STEPS_SHORT_TERM);
      this.#shortTerm = powerToLufs(power);
      this.#range.add(power);
    }
  }

  /** Mean weighted power over the last `steps` steps. */
  #window(steps: number): number {
    let e = 0;
    let f = 0;
    for (let s = this.#steps - steps; s < this.#steps; s++) {
      const slot = s % STEPS_SHORT_TERM;
      e += this.#stepEnergy[slot]!;
      f += this.#stepFrames[slot]!;
    }
    return e / f;
  }
}

function toDb(linear: number): number {
  return linear > 0 ? 20 * Math.log10(linear) : Number.NEGATIVE_INFINITY;
}

/**
 * A streaming EBU R128 meter for PCM of any rate, channel count and sample format.
 * @throws {AnalysisError} `INVALID_OPTIONS` for a bad shape or option, naming it.
 */
export function createLoudnessMeter(shape: PcmShape, options: LoudnessOptions = {}): LoudnessMeter {
  return new Meter(checkShape(shape), options ?? {});
}

/** Measures a whole piece of PCM at once: {@link createLoudnessMeter}, one write, the summary. */
export function measureLoudness(
  pcm: Uint8Array | Float32Array,
  shape: PcmShape,
  options: LoudnessOptions = {},
): LoudnessSummary {
  const meter = createLoudnessMeter(shape, options);
  meter.write(pcm);
  return meter.summary();
}
