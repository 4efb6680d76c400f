// The Silero VAD model (v5 by default, v6 on request), as shipped in @ricky0123/vad-web, run by
// onnxruntime-web (WebAssembly, single thread: no native binary, nothing downloaded) or by an ONNX
// runtime the caller passes (onnxruntime-node has the same API), as a VoiceModel of @audex/analysis.
// The runtime and the model file are loaded when the first stream opens, not when this package is
// imported; a missing one (a trimmed install) is a MODEL_FAILED error saying what to install. One
// session per runtime and model is shared by every stream in the process; each stream keeps its
// own recurrent state and context.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { AnalysisError, type VoiceModel, type VoiceModelStream } from '@audex/analysis';

/** The Silero VAD versions that can be loaded. */
export const SILERO_MODELS = ['silero-v5', 'silero-v6'] as const;

/** A Silero VAD version: `'silero-v5'` (the default) or `'silero-v6'`. */
export type SileroModel = (typeof SILERO_MODELS)[number];

/** Samples per model window at 16 kHz (32 ms). */
export const SILERO_WINDOW_SAMPLES = 512;
/** Samples carried over from the previous window. */
const CONTEXT = 64;
const WINDOW = SILERO_WINDOW_SAMPLES;

const MODEL_FILES: Record<SileroModel, string> = {
  'silero-v5': '@ricky0123/vad-web/dist/silero_vad_v5.onnx',
  'silero-v6': '@ricky0123/vad-web/dist/silero_vad_v6.onnx',
};

/** The part of the onnxruntime API the detector uses (`onnxruntime-web` and `onnxruntime-node` both fit). */
export interface OnnxRuntime {
  /** `ort.InferenceSession`. */
  readonly InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<unknown>;
  };
  /** `ort.Tensor`. */
  readonly Tensor: new (
    type: 'float32' | 'int64',
    data: Float32Array | BigInt64Array,
    dims: readonly number[],
  ) => unknown;
}

interface Session {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: ArrayLike<number> } | unknown>>;
}

interface Loaded {
  readonly ort: OnnxRuntime;
  readonly session: Session;
  /** Runs on one session are chained: the WASM backend runs one at a time. */
  queue: Promise<unknown>;
}

const sessions = new Map<OnnxRuntime | 'default', Map<SileroModel, Promise<Loaded>>>();

/** What this package needs installed (its dependencies, 159 MB together). */
const RUNTIME_PACKAGES = 'onnxruntime-web@1.30.0 @ricky0123/vad-web@0.0.31';

async function defaultRuntime(): Promise<OnnxRuntime> {
  let ort: OnnxRuntime & { env: { wasm: { numThreads?: number } } };
  try {
    ort = (await import('onnxruntime-web')) as unknown as typeof ort;
  } catch (error) {
    throw new Error(
      `onnxruntime-web (a dependency of @audex/vad-silero) is not installed: \`npm install ${RUNTIME_PACKAGES}\``,
      {
        cause: error,
      },
    );
  }
  // Threads would spread a 1 % load over worker threads for nothing.
  ort.env.wasm.numThreads = 1;
  return ort;
}

async function load(runtime: OnnxRuntime | undefined, model: SileroModel): Promise<Loaded> {
  try {
    const ort = runtime ?? (await defaultRuntime());
    let file: string;
    try {
      file = createRequire(import.meta.url).resolve(MODEL_FILES[model]);
    } catch (error) {
      throw new Error(
        `@ricky0123/vad-web (which ships the model) is not installed: \`npm install ${RUNTIME_PACKAGES}\``,
        {
          cause: error,
        },
      );
    }
    const bytes = new Uint8Array(await readFile(file));
    const session = (await ort.InferenceSession.create(bytes, {
      executionProviders: runtime ? ['cpu'] : ['wasm'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    })) as Session;
    return { ort, session, queue: Promise.resolve() };
  } catch (error) {
    throw new AnalysisError(
      'MODEL_FAILED',
      `could not load the ${model} voice model: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

function shared(runtime: OnnxRuntime | undefined, model: SileroModel): Promise<Loaded> {
  const key = runtime ?? 'default';
  let byModel = sessions.get(key);
  if (!byModel) {
    byModel = new Map();
    sessions.set(key, byModel);
  }
  let loaded = byModel.get(model);
  if (!loaded) {
    loaded = load(runtime, model);
    byModel.set(model, loaded);
    // A failed load is not cached: the next detector tries again.
    loaded.catch(() => byModel.delete(model));
  }
  return loaded;
}

/** One stream's view of the model: speech probability of consecutive 512-sample windows at 16 kHz. */
class SileroStream implements VoiceModelStream {
  readonly #loaded: Loaded;
  #state: unknown;
  readonly #sr: unknown;
  readonly #context = new Float32Array(CONTEXT);

  private constructor(loaded: Loaded) {
    this.#loaded = loaded;
    this.#state = new loaded.ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
    this.#sr = new loaded.ort.Tensor('int64', BigInt64Array.from([16_000n]), []);
  }

  /** Loads (or reuses) the model and starts a stream with a fresh state. */
  static async open(model: SileroModel, runtime: OnnxRuntime | undefined): Promise<SileroStream> {
    return new SileroStream(await shared(runtime, model));
  }

  /** Speech probability (0..1) of the next window of exactly {@link SILERO_WINDOW_SAMPLES} samples. */
  probability(window: Float32Array): Promise<number> {
    const input = new Float32Array(CONTEXT + WINDOW);
    input.set(this.#context, 0);
    input.set(window, CONTEXT);
    this.#context.set(window.subarray(WINDOW - CONTEXT));
    const loaded = this.#loaded;
    const run = loaded.queue.then(async () => {
      const out = await loaded.session.run({
        input: new loaded.ort.Tensor('float32', input, [1, CONTEXT + WINDOW]),
        state: this.#state,
        sr: this.#sr,
      });
      this.#state = out.stateN;
      return (out.output as { data: ArrayLike<number> }).data[0]!;
    });
    loaded.queue = run.catch(() => undefined);
    return run;
  }
}

/** Options of {@link createSileroModel}. */
export interface SileroOptions {
  /** Model version. Default `'silero-v5'` (tighter edges on clean speech than v6 in our comparison). */
  model?: SileroModel;
  /**
   * ONNX runtime to run the model with. Default: `onnxruntime-web` (WebAssembly, a dependency of
   * this package). Pass `await import('onnxruntime-node')` if you have it installed: about 4× less CPU.
   */
  onnxRuntime?: OnnxRuntime;
}

/**
 * Silero VAD as a `VoiceModel` for `@audex/analysis`'s `createVoiceDetector()` / `detectSpeech()`
 * and `@audex/recorder`'s `vad` option. Nothing loads until the first stream opens.
 * @throws {AnalysisError} `INVALID_OPTIONS` naming a bad `model` or `onnxRuntime`.
 */
export function createSileroModel(options: SileroOptions = {}): VoiceModel {
  if (options === null || typeof options !== 'object') {
    throw new AnalysisError('INVALID_OPTIONS', `Silero options must be an object, got ${String(options)}`);
  }
  const model = options.model ?? 'silero-v5';
  if (!SILERO_MODELS.includes(model)) {
    throw new AnalysisError(
      'INVALID_OPTIONS',
      `model must be ${SILERO_MODELS.map((m) => `'${m}'`).join(' or ')}, got ${String(model)}`,
      { field: 'model' },
    );
  }
  const runtime = options.onnxRuntime;
  if (
    runtime !== undefined &&
    (runtime === null ||
      typeof runtime.InferenceSession?.create !== 'function' ||
      typeof runtime.Tensor !== 'function')
  ) {
    throw new AnalysisError(
      'INVALID_OPTIONS',
      "onnxRuntime must be an ONNX runtime module (InferenceSession, Tensor), e.g. await import('onnxruntime-node')",
      { field: 'onnxRuntime' },
    );
  }
  return Object.freeze({
    name: model,
    windowSamples: WINDOW,
    open: () => SileroStream.open(model, runtime),
  });
}
