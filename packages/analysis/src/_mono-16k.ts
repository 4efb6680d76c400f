// Prepares PCM for the voice model: mixes interleaved float samples to mono (the mean of the
// channels) and resamples to 16 kHz with the Speex resampler (SpeexDSP compiled to WASM, quality 6:
// band-limited, about 1 ms of delay, which `skip_zeros` removes so output sample n is input time n/16000 s).
/// <reference path="./_speex-resampler-wasm.d.ts" />

/** The rate the voice model runs at. */
export const MODEL_RATE = 16_000;
const QUALITY = 6;
/** Largest input handed to the WASM resampler at once, in frames (the rest is fed in pieces). */
const BLOCK = 16_384;

interface SpeexModule {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _speex_resampler_init(
    channels: number,
    inRate: number,
    outRate: number,
    quality: number,
    errPtr: number,
  ): number;
  _speex_resampler_process_float(
    state: number,
    channel: number,
    inPtr: number,
    inLenPtr: number,
    outPtr: number,
    outLenPtr: number,
  ): number;
  _speex_resampler_skip_zeros(state: number): number;
  _speex_resampler_get_input_latency(state: number): number;
  _speex_resampler_destroy(state: number): void;
  HEAPF32: Float32Array;
  HEAPU32: Uint32Array;
  HEAP32: Int32Array;
}

let speex: Promise<SpeexModule> | undefined;

function loadSpeex(): Promise<SpeexModule> {
  speex ??= import('@echogarden/speex-resampler-wasm/simd').then(
    async (m) => (await m.default()) as SpeexModule,
  );
  return speex;
}

/** Streaming mono 16 kHz converter. */
export class Mono16k {
  readonly #rate: number;
  readonly #channels: number;
  readonly #speex: SpeexModule | undefined;
  #state = 0;
  #inPtr = 0;
  #outPtr = 0;
  #lenPtr = 0;
  #outCapacity = 0;

  private constructor(rate: number, channels: number, module: SpeexModule | undefined) {
    this.#rate = rate;
    this.#channels = channels;
    this.#speex = module;
    if (module) {
      const err = module._malloc(4);
      this.#state = module._speex_resampler_init(1, rate, MODEL_RATE, QUALITY, err);
      const code = module.HEAP32[err >> 2]!;
      module._free(err);
      if (!this.#state || code !== 0) throw new Error(`Speex resampler init failed (${code}) for ${rate} Hz`);
      module._speex_resampler_skip_zeros(this.#state);
      this.#outCapacity = Math.ceil((BLOCK * MODEL_RATE) / rate) + 64;
      this.#inPtr = module._malloc(BLOCK * 4);
      this.#outPtr = module._malloc(this.#outCapacity * 4);
      this.#lenPtr = module._malloc(8);
    }
  }

  /** A converter from `rate` Hz, `channels` channels; loads the resampler only when `rate` is not 16 kHz. */
  static async create(rate: number, channels: number): Promise<Mono16k> {
    return new Mono16k(rate, channels, rate === MODEL_RATE ? undefined : await loadSpeex());
  }

  /** Converts interleaved float frames; returns the 16 kHz mono samples ready so far. */
  push(samples: Float32Array): Float32Array {
    const ch = this.#channels;
    let mono: Float32Array;
    if (ch === 1) mono = samples;
    else {
      const frames = samples.length / ch;
      mono = new Float32Array(frames);
      const k = 1 / ch;
      for (let i = 0, j = 0; i < frames; i++) {
        let s = 0;
        for (let c = 0; c < ch; c++, j++) s += samples[j]!;
        mono[i] = s * k;
      }
    }
    return this.#speex ? this.#resample(mono) : mono;
  }

  /** Ends the stream: the resampler's look-ahead, fed with silence. */
  flush(): Float32Array {
    if (!this.#speex) return new Float32Array(0);
    const latency = this.#speex._speex_resampler_get_input_latency(this.#state);
    const out = this.#resample(new Float32Array(latency));
    return out;
  }

  #resample(mono: Float32Array): Float32Array {
    const m = this.#speex!;
    const pieces: Float32Array[] = [];
    let total = 0;
    for (let start = 0; start < mono.length; ) {
      const take = Math.min(BLOCK, mono.length - start);
      m.HEAPF32.set(mono.subarray(start, start + take), this.#inPtr >> 2);
      m.HEAPU32[this.#lenPtr >> 2] = take;
      m.HEAPU32[(this.#lenPtr >> 2) + 1] = this.#outCapacity;
      m._speex_resampler_process_float(
        this.#state,
        0,
        this.#inPtr,
        this.#lenPtr,
        this.#outPtr,
        this.#lenPtr + 4,
      );
      const used = m.HEAPU32[this.#lenPtr >> 2]!;
      const made = m.HEAPU32[(this.#lenPtr >> 2) + 1]!;
      pieces.push(m.HEAPF32.slice(this.#outPtr >> 2, (this.#outPtr >> 2) + made));
      total += made;
      start += used;
      if (used === 0 && made === 0) break;
    }
    if (pieces.length === 1) return pieces[0]!;
    const out = new Float32Array(total);
    let o = 0;
    for (const p of pieces) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** Frees the WASM resampler state. */
  release(): void {
    const m = this.#speex;
    if (!m || !this.#state) return;
    m._speex_resampler_destroy(this.#state);
    m._free(this.#inPtr);
    m._free(this.#outPtr);
    m._free(this.#lenPtr);
    this.#state = 0;
  }

  /** Input rate in Hz. */
  get rate(): number {
    return this.#rate;
  }
}
