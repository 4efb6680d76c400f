/**
 * Owns the libmp3lame WASM module (wasm-media-encoders): loading it synchronously and feeding it
 * planes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CodecError } from '../errors.js';

/**
 * A synchronous binding to the libmp3lame WASM build shipped by `wasm-media-encoders` 0.7.0.
 *
 * The package's own JS wrapper only offers an async factory, and `Codec.createEncoder()` is
 * synchronous, so we compile the WASM module once (synchronously, ~130 KiB) and instantiate it
 * per encoder. The C ABI it exports is tiny: `enc_init(params)`, `enc_get_pcm(ref, n)` (planar
 * float buffers inside WASM memory), `enc_encode(ref, n)`, `enc_flush(ref)`, `enc_get_out_buf(ref)`.
 * The version is pinned exactly in package.json because this ABI is not a public API.
 */

/** The part of the WebAssembly JS API we use (the DOM lib, which types it, is not in our tsconfig). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface LameExports {
  memory: { buffer: ArrayBuffer };
  _initialize(): void;
  malloc(size: number): number;
  free(ptr: number): void;
  enc_init(params: number): number;
  enc_get_pcm(ref: number, samples: number): number;
  enc_get_out_buf(ref: number): number;
  enc_encode(ref: number, samples: number): number;
  enc_flush(ref: number): number;
  enc_free(ref: number): void;
}

let lameModule: object | undefined;

function loadModule(): object {
  if (!lameModule) {
    const require = createRequire(import.meta.url);
    lameModule = new wasmApi.Module(readFileSync(require.resolve('wasm-media-encoders/wasm/mp3')));
  }
  return lameModule;
}

/** Options of {@link LameEncoder}; values must already be validated. */
export interface LameOptions {
  /** 1 or 2. */
  channels: 1 | 2;
  /** An MP3 sample rate (8000–48000, one of the nine MPEG rates); LAME is told not to resample. */
  rate: number;
  /** Constant bitrate in kbit/s; LAME picks the nearest legal one for the rate. */
  kbps: number;
}

/** One LAME encoder instance in its own WASM instance. Not part of the public API. */
export class LameEncoder {
  readonly #wasm: LameExports;
  readonly #channels: number;
  #ref: number;

  constructor(options: LameOptions) {
    const instance = new wasmApi.Instance(loadModule(), {
      wasi_snapshot_preview1: {
        proc_exit: (code: number) => {
          throw new CodecError('INVALID_OPTIONS', `libmp3lame aborted (exit ${code})`, { format: 'mp3' });
        },
      },
      env: { emscripten_notify_memory_growth: () => {} },
    });
    this.#wasm = instance.exports as unknown as LameExports;
    this.#wasm._initialize();
    this.#channels = options.channels;
    // Layout read by enc_init: u32 channels, u32 input rate, i32 kbps, f32 VBR quality (-1 = CBR),
    // i32 output rate (the input rate: no resampling inside LAME, so its delay stays 576).
    const params = this.#wasm.malloc(20);
    const view = new DataView(this.#wasm.memory.buffer, params, 20);
    view.setUint32(0, options.channels, true);
    view.setUint32(4, options.rate, true);
    view.setInt32(8, options.kbps, true);
    view.setFloat32(12, -1, true);
    view.setInt32(16, options.rate, true);
    try {
      this.#ref = this.#wasm.enc_init(params);
    } finally {
      this.#wasm.free(params);
    }
    if (!this.#ref) {
      throw new CodecError(
        'INVALID_OPTIONS',
        `libmp3lame rejected ${options.channels} channel(s) at ${options.rate} Hz, ${options.kbps} kbit/s`,
        { format: 'mp3' },
      );
    }
  }

  /**
   * Planar float32 input buffers for `frames` frames inside WASM memory, one per channel.
   * Valid until the next call into the encoder.
   */
  input(frames: number): Float32Array[] {
    const table = this.#wasm.enc_get_pcm(this.#ref, frames);
    if (!table)
      throw new CodecError('TOO_LARGE', `libmp3lame could not allocate ${frames} frames`, { format: 'mp3' });
    const pointers = new Uint32Array(this.#wasm.memory.buffer, table, this.#channels);
    const out: Float32Array[] = [];
    for (let c = 0; c < this.#channels; c++)
      out.push(new Float32Array(this.#wasm.memory.buffer, pointers[c]!, frames));
    return out;
  }

  /** Encodes the `frames` frames last placed in {@link input}; returns a copy of the bytes produced. */
  encode(frames: number): Uint8Array {
    return this.#output(this.#wasm.enc_encode(this.#ref, frames));
  }

  /** Flushes the last frames (LAME pads them); returns a copy of the bytes and frees the encoder. */
  flush(): Uint8Array {
    const out = this.#output(this.#wasm.enc_flush(this.#ref));
    this.#wasm.enc_free(this.#ref);
    this.#ref = 0;
    return out;
  }

  #output(length: number): Uint8Array {
    if (length < 0)
      throw new CodecError('INVALID_OPTIONS', `libmp3lame failed with code ${length}`, { format: 'mp3' });
    if (length === 0) return new Uint8Array(0);
    // The output buffer lives in WASM memory and is overwritten by the next call: copy it out.
    return new Uint8Array(this.#wasm.memory.buffer, this.#wasm.enc_get_out_buf(this.#ref), length).slice();
  }
}
