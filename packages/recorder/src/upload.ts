// The recorder's upload room: turns an ended recording into the stored file, in the format its
// journal names (stored-format.ts): a WAV made by the codec's streaming encoder (exact sizes known
// at stop, RF64 beyond 4 GiB, fact chunk and pad byte as the codec writes them), or a FLAC whose
// STREAMINFO is complete from its first byte (a first pass over the spool hashes the samples for
// its MD5) — and puts it in the store, retrying failures. Both stop() and crash
// recovery upload through here. Resumable uploads live here too, without a new parameter: on a
// store that can resume (S3Store), the upload journal lives next to the recording's journal
// (`<buffer.spoolDir>/<buffer.id>.upload`), `Uploader.upload` resumes from it on a retry or after a
// crash (recovery hands it the recovered buffer) sending only the parts the store does not hold,
// and the spool directory, upload journal included, is deleted once the store has it. Uploads
// never replace an object: keys are unique, so one already there is this recording or a mistake.
import { createHash } from 'node:crypto';
import { appendFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FrameBuffer } from '@audex/buffer';
import { createFlacEncoder, createWavEncoder, encodeChunks } from '@audex/codec';
import { type CompletedPart, isResumableStore, type Store, type UploadCheckpoint } from '@audex/store';
import { RecorderError } from './errors.js';
import type { Reporter } from './report.js';
import { storeFormatOf } from './stored-format.js';
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

/**
 * MD5 of the recording's samples as FLAC stores them (for int8, int16 and int24, the PCM bytes
 * themselves), read from the spool piece by piece: memory stays bounded by one piece.
 */
export async function samplesMd5(buffer: FrameBuffer): Promise<Uint8Array> {
  const hash = createHash('md5');
  for await (const piece of buffer.stream({ chunkFrames: UPLOAD_PIECE_FRAMES, endFrame: buffer.frameCount }))
    hash.update(piece);
  return new Uint8Array(hash.digest());
}

/**
 * The whole recording as a FLAC file for an output that cannot seek (an upload): a first pass over
 * the spool computes the samples' MD5, so the encoder writes a complete STREAMINFO (frame count
 * and MD5; frame-size bounds 0, "unknown", which FLAC allows) before the first frame; the second
 * pass streams the frames. The encoder checks the samples against that MD5 at the end (a spool
 * that changed between the passes fails the upload instead of storing a lying header). Encoding
 * is deterministic, so a resumed upload sends the same bytes.
 */
export async function* flacFile(buffer: FrameBuffer): AsyncGenerator<Uint8Array, void, undefined> {
  const md5 = await samplesMd5(buffer);
  const encoder = createFlacEncoder({
    rate: buffer.rate,
    channels: buffer.channels,
    sampleFormat: buffer.sampleFormat,
    totalFrames: buffer.frameCount,
    md5,
  });
  yield encoder.write(EMPTY);
  const pieces = buffer.stream({ chunkFrames: UPLOAD_PIECE_FRAMES, endFrame: buffer.frameCount });
  yield* encodeChunks(encoder, pieces);
}

/** The stored file of an ended recording, in the format its journal names. */
export function storedFile(buffer: FrameBuffer): AsyncGenerator<Uint8Array, void, undefined> {
  return storeFormatOf(buffer) === 'flac' ? flacFile(buffer) : wavFile(buffer);
}

/** Store failures that another attempt cannot fix. */
const PERMANENT = new Set([
  'INVALID_KEY',
  'INVALID_METADATA',
  'INVALID_ARGUMENT',
  'PERMISSION_DENIED',
  'ALREADY_EXISTS',
  'ENCRYPTION_ERROR',
]);

/** Suffix of a recording's upload journal, beside its buffer journal (`<id>.upload`). */
export const UPLOAD_JOURNAL_SUFFIX = '.upload';

/**
 * The journal of one resumable upload, `<spoolDir>/<buffer id>.upload`: a JSON line with the
 * checkpoint's fields (written whole to a temp file and renamed whenever the upload id changes),
 * then one JSON line per acknowledged part, appended. A torn last line (a crash mid-append) is
 * ignored when reading: that part is sent again.
 */
class UploadJournal {
  readonly path: string;
  #uploadId: string | undefined;

  constructor(buffer: FrameBuffer) {
    this.path = join(buffer.spoolDir, `${buffer.id}${UPLOAD_JOURNAL_SUFFIX}`);
  }

  /** The journaled checkpoint of an upload of `key`, or undefined when there is none. */
  async load(key: string): Promise<UploadCheckpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const [first, ...rest] = text.split('\n');
    let head: UploadCheckpoint;
    try {
      head = JSON.parse(first ?? '') as UploadCheckpoint;
    } catch {
      return undefined;
    }
    if (head?.key !== key) return undefined;
    const parts = new Map<number, CompletedPart>();
    for (const part of head.parts ?? []) parts.set(part.partNumber, part);
    for (const line of rest) {
      try {
        const part = JSON.parse(line) as CompletedPart;
        if (typeof part?.partNumber === 'number') parts.set(part.partNumber, part);
      } catch {
        // A line torn by a crash: that part is sent again.
      }
    }
    this.#uploadId = head.uploadId;
    return { ...head, parts: [...parts.values()].sort((a, b) => a.partNumber - b.partNumber) };
  }

  /** The store's `onCheckpoint`: the header when the upload is new, else the part just acknowledged. */
  readonly save = async (checkpoint: UploadCheckpoint, part: CompletedPart | undefined): Promise<void> => {
    if (checkpoint.uploadId !== this.#uploadId) {
      const temp = `${this.path}.tmp`;
      await writeFile(temp, `${JSON.stringify(checkpoint)}\n`);
      await rename(temp, this.path);
      this.#uploadId = checkpoint.uploadId;
      return;
    }
    if (part !== undefined) await appendFile(this.path, `${JSON.stringify(part)}\n`);
  };

  /** Deletes the journal (the upload completed, or is no longer the one to resume). */
  async remove(): Promise<void> {
    this.#uploadId = undefined;
    await rm(this.path, { force: true });
  }
}

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
   * Uploads the recording in `buffer` (ended) under `key`, as the WAV or FLAC its journal names. Each attempt re-reads the
   * spool, so nothing is held in memory between attempts; each retry is reported as an
   * `UPLOAD_RETRY` warning. Metadata the backend finds too large is retried once without the gap
   * list (the totals stay). On a resumable store the upload is journaled part by part, and an
   * attempt (a retry, or recovery after a crash) resumes it, sending only the missing parts. An
   * upload never replaces an object (`overwrite: false`): one already under `key` counts as this
   * recording when its metadata says so (stored before a crash or a lost answer), else the upload
   * fails and the recording stays in the spool.
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
        await this.#attempt(buffer, key, meta);
        return meta;
      } catch (error) {
        lastError = error;
        const code = storeCode(error);
        if (code === 'ALREADY_EXISTS' && (await this.#isThisRecording(key, meta))) return meta;
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
    if (storeCode(lastError) === 'ALREADY_EXISTS') {
      throw new RecorderError(
        'UPLOAD_FAILED',
        `an object that is not this recording is already stored under ${JSON.stringify(key)}; it was not replaced and this recording stays in the spool until init() or recover() saves it`,
        { key, cause: lastError },
      );
    }
    throw new RecorderError(
      'UPLOAD_FAILED',
      `the store did not accept ${JSON.stringify(key)} after ${attempts} attempt(s): ${(lastError as Error)?.message ?? String(lastError)}; the recording stays in the spool until init() or recover() saves it`,
      { key, cause: lastError },
    );
  }

  /** One upload attempt: resumed from the journal when there is one, journaled when the store can resume. */
  async #attempt(buffer: FrameBuffer, key: string, meta: RecordingMetadata): Promise<void> {
    const store = this.#store;
    if (!isResumableStore(store)) {
      await store.upload(storedFile(buffer), key, meta, { overwrite: false });
      return;
    }
    const journal = new UploadJournal(buffer);
    const checkpoint = await journal.load(key);
    const options = { overwrite: false, onCheckpoint: journal.save };
    try {
      if (checkpoint === undefined) await store.upload(storedFile(buffer), key, meta, options);
      else await store.resumeUpload(storedFile(buffer), checkpoint, options);
    } catch (error) {
      const code = storeCode(error);
      // A journal the store cannot use, or an upload that cannot complete: drop both.
      if (checkpoint !== undefined && (code === 'INVALID_ARGUMENT' || code === 'ALREADY_EXISTS')) {
        await store.abortUpload(checkpoint).catch(() => {});
        await journal.remove();
      }
      throw error;
    }
    await journal.remove();
  }

  /** Whether the object under `key` is this recording (stored before a crash hid it from the spool). */
  async #isThisRecording(key: string, meta: RecordingMetadata): Promise<boolean> {
    try {
      const stored = await this.#store.getMetadata(key);
      return (['frame_count', 'sample_rate', 'channels', 'sample_format', 'started_at'] as const).every(
        (field) => stored[field] === meta[field],
      );
    } catch {
      return false;
    }
  }
}
