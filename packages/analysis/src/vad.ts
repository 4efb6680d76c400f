// The streaming voice activity detector: PCM of any shape in, speech regions and live
// speechStart/speechEnd events out. Mono 16 kHz preparation in _mono-16k.ts, the model in
// _silero.ts, the region logic in _speech-regions.ts.
import type { PcmShape } from '@audex/pcm';
import { MODEL_RATE, Mono16k } from './_mono-16k.js';
import { checkShape, toSamples } from './_shape.js';
import { type OnnxRuntime, type SileroModel, SileroStream, WINDOW } from './_silero.js';
import { RegionTracker, type SpeechEvent, type SpeechRegion } from './_speech-regions.js';
import { AnalysisError } from './errors.js';

export type { OnnxRuntime, SileroModel, SpeechEvent, SpeechRegion };

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
  /** Model version. Default `'silero-v5'` (tighter edges on clean speech than v6 in our comparison). */
  model?: SileroModel;
  /**
   * ONNX runtime to run the model with. Default: `onnxruntime-web` (WebAssembly, a dependency of this
   * package). Pass `await import('onnxruntime-node')` if you have it installed: about 4× less CPU.
   */
  onnxRuntime?: OnnxRuntime;
}

/** {@link VadOptions} with every default filled in. */
export type ResolvedVadOptions = Readonly<Required<Omit<VadOptions, 'onnxRuntime'>>>;

/** The defaults of {@link VadOptions}. */
export const DEFAULT_VAD_OPTIONS: ResolvedVadOptions = Object.freeze({
  threshold: 0.5,
  minSpeechMs: 200,
  minSilenceMs: 250,
  padMs: 50,
  model: 'silero-v5',
});

/** A streaming detector; create it with {@link createVoiceDetector}. */
export interface VoiceDetector {
  /** The PCM shape it takes. */
  readonly shape: PcmShape;
  /** Its settings. */
  readonly options: ResolvedVadOptions;
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
    model: options.model ?? d.model,
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
  if (out.model !== 'silero-v5' && out.model !== 'silero-v6') {
    throw new AnalysisError(
      'INVALID_OPTIONS',
      `model must be 'silero-v5' or 'silero-v6', got ${String(out.model)}`,
      {
        field: 'model',
      },
    );
  }
  return Object.freeze(out);
}

class Detector implements VoiceDetector {
  readonly shape: PcmShape;
  readonly options: ResolvedVadOptions;
  readonly regions: SpeechRegion[] = [];
  readonly #prepare: Mono16k;
  readonly #model: SileroStream;
  readonly #tracker: RegionTracker;
  /** 16 kHz samples waiting for a whole window. */
  #pending = new Float32Array(WINDOW);
  #pendingLength = 0;
  /** Windows analysed. */
  #windows = 0;
  /** Input frames written (the audio's length). */
  #frames = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #ended = false;

  constructor(shape: PcmShape, options: ResolvedVadOptions, prepare: Mono16k, model: SileroStream) {
    this.shape = shape;
    this.options = options;
    this.#prepare = prepare;
    this.#model = model;
    this.#tracker = new RegionTracker(options);
  }

  get speaking(): boolean {
    return this.#tracker.speaking;
  }

  get processedMs(): number {
    return (this.#windows * WINDOW * 1000) / MODEL_RATE;
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
    let offset = 0;
    while (offset < samples.length || (last && this.#pendingLength > 0)) {
      const take = Math.min(WINDOW - this.#pendingLength, samples.length - offset);
      this.#pending.set(samples.subarray(offset, offset + take), this.#pendingLength);
      this.#pendingLength += take;
      offset += take;
      if (this.#pendingLength < WINDOW) {
        if (!last) break;
        this.#pending.fill(0, this.#pendingLength);
      }
      this.#pendingLength = 0;
      const p = await this.#model.probability(this.#pending);
      const from = (this.#windows * WINDOW * 1000) / MODEL_RATE;
      this.#windows += 1;
      const to = (this.#windows * WINDOW * 1000) / MODEL_RATE;
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
 * A streaming voice activity detector (Silero VAD) for PCM of any rate, channel count and sample
 * format: channels are averaged and the audio resampled to 16 kHz internally.
 * @throws {AnalysisError} `INVALID_OPTIONS` for a bad shape or option; `MODEL_FAILED` when the model cannot load.
 */
export async function createVoiceDetector(shape: PcmShape, options: VadOptions = {}): Promise<VoiceDetector> {
  const s = checkShape(shape);
  const resolved = resolveVadOptions(options ?? {});
  const [prepare, model] = await Promise.all([
    Mono16k.create(s.rate, s.channels),
    SileroStream.open(resolved.model, options?.onnxRuntime),
  ]);
  return new Detector(s, resolved, prepare, model);
}

/** Speech regions of a whole piece of PCM: {@link createVoiceDetector}, one write, `end()`. */
export async function detectSpeech(
  pcm: Uint8Array | Float32Array,
  shape: PcmShape,
  options: VadOptions = {},
): Promise<SpeechRegion[]> {
  const detector = await createVoiceDetector(shape, options);
  await detector.write(pcm);
  await detector.end();
  return [...detector.regions];
}
