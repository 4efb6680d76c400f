// The recorder's upload room: turns an ended recording into the stored file (a WAV made by the
// codec's streaming encoder: exact sizes known at stop, RF64 beyond 4 GiB, fact chunk and pad byte
// as the codec writes them) and puts it in the store, retrying failures. Both stop() and crash
// recovery upload through here. Resumable uploads belong here too, without a new parameter: the
// upload journal lives next to the recording's journal (`<buffer.spoolDir>/<buffer.id>.upload`),
// `Uploader.upload` resumes from it on a retry or after a crash (recovery hands it the recovered
// buffer), and the spool directory, upload journal included, is deleted once the store has it.
import type { FrameBuffer } from '@audex/buffer';
import { createWavEncoder, encodeChunks } from '@audex/codec';
import type { Store } from '@audex/store';
import { RecorderError } from './errors.js';
import type { Reporter } from './report.js';
import type { RecordingMetadata } from './types.js';

/** Frames per piece when streaming a recording to the store (1 MiB-ish pieces at 48 kHz stereo f32). */
const UPLOAD_PIECE_FRAMES = 32_768;
const EMPTY = new Uint8Array(0);

/**
 * The whole recording as a WAV file, streamed from the buffer through the codec's WAV encoder: the
 * header (with the final sizes: the buffer has ended, so they are known) comes first, then the
 * samples piece by piece. Memory stays bounded by one piece.
 */
export async function* wavFile(buffer: FrameBuffer): AsyncGenerator<Uint8Array, void, undefined> {
  const encoder = createWavEncoder({
    rate: buffer.rate,
    channels: buffer.channels,
    sampleFormat: buffer.sampleFormat,
    totalFrames: buffer.frameCount,
  });
  // Writing nothing yields the header alone, before the first piece is read from the spool.
  yield encoder.write(EMPTY);
  const pieces = buffer.stream({ chunkFrames: UPLOAD_PIECE_FRAMES, endFrame: buffer.frameCount });
  yield* encodeChunks(encoder, pieces);
}

/** Store failures that another attempt cannot fix. */
const PERMANENT = new Set(['INVALID_KEY', 'INVALID_METADATA', 'INVALID_ARGUMENT', 'PERMISSION_DENIED']);

function storeCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Uploads ended recordings to the store with exponential back-off. */
export class Uploader {
  readonly #store: Store;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #report: Reporter;

  constructor(store: Store, policy: { retries: number; retryDelayMs: number }, report: Reporter) {
    this.#store = store;
    this.#retries = policy.retries;
    this.#retryDelayMs = policy.retryDelayMs;
    this.#report = report;
  }

  /**
   * Uploads the recording in `buffer` (ended) as a WAV under `key`. Each attempt re-reads the
   * spool, so nothing is held in memory between attempts; each retry is reported as an
   * `UPLOAD_RETRY` warning. Metadata the backend finds too large is retried once without the gap
   * list (the totals stay).
   *
   * @returns the metadata actually stored.
   * @throws {RecorderError} `UPLOAD_FAILED` after the last attempt; the recording stays in the spool.
   */
  async upload(buffer: FrameBuffer, key: string, metadata: RecordingMetadata): Promise<RecordingMetadata> {
    let meta = metadata;
    let lastError: unknown;
    let attempts = 0;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (attempt > 0) await sleep(this.#retryDelayMs * 2 ** (attempt - 1));
      attempts++;
      try {
        await this.#store.upload(wavFile(buffer), key, meta);
        return meta;
      } catch (error) {
        lastError = error;
        const code = storeCode(error);
        if (code === 'METADATA_TOO_LARGE' && (meta.gaps.length > 0 || (meta.speech?.length ?? 0) > 0)) {
          meta = { ...meta, gaps: [], ...(meta.speech ? { speech: [] } : {}) };
          attempt--;
          continue;
        }
        if (code !== undefined && PERMANENT.has(code)) break;
        if (attempt < this.#retries) {
          this.#report.warn({
            code: 'UPLOAD_RETRY',
            message: `[audex/recorder] upload of ${JSON.stringify(key)} failed (${(error as Error).message}); retry ${attempt + 1} of ${this.#retries}`,
            cause: error,
          });
        }
      }
    }
    throw new RecorderError(
      'UPLOAD_FAILED',
      `the store did not accept ${JSON.stringify(key)} after ${attempts} attempt(s): ${(lastError as Error)?.message ?? String(lastError)}; the recording stays in the spool until init() or recover() saves it`,
      { key, cause: lastError },
    );
  }
}
