// The Silero VAD model (v5 by default, v6 on request), as shipped in @ricky0123/vad-web, run by
// onnxruntime-web (WebAssembly, single thread: no native binary, nothing downloaded) or by an ONNX
// runtime the caller passes (onnxruntime-node has the same API). Both are loaded only when a detector
// is created; a missing one (a trimmed install) is a MODEL_FAILED error saying what to install. One session per runtime and model is
// shared by every detector in the process; each detector keeps its own recurrent state and context.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { AnalysisError } from './errors.js';

/** The Silero VAD versions that can be loaded. */
export type SileroModel = 'silero-v5' | 'silero-v6';

/** Samples per model window at 16 kHz (32 ms), and the context carried over from the previous window. */
export const WINDOW = 512;
const CONTEXT = 64;

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

/** What voice activity detection needs installed (dependencies of this package, 146 MB together). */
export const VAD_PACKAGES = 'onnxruntime-web@1.30.0 @ricky0123/vad-web@0.0.31';

async function defaultRuntime(): Promise<OnnxRuntime> {
  let ort: OnnxRuntime & { env: { wasm: { numThreads?: number } } };
  try {
    ort = (await import('onnxruntime-web')) as unknown as typeof ort;
  } catch (error) {
    throw new Error(
      `onnxruntime-web is not installed: voice activity detection needs \`npm install ${VAD_PACKAGES}\``,
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
        `@ricky0123/vad-web (which ships the model) is not installed: \`npm install ${VAD_PACKAGES}\``,
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
export class SileroStream {
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
  static async open(model: SileroModel, runtime?: OnnxRuntime): Promise<SileroStream> {
    return new SileroStream(await shared(runtime, model));
  }

  /** Speech probability (0..1) of the next window of exactly {@link WINDOW} samples. */
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
