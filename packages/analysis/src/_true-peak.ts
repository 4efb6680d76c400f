// The true-peak meter of ITU-R BS.1770-4 Annex 2: the signal is over-sampled to at least 192 kHz
// (×4 at 48 kHz, ×12 at 16 kHz, ×5 at 44.1 kHz) by a polyphase windowed-sinc interpolator and the
// largest absolute value kept, per channel.

/** Taps per phase, cutoff (fraction of the input Nyquist) and Kaiser β of the interpolator. */
const TAPS = 32;
const CUTOFF = 1;
const KAISER_BETA = 9;
/** Rate the signal is over-sampled to, at least. */
const TARGET_RATE = 192_000;

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Over-sampling factor for a sample rate: the smallest integer reaching 192 kHz. */
export function oversamplingFactor(rate: number): number {
  return Math.max(1, Math.ceil(TARGET_RATE / rate));
}

/**
 * Tracks the true peak of interleaved float samples. To stay cheap on long recordings it
 * interpolates only where a peak above the current maximum is possible: a stretch whose sample
 * peak times the filter's worst-case gain stays under the running true peak is skipped (exact: no
 * interpolated value there can exceed it).
 */
export class TruePeakMeter {
  readonly #channels: number;
  readonly #factor: number;
  /** Phase `p`, tap `i` at `p * TAPS + i`: weight of span sample `n + i` for output `n + p / factor` (minus the filter delay). */
  readonly #coef: Float64Array;
  /** Per tap, the largest |weight| over the phases: Σ hMax·|x| bounds every phase's output. */
  readonly #hMax: Float64Array;
  /** Largest Σ|h| over the phases: no output exceeds it times the input's peak. */
  readonly #gain: number;
  /** Per channel, the last TAPS - 1 samples of the previous write (history of the filter). */
  readonly #history: Float64Array[];
  readonly #peaks: Float64Array;
  #span = new Float64Array(0);
  #abs = new Float64Array(0);

  constructor(rate: number, channels: number) {
    this.#channels = channels;
    this.#factor = oversamplingFactor(rate);
    this.#peaks = new Float64Array(channels);
    this.#history = Array.from({ length: channels }, () => new Float64Array(TAPS - 1));
    const f = this.#factor;
    const center = TAPS / 2 - 1;
    this.#coef = new Float64Array(f * TAPS);
    this.#hMax = new Float64Array(TAPS);
    const i0beta = besselI0(KAISER_BETA);
    let gain = 0;
    for (let p = 0; p < f; p++) {
      const h = new Float64Array(TAPS);
      let norm = 0;
      for (let i = 0; i < TAPS; i++) {
        const t = i - center - p / f;
        const x = Math.PI * t * CUTOFF;
        const w = (2 * t) / TAPS;
        const win = besselI0(KAISER_BETA * Math.sqrt(Math.max(1 - w * w, 0))) / i0beta;
        h[i] = (x === 0 ? 1 : Math.sin(x) / x) * win;
        norm += h[i]!;
      }
      let abs = 0;
      // Reversed so the inner loop runs forward over the input.
      for (let i = 0; i < TAPS; i++) {
        const v = h[TAPS - 1 - i]! / norm;
        this.#coef[p * TAPS + i] = v;
        abs += Math.abs(v);
        this.#hMax[i] = Math.max(this.#hMax[i]!, Math.abs(v));
      }
      gain = Math.max(gain, abs);
    }
    this.#gain = gain;
  }

  /** Largest true peak so far over all channels, linear (1 = full scale). */
  get peak(): number {
    let m = 0;
    for (const p of this.#peaks) m = Math.max(m, p);
    return m;
  }

  /** See {@link truePeakEnvelope}; uses a fresh meter (no history). */
  envelope(samples: Float32Array, floor: number): Float64Array {
    const ch = this.#channels;
    const frames = samples.length / ch;
    const out = new Float64Array(frames);
    const hist = TAPS - 1;
    // Outputs computed at span position n lie between frames n - TAPS/2 and n - TAPS/2 + 1.
    const delay = TAPS / 2;
    const span = new Float64Array(hist + frames + hist);
    const abs = new Float64Array(span.length);
    const f = this.#factor;
    for (let c = 0; c < ch; c++) {
      span.fill(0);
      for (let i = 0, j = c; i < frames; i++, j += ch) {
        span[hist + i] = samples[j]!;
        abs[hist + i] = Math.abs(samples[j]!);
      }
      for (let n = 0; n < frames + delay; n++) {
        const frame = n - delay;
        let bound = 0;
        for (let i = 0; i < TAPS; i++) bound += this.#hMax[i]! * abs[n + i]!;
        let value = bound;
        if (bound > floor) {
          value = 0;
          for (let p = 0, o = 0; p < f; p++, o += TAPS) {
            let acc = 0;
            for (let i = 0; i < TAPS; i++) acc += this.#coef[o + i]! * span[n + i]!;
            const a = acc < 0 ? -acc : acc;
            if (a > value) value = a;
          }
        }
        if (frame >= 0 && frame < frames && value > out[frame]!) out[frame] = value;
        if (frame + 1 >= 0 && frame + 1 < frames && value > out[frame + 1]!) out[frame + 1] = value;
      }
    }
    return out;
  }

  /** Adds interleaved samples (whole frames). */
  write(samples: Float32Array): void {
    const ch = this.#channels;
    const frames = samples.length / ch;
    if (frames === 0) return;
    const hist = TAPS - 1;
    if (this.#span.length < hist + frames) {
      this.#span = new Float64Array(hist + frames);
      this.#abs = new Float64Array(hist + frames);
    }
    const span = this.#span;
    const abs = this.#abs;
    for (let c = 0; c < ch; c++) {
      const history = this.#history[c]!;
      span.set(history, 0);
      let top = 0;
      for (let i = 0; i < hist; i++) {
        const a = Math.abs(history[i]!);
        abs[i] = a;
        if (a > top) top = a;
      }
      for (let i = 0, j = c; i < frames; i++, j += ch) {
        const v = samples[j]!;
        span[hist + i] = v;
        const a = v < 0 ? -v : v;
        abs[hist + i] = a;
        if (a > top) top = a;
      }
      const peakSoFar = this.#peaks[c]!;
      if (top * this.#gain > peakSoFar) this.#peaks[c] = this.#scan(frames, peakSoFar);
      for (let i = 0; i < hist; i++) history[i] = span[frames + i]!;
    }
  }

  /**
   * Interpolates the span (history + new samples): blocks whose peak times the worst-case gain
   * cannot beat `peak` are skipped, then samples whose bound Σ hMax·|x| cannot.
   */
  #scan(frames: number, peak: number): number {
    const BLOCK = 256;
    const span = this.#span;
    const abs = this.#abs;
    const coef = this.#coef;
    const hMax = this.#hMax;
    const f = this.#factor;
    for (let start = 0; start < frames; start += BLOCK) {
      const end = Math.min(frames, start + BLOCK);
      let local = 0;
      for (let i = start; i < end + TAPS - 1; i++) if (abs[i]! > local) local = abs[i]!;
      if (local * this.#gain <= peak) continue;
      for (let n = start; n < end; n++) {
        let bound = 0;
        for (let i = 0; i < TAPS; i++) bound += hMax[i]! * abs[n + i]!;
        if (bound <= peak) continue;
        for (let p = 0, o = 0; p < f; p++, o += TAPS) {
          let acc = 0;
          for (let i = 0; i < TAPS; i++) acc += coef[o + i]! * span[n + i]!;
          const a = acc < 0 ? -acc : acc;
          if (a > peak) peak = a;
        }
      }
    }
    return peak;
  }
}

/**
 * Per frame, an upper bound of the true peak around it over all channels, exact where it matters:
 * frames whose cheap bound Σ hMax·|x| stays at or under `floor` get that bound, the others the
 * largest interpolated magnitude between the previous frame and this one (and the sample itself).
 * Used by the normaliser's limiter, which only needs to know where peaks exceed its ceiling.
 */
export function truePeakEnvelope(
  samples: Float32Array,
  rate: number,
  channels: number,
  floor: number,
): Float64Array {
  const meter = new TruePeakMeter(rate, channels);
  return meter.envelope(samples, floor);
}
