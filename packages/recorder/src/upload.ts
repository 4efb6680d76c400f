import type { FrameBuffer } from '@audex/buffer';
import { encodeWavHeader } from '@audex/codec';
import type { Store } from '@audex/store';
import { RecorderError } from './errors.js';
import type { RecordingMetadata } from './types.js';

/** Frames per piece when streaming a recording to the store (1 MiB-ish pieces at 48 kHz stereo f32). */
const UPLOAD_CHUNK_FRAMES = 32_768;

/**
 * The whole recording as a WAV file (RF64 beyond 4 GiB), streamed from the buffer: a header with
 * the final sizes (the buffer has ended, so they are known) followed by the samples as stored.
 * Memory stays bounded by one piece.
 */
export async function* wavFile(buffer: FrameBuffer): AsyncGenerator<Uint8Array, void, undefined> {
  yield encodeWavHeader({
    rate: buffer.rate,
    channels: buffer.channels,
    sampleFormat: buffer.sampleFormat,
    frames: buffer.frameCount,
  });
  if (buffer.frameCount === 0) return;
  const pieces = buffer.stream({ chunkFrames: UPLOAD_CHUNK_FRAMES });
  if (buffer.sampleFormat !== 'int8') {
    yield* pieces;
    return;
  }
  // 8-bit WAV data is unsigned: offset each signed sample by 128 (flipping the top bit does it).
  for await (const piece of pieces) {
    const out = new Uint8Array(piece.byteLength);
    for (let i = 0; i < piece.byteLength; i++) out[i] = piece[i]! ^ 0x80;
    yield out;
  }
}

/** How `uploadRecording` retries. */
export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  /** Delay before the first retry, in ms; doubled each time. */
  delayMs: number;
  /** Told about each failed attempt that will be retried. */
  onRetry(error: unknown, attempt: number): void;
}

function storeCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Store failures that another attempt cannot fix. */
const PERMANENT = new Set(['INVALID_KEY', 'INVALID_METADATA', 'INVALID_ARGUMENT', 'PERMISSION_DENIED']);

/**
 * Uploads the recording in `buffer` as a WAV under `key`, retrying failures with exponential
 * back-off. Each attempt re-reads the spool, so nothing is held in memory between attempts.
 * Metadata the backend finds too large is retried once without the gap list (totals kept).
 *
 * @throws {RecorderError} `UPLOAD_FAILED` after the last attempt; the recording stays in the spool.
 */
export async function uploadRecording(
  store: Store,
  buffer: FrameBuffer,
  key: string,
  metadata: RecordingMetadata,
  policy: RetryPolicy,
): Promise<RecordingMetadata> {
  let meta = metadata;
  let lastError: unknown;
  let attempts = 0;
  for (let attempt = 0; attempt <= policy.retries; attempt++) {
    if (attempt > 0) await sleep(policy.delayMs * 2 ** (attempt - 1));
    attempts++;
    try {
      await store.upload(wavFile(buffer), key, meta);
      return meta;
    } catch (error) {
      lastError = error;
      const code = storeCode(error);
      if (code === 'METADATA_TOO_LARGE' && meta.gaps.length > 0) {
        meta = { ...meta, gaps: [] };
        attempt--;
        continue;
      }
      if (code !== undefined && PERMANENT.has(code)) break;
      if (attempt < policy.retries) policy.onRetry(error, attempt + 1);
    }
  }
  throw new RecorderError(
    'UPLOAD_FAILED',
    `the store did not accept ${JSON.stringify(key)} after ${attempts} attempt(s): ${(lastError as Error)?.message ?? String(lastError)}; the recording stays in the spool until init() or recover() saves it`,
    { key, cause: lastError },
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
