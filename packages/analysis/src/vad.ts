// The streaming voice activity detector: PCM of any shape in, speech regions and live
// speechStart/speechEnd events out, around a voice model given by the caller (the VoiceModel
// interface: 16 kHz windows in, speech probabilities out; Silero VAD is @audex/vad-silero, kept
// out of this package for its 159 MB runtime). Mono 16 kHz preparation in _mono-16k.ts, the region
// logic in _speech-regions.ts.
import type { PcmShape } from '@audex/pcm';
import { MODEL_RATE, Mono16k } from './_mono-16k.js';
import { checkShape, toSamples } from './_shape.js';
import { RegionTracker, type SpeechEvent, type SpeechRegion } from './_speech-regions.js';
import { AnalysisError } from './errors.js';

export type { SpeechEvent, SpeechRegion };

/** The rate a {@link VoiceModel} is fed: mono, 16 kHz. */
export const VOICE_MODEL_RATE = MODEL_RATE;

/** Largest window a {@link VoiceModel} may ask for, in samples (2 s at 16 kHz). */
const MAX_WINDOW_SAMPLES = 32_000;

/**
 * A voice activity model: scores consecutive windows of mono 16 kHz audio with a speech
 * probability. `@audex/vad-silero`'s `createSileroModel()` is one; any object of this shape works.
 */
export interface VoiceModel {
  /** Its name, for messages (e.g. `'silero-v5'`). */
  readonly name: string;
  /** Samples per window, at 16 kHz (Silero: 512, 32 ms); 1 to 32 000. */
  readonly windowSamples: number;
  /**
   * A stream with its own state (recurrent models keep one per stream); loads the model on first
   * use. Should reject with an `AnalysisError` `MODEL_FAILED` when the model cannot be loaded.
   */
  open(): Promise<VoiceModelStream>;
}

/** One stream of a {@link VoiceModel}. */
export interface VoiceModelStream {
  /**
   * Speech probability (0..1) of the next window: exactly `windowSamples` mono samples at 16 kHz,
   * floats in [-1, 1]. Calls are made one at a time, in order; the array may be reused afterwards.
   */
  probability(window: Float32Array): Promise<number>;
}

/**
 * Checks that `model` is a {@link VoiceModel}.
 * @throws {AnalysisError} `INVALID_OPTIONS` (field `model`) saying what is missing.
 */
export function checkVoiceModel(model: unknown): VoiceModel {
  const m = model as Partial<VoiceModel> | null | undefined;
  if (m === null || typeof m !== 'object' || typeof m.open !== 'function') {
    throw new AnalysisError(
      'INVALID_OPTIONS',
      `model must be a VoiceModel ({ name, windowSamples, open() }, e.g. createSileroModel() from @audex/vad-silero), got ${m === null ? 'null' : typeof m}`,
      { field: 'model' },
    );
  }
  const w = m.windowSamples;
  if (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > MAX_WINDOW_SAMPLES) {
    throw new AnalysisError(
      'INVALID_OPTIONS',
      `model.windowSamples must be an integer from 1 to ${MAX_WINDOW_SAMPLES} (samples at 16 kHz), got ${String(w)}`,
      { field: 'model' },
    );
  }
  return m as VoiceModel;
}

/** Settings of the voice activity detector; every field optional. */
export interface VadOptions {
  /** Speech probability from which a window counts as speech, 0.05..0.95. Default 0.5. Lower finds quieter speech and more noise. */
  threshold?: number;
  /** Shortest speech kept as a region, ms (0..10000). Default 200. `speechStart` fires this long after the onset. */
  minSpeechMs?: number;
  /** Silence that ends a region, ms (32..10000). Default 250. `speechEnd` fires this long after the last speech. */
  minSilenceMs?: number;
  /** Padding added before (pre-roll) and after (hang-over) each region, ms (0..2000). Default 50. */
  padMs?: number;
}

/** {@link VadOptions} with every default filled in. */
export type ResolvedVadOptions = Readonly<Required<VadOptions>>;

/** The defaults of {@link VadOptions}. */
export const DEFAULT_VAD_OPTIONS: ResolvedVadOptions = Object.freeze({
  threshold: 0.5,
  minSpeechMs: 200,
  minSilenceMs: 250,
  padMs: 50,
});

/** A streaming detector; create it with {@link createVoiceDetector}. */
export interface VoiceDetector {
  /** The PCM shape it takes. */
  readonly shape: PcmShape;
  /** Its settings. */
  readonly options: ResolvedVadOptions;
  /** The model's name. */
  readonly model: string;
  /**
   * Adds PCM (bytes in `shape.sampleFormat`, or interleaved float samples) and resolves with the
   * events it completed. Calls may overlap: they are processed in order.
   * @throws {AnalysisError} `INVALID_DATA` for PCM that is not whole frames; `ENDED` after `end()`.
   */
  write(pcm: Uint8Array | Float32Array): Promise<SpeechEvent[]>;
  /** Ends the audio: closes an open region (cut at the end) and resolves with the last events. */
  end(): Promise<SpeechEvent[]>;
  /** Regions closed so far, in order. */
  readonly regions: readonly SpeechRegion[];
  /** Whether a confirmed region is open. */
  readonly speaking: boolean;
  /** Audio analysed so far, ms. */
  readonly processedMs: number;
}

/**
 * Fills in the defaults of {@link VadOptions} and checks every field.
 * @throws {AnalysisError} `INVALID_OPTIONS` naming the field and its allowed range.
 */
export function resolveVadOptions(options: VadOptions = {}): ResolvedVadOptions {
  if (options === null || typeof options !== 'object') {
    throw new AnalysisError('INVALID_OPTIONS', `VAD options must be an object, got ${String(options)}`);
  }
  const d = DEFAULT_VAD_OPTIONS;
  const out = {
    threshold: options.threshold ?? d.threshold,
    minSpeechMs: options.minSpeechMs ?? d.minSpeechMs,
    minSilenceMs: options.minSilenceMs ?? d.minSilenceMs,
    padMs: options.padMs ?? d.padMs,
  };
  const ranges: [keyof typeof out, number, number, string][] = [
    ['threshold', 0.05, 0.95, ''],
    ['minSpeechMs', 0, 10_000, ' ms'],
    ['minSilenceMs', 32, 10_000, ' ms'],
    ['padMs', 0, 2000, ' ms'],
  ];
  for (const [field, min, max, unit] of ranges) {
    const v = out[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new AnalysisError(
        'INVALID_OPTIONS',
        `${field} must be a number from ${min} to ${max}${unit}, got ${String(v)}`,
        {
          field,
        },
      );
    }
  }
  return Object.freeze(out);
}

class Detector implements VoiceDetector {
  readonly shape: PcmShape;
  readonly options: ResolvedVadOptions;
  readonly model: string;
  readonly regions: SpeechRegion[] = [];
  readonly #prepare: Mono16k;
  readonly #stream: VoiceModelStream;
  readonly #window: number;
  readonly #tracker: RegionTracker;
  /** 16 kHz samples waiting for a whole window. */
  readonly #pending: Float32Array;
  #pendingLength = 0;
  /** Windows analysed. */
  #windows = 0;
  /** Input frames written (the audio's length). */
  #frames = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #ended = false;

  constructor(
    shape: PcmShape,
    options: ResolvedVadOptions,
    prepare: Mono16k,
    model: VoiceModel,
    stream: VoiceModelStream,
  ) {
    this.shape = shape;
    this.options = options;
    this.model = String(model.name);
    this.#prepare = prepare;
    this.#stream = stream;
    this.#window = model.windowSamples;
    this.#pending = new Float32Array(model.windowSamples);
    this.#tracker = new RegionTracker(options);
  }

  get speaking(): boolean {
    return this.#tracker.speaking;
  }

  get processedMs(): number {
    return (this.#windows * this.#window * 1000) / MODEL_RATE;
  }

  write(pcm: Uint8Array | Float32Array): Promise<SpeechEvent[]> {
    if (this.#ended)
      return Promise.reject(new AnalysisError('ENDED', 'write() after end(): create a new detector'));
    let samples: Float32Array;
    try {
      samples = toSamples(pcm, this.shape);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#frames += samples.length / this.shape.channels;
    return this.#enqueue(() => this.#analyse(this.#prepare.push(samples)));
  }

  end(): Promise<SpeechEvent[]> {
    if (this.#ended) return Promise.reject(new AnalysisError('ENDED', 'end() called twice'));
    this.#ended = true;
    return this.#enqueue(async () => {
      const events = await this.#analyse(this.#prepare.flush(), true);
      this.#prepare.release();
      const endMs = (this.#frames * 1000) / this.shape.rate;
      return this.#collect([...events, ...this.#tracker.end(endMs)]);
    });
  }

  #enqueue(task: () => Promise<SpeechEvent[]>): Promise<SpeechEvent[]> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Runs the model on every whole window (and, at the end, the zero-padded remainder). */
  async #analyse(samples: Float32Array, last = false): Promise<SpeechEvent[]> {
    const events: SpeechEvent[] = [];
    const window = this.#window;
    let offset = 0;
    while (offset < samples.length || (last && this.#pendingLength > 0)) {
      const take = Math.min(window - this.#pendingLength, samples.length - offset);
      this.#pending.set(samples.subarray(offset, offset + take), this.#pendingLength);
      this.#pendingLength += take;
      offset += take;
      if (this.#pendingLength < window) {
        if (!last) break;
        this.#pending.fill(0, this.#pendingLength);
      }
      this.#pendingLength = 0;
      const p = await this.#stream.probability(this.#pending);
      if (!(typeof p === 'number' && p >= 0 && p <= 1)) {
        throw new AnalysisError(
          'MODEL_FAILED',
          `the ${this.model} voice model gave ${String(p)} for a window; a probability from 0 to 1 is expected`,
        );
      }
      const from = (this.#windows * window * 1000) / MODEL_RATE;
      this.#windows += 1;
      const to = (this.#windows * window * 1000) / MODEL_RATE;
      events.push(...this.#tracker.push(p, from, to));
    }
    return this.#collect(events);
  }

  #collect(events: SpeechEvent[]): SpeechEvent[] {
    for (const e of events) if (e.type === 'speechEnd') this.regions.push(e.region);
    return events;
  }
}

/**
 * A streaming voice activity detector for PCM of any rate, channel count and sample format, run
 * with `model` (e.g. `createSileroModel()` from `@audex/vad-silero`): channels are averaged and
 * the audio resampled to 16 kHz internally, then scored window by window.
 * @throws {AnalysisError} `INVALID_OPTIONS` for a bad shape, model or option; `MODEL_FAILED` when the model cannot load.
 */
export async function createVoiceDetector(
  shape: PcmShape,
  model: VoiceModel,
  options: VadOptions = {},
): Promise<VoiceDetector> {
  const s = checkShape(shape);
  const m = checkVoiceModel(model);
  const resolved = resolveVadOptions(options ?? {});
  const [prepare, stream] = await Promise.allSettled([Mono16k.create(s.rate, s.channels), m.open()]);
  if (prepare.status === 'rejected' || stream.status === 'rejected') {
    if (prepare.status === 'fulfilled') prepare.value.release();
    throw prepare.status === 'rejected' ? prepare.reason : (stream as PromiseRejectedResult).reason;
  }
  return new Detector(s, resolved, prepare.value, m, stream.value);
}

/** Speech regions of a whole piece of PCM: {@link createVoiceDetector}, one write, `end()`. */
export async function detectSpeech(
  pcm: Uint8Array | Float32Array,
  shape: PcmShape,
  model: VoiceModel,
  options: VadOptions = {},
): Promise<SpeechRegion[]> {
  const detector = await createVoiceDetector(shape, model, options);
  await detector.write(pcm);
  await detector.end();
  return [...detector.regions];
}
