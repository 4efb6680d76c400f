/**
 * Owns rate conversion: the polyphase Kaiser-windowed sinc resampler (streaming and one-shot) and
 * its filter cache.
 */
import { channelsProblem, rateProblem } from '@audex/pcm';
import { CodecError } from '../errors.js';

/**
 * Quality presets of the resampler, trading filter length (speed) for stopband rejection.
 * Figures are for the anti-alias/anti-image filter: passband edge as a fraction of the lower
 * Nyquist frequency, stopband rejection in dB.
 * - `'low'`: 0.80 passband, 80 dB.
 * - `'medium'`: 0.85 passband, 100 dB.
 * - `'high'` (default): 0.88 passband, 135 dB.
 * - `'best'`: 0.92 passband, 160 dB (about twice the cost of `'high'`).
 */
export type ResamplerQuality = 'low' | 'medium' | 'high' | 'best';

/** Options of {@link createResampler}. */
export interface ResamplerOptions {
  /** Input sample rate in Hz, a positive integer. */
  fromRate: number;
  /** Output sample rate in Hz, a positive integer. */
  toRate: number;
  /** Interleaved channels, a positive integer. */
  channels: number;
  /** Filter quality; default `'high'` (aliases and images at least 135 dB down). */
  quality?: ResamplerQuality;
}

/**
 * A streaming sample-rate converter for interleaved float samples. Output is aligned with the
 * input (the filter delay is compensated) and, once {@link Resampler.flush} has been called,
 * exactly `round(inputFrames × toRate / fromRate)` frames long in total.
 */
export interface Resampler {
  /** Input rate in Hz. */
  readonly fromRate: number;
  /** Output rate in Hz. */
  readonly toRate: number;
  /** Interleaved channels. */
  readonly channels: number;
  /**
   * Takes interleaved frames (length a multiple of `channels`) and returns the output frames
   * ready so far; holds back the filter's look-ahead (a few hundred input frames at most).
   * @throws {CodecError} `INVALID_OPTIONS` when the length is not a whole number of frames;
   * `ENCODER_ENDED` after `flush()`.
   */
  process(input: Float32Array): Float32Array;
  /**
   * Ends the stream: returns the remaining frames so that the total is exact. The resampler
   * cannot be used afterwards.
   */
  flush(): Float32Array;
}

interface Preset {
  /** Passband edge, fraction of the lower Nyquist frequency. */
  readonly pass: number;
  /** Stopband edge, fraction of the lower Nyquist frequency. Above 1 lets the top of the
   * transition band (which is attenuated anyway) fold back just under Nyquist, never into the passband. */
  readonly stop: number;
  /** Stopband rejection in dB. */
  readonly attenuation: number;
}

const PRESETS: Readonly<Record<ResamplerQuality, Preset>> = {
  low: { pass: 0.8, stop: 1.15, attenuation: 80 },
  medium: { pass: 0.85, stop: 1.12, attenuation: 100 },
  high: { pass: 0.88, stop: 1.12, attenuation: 135 },
  best: { pass: 0.92, stop: 1.06, attenuation: 160 },
};

/** Above this many phases the table holds `MAX_PHASES` and coefficients are interpolated. */
const MAX_PHASES = 1024;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** A designed polyphase filter, shared between resamplers with the same parameters. */
interface Filter {
  /** Taps per phase (even). */
  readonly taps: number;
  /** Half the taps: the look-ahead and history in input frames. */
  readonly half: number;
  /** Phases in the table (`up` when exact, else `MAX_PHASES`, plus one guard phase when interpolating). */
  readonly phases: number;
  readonly interpolate: boolean;
  /** `phases × taps` coefficients, phase-major. */
  readonly table: Float64Array;
}

const filterCache = new Map<string, Filter>();

function designFilter(up: number, down: number, preset: Preset): Filter {
  const key = `${up}/${down}/${preset.pass}/${preset.stop}/${preset.attenuation}`;
  const cached = filterCache.get(key);
  if (cached) return cached;
  // All frequencies in cycles per input sample; the lower Nyquist is 0.5 × min(1, up/down).
  const nyquist = 0.5 * Math.min(1, up / down);
  const pass = preset.pass * nyquist;
  const stop = preset.stop * nyquist;
  const cutoff = (pass + stop) / 2;
  const transition = stop - pass;
  const a = preset.attenuation;
  const beta = a > 50 ? 0.1102 * (a - 8.7) : 0.5842 * (a - 21) ** 0.4 + 0.07886 * (a - 21);
  // Kaiser's length estimate, in input samples.
  const length = (a - 7.95) / (2.285 * 2 * Math.PI * transition);
  const half = Math.max(2, 2 * Math.ceil(length / 4));
  const taps = 2 * half;
  const interpolate = up > MAX_PHASES;
  const phaseCount = interpolate ? MAX_PHASES : up;
  const rows = interpolate ? phaseCount + 1 : phaseCount;
  const table = new Float64Array(rows * taps);
  const i0beta = besselI0(beta);
  for (let p = 0; p < rows; p++) {
    const frac = p / phaseCount;
    for (let j = 0; j < taps; j++) {
      // Tap j multiplies input frame (i - half + 1 + j) for an output at time i + frac.
      const t = frac + half - 1 - j;
      const r = t / half;
      if (Math.abs(r) >= 1) continue;
      const x = 2 * cutoff * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      table[p * taps + j] = 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / i0beta);
    }
  }
  const filter: Filter = { taps, half, phases: phaseCount, interpolate, table };
  filterCache.set(key, filter);
  return filter;
}

function checkRate(name: string, value: number): void {
  const problem = rateProblem(value, name);
  if (problem) throw new CodecError('INVALID_OPTIONS', problem);
}

/**
 * Creates a streaming band-limited resampler: a polyphase Kaiser-windowed-sinc filter over the
 * exact rational ratio `toRate / fromRate` (integer phase arithmetic, so no drift over hours).
 * Equal rates pass samples through unchanged.
 * @throws {CodecError} `INVALID_OPTIONS` for a non-integer or non-positive rate or channel count,
 * or an unknown quality.
 */
export function createResampler(options: ResamplerOptions): Resampler {
  const { fromRate, toRate, channels } = options;
  const quality = options.quality ?? 'high';
  checkRate('fromRate', fromRate);
  checkRate('toRate', toRate);
  const channelProblem = channelsProblem(channels);
  if (channelProblem) throw new CodecError('INVALID_OPTIONS', channelProblem);
  const preset = PRESETS[quality];
  if (!preset) {
    throw new CodecError(
      'INVALID_OPTIONS',
      `unknown resampler quality ${JSON.stringify(quality)}; allowed: ${Object.keys(PRESETS).join(', ')}`,
    );
  }
  if (fromRate === toRate) return passThrough(fromRate, channels);
  const g = gcd(fromRate, toRate);
  return new PolyphaseResampler(
    fromRate,
    toRate,
    channels,
    toRate / g,
    fromRate / g,
    designFilter(toRate / g, fromRate / g, preset),
  );
}

function passThrough(rate: number, channels: number): Resampler {
  let ended = false;
  return {
    fromRate: rate,
    toRate: rate,
    channels,
    process(input) {
      if (ended) throw new CodecError('ENCODER_ENDED', 'resampler used after flush()');
      checkFrames(input, channels);
      return input.slice();
    },
    flush() {
      ended = true;
      return new Float32Array(0);
    },
  };
}

function checkFrames(input: Float32Array, channels: number): void {
  if (input.length % channels !== 0) {
    throw new CodecError(
      'INVALID_OPTIONS',
      `resampler input of ${input.length} samples is not a whole number of ${channels}-channel frames`,
    );
  }
}

class PolyphaseResampler implements Resampler {
  /** Per-channel input history: `buffers[c][k]` is input frame `base + k`. */
  #buffers: Float32Array[];
  #capacity: number;
  /** Frames held in `buffers`. */
  #held = 0;
  /** Absolute input frame index of `buffers[c][0]`. */
  #base: number;
  /** Input frames received. */
  #received = 0;
  /** Output frames produced. */
  #produced = 0;
  /** Position of the next output: input frame `pos + num / up`. */
  #pos = 0;
  #num = 0;
  #ended = false;
  readonly #stepWhole: number;
  readonly #stepNum: number;
  readonly #up: number;
  readonly #down: number;
  readonly #filter: Filter;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
    readonly channels: number,
    up: number,
    down: number,
    filter: Filter,
  ) {
    this.#up = up;
    this.#down = down;
    this.#filter = filter;
    this.#stepWhole = Math.floor(down / up);
    this.#stepNum = down % up;
    this.#capacity = filter.taps + 4096;
    this.#buffers = Array.from({ length: channels }, () => new Float32Array(this.#capacity));
    // History before the first frame is silence: the buffer starts `half - 1` zeros early.
    this.#base = -(filter.half - 1);
    this.#held = filter.half - 1;
  }

  process(input: Float32Array): Float32Array {
    if (this.#ended) throw new CodecError('ENCODER_ENDED', 'resampler used after flush()');
    checkFrames(input, this.channels);
    const frames = input.length / this.channels;
    this.#append(input, frames);
    this.#received += frames;
    // An output at pos needs input frames up to pos + half.
    return this.#run(this.#received, Number.POSITIVE_INFINITY);
  }

  flush(): Float32Array {
    if (this.#ended) throw new CodecError('ENCODER_ENDED', 'resampler used after flush()');
    this.#ended = true;
    const total = Math.round((this.#received * this.#up) / this.#down);
    // Pad with the silence the look-ahead needs past the end.
    const pad = this.#filter.half + 1;
    this.#append(new Float32Array(pad * this.channels), pad);
    return this.#run(this.#received + pad, total);
  }

  #append(input: Float32Array, frames: number): void {
    const channels = this.channels;
    if (this.#held + frames > this.#capacity) {
      // Drop frames no future output needs, then grow if still short.
      const keepFrom = this.#pos - this.#filter.half + 1 - this.#base;
      if (keepFrom > 0) {
        for (const b of this.#buffers) b.copyWithin(0, keepFrom, this.#held);
        this.#held -= keepFrom;
        this.#base += keepFrom;
      }
      if (this.#held + frames > this.#capacity) {
        this.#capacity = Math.max(this.#capacity * 2, this.#held + frames);
        this.#buffers = this.#buffers.map((b) => {
          const grown = new Float32Array(this.#capacity);
          grown.set(b.subarray(0, this.#held));
          return grown;
        });
      }
    }
    const held = this.#held;
    for (let c = 0; c < channels; c++) {
      const b = this.#buffers[c]!;
      for (let i = 0, k = c; i < frames; i++, k += channels) b[held + i] = input[k]!;
    }
    this.#held += frames;
  }

  /** Produces outputs while the input reaches `available` frames, up to `limit` outputs in total. */
  #run(available: number, limit: number): Float32Array {
    const { taps, half, table, interpolate, phases } = this.#filter;
    const channels = this.channels;
    const up = this.#up;
    // Output m is computable when pos(m) + half < available.
    let count = 0;
    {
      let pos = this.#pos;
      let num = this.#num;
      while (pos + half < available && this.#produced + count < limit) {
        count++;
        pos += this.#stepWhole;
        num += this.#stepNum;
        if (num >= up) {
          num -= up;
          pos++;
        }
      }
    }
    const out = new Float32Array(count * channels);
    let pos = this.#pos;
    let num = this.#num;
    const base = this.#base;
    for (let m = 0; m < count; m++) {
      const start = pos - half + 1 - base;
      if (!interpolate && channels === 2) {
        // Stereo in one pass: each coefficient is loaded once for both channels.
        const offset = num * taps;
        const b0 = this.#buffers[0]!;
        const b1 = this.#buffers[1]!;
        let l0 = 0;
        let l1 = 0;
        let r0 = 0;
        let r1 = 0;
        for (let j = 0, k = start, o = offset; j < taps; j += 2, k += 2, o += 2) {
          const h0 = table[o]!;
          const h1 = table[o + 1]!;
          l0 += b0[k]! * h0;
          r0 += b1[k]! * h0;
          l1 += b0[k + 1]! * h1;
          r1 += b1[k + 1]! * h1;
        }
        out[2 * m] = l0 + l1;
        out[2 * m + 1] = r0 + r1;
      } else if (!interpolate) {
        const offset = num * taps;
        for (let c = 0; c < channels; c++) {
          const b = this.#buffers[c]!;
          // Four accumulators break the add dependency chain (taps is a multiple of 4).
          let acc0 = 0;
          let acc1 = 0;
          let acc2 = 0;
          let acc3 = 0;
          for (let j = 0, k = start, o = offset; j < taps; j += 4, k += 4, o += 4) {
            acc0 += b[k]! * table[o]!;
            acc1 += b[k + 1]! * table[o + 1]!;
            acc2 += b[k + 2]! * table[o + 2]!;
            acc3 += b[k + 3]! * table[o + 3]!;
          }
          out[m * channels + c] = acc0 + acc1 + (acc2 + acc3);
        }
      } else {
        const exact = (num * phases) / up;
        const p = Math.floor(exact);
        const w = exact - p;
        const o0 = p * taps;
        const o1 = o0 + taps;
        for (let c = 0; c < channels; c++) {
          const b = this.#buffers[c]!;
          let acc0 = 0;
          let acc1 = 0;
          for (let j = 0; j < taps; j++) {
            const x = b[start + j]!;
            acc0 += x * table[o0 + j]!;
            acc1 += x * table[o1 + j]!;
          }
          out[m * channels + c] = acc0 + (acc1 - acc0) * w;
        }
      }
      pos += this.#stepWhole;
      num += this.#stepNum;
      if (num >= up) {
        num -= up;
        pos++;
      }
    }
    this.#pos = pos;
    this.#num = num;
    this.#produced += count;
    return out;
  }
}

/**
 * Resamples a whole interleaved signal in one go (see {@link createResampler}); the output is
 * exactly `round(frames × toRate / fromRate)` frames, aligned with the input.
 * @throws {CodecError} `INVALID_OPTIONS` for bad rates, channels or a partial frame.
 */
export function resample(
  samples: Float32Array,
  fromRate: number,
  toRate: number,
  channels: number,
  quality?: ResamplerQuality,
): Float32Array {
  const r = createResampler({ fromRate, toRate, channels, ...(quality ? { quality } : {}) });
  const a = r.process(samples);
  const b = r.flush();
  if (b.length === 0) return a;
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
