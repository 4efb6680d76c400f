// The recorder's recording room: one recording from start() until a store has it. It wires the
// source to the buffer (chunks in; overflow and level events out; a source failure ends capture),
// owns the recording's FrameBuffer (journaled into the spool directory the Spool claimed for it),
// and keeps its wall-clock facts. Reconnect goes here (on a source failure, re-open the device and
// keep appending to the same buffer: the outage becomes a gap on the timeline); so does rotation (a
// recording becomes a list of files on one sample clock, each its own FrameBuffer and key in the
// same spool directory, the next one starting at the frame where the previous ended).

import { FrameBuffer } from '@audex/buffer';
import type { AudioSource } from '@audex/capture';
import type { CapturedChunk } from '@audex/pcm';
import type { Store } from '@audex/store';
import { type AnalysisFacts, RecordingAnalysis } from './analysis.js';
import { describeValue, RecorderError } from './errors.js';
import { measureLevels } from './levels.js';
import { buildMetadata, type RecordingTimes, recordingSpan } from './metadata.js';
import type { RecorderSettings } from './options.js';
import type { Reporter } from './report.js';
import type { StoreFormat } from './stored-format.js';
import type { AudioSegment, RecordingMetadata } from './types.js';

/** What a recording's journal header keeps (`FrameBuffer` meta), read back by crash recovery. */
export interface JournalFacts {
  /** Store key given by `start()`. */
  key: string;
  /** When `start()` was called, ms since the Unix epoch. */
  requestedAt: number;
  /** The format the recording is stored as (recovery stores it the same way). */
  storeFormat: StoreFormat;
}

/** Where a recording's journal lives (claimed from the Spool). */
export interface RecordingPlace {
  /** Directory of this recording's journal files. */
  readonly dir: string;
  /** Deletes the directory (a recording that never started). */
  remove(): Promise<void>;
}

/**
 * Loads the default source, `PortAudioSource` from `@audex/capture`. Loaded on first use so that a
 * custom source never loads the native `@audex/naudiodon` module.
 * @throws {RecorderError} `SOURCE_FAILED` when it cannot be loaded.
 */
export async function loadDefaultSource(): Promise<AudioSource> {
  try {
    const { PortAudioSource } = await import('@audex/capture');
    return new PortAudioSource();
  } catch (error) {
    throw new RecorderError(
      'SOURCE_FAILED',
      `could not load the default PortAudio source: ${(error as Error).message}; pass options.source`,
      { cause: error },
    );
  }
}

const EMPTY = new Uint8Array(0);

/**
 * The key a recording is stored under: `store.keyBuilder.build(...prefixes, '<id>.<extension>')`
 * (`.wav`, or `.flac` with `storeFormat: 'flac'`).
 * @throws {RecorderError} `INVALID_KEY` for a prefix that is not a non-empty string or that the
 *   key builder rejects.
 */
export function recordingKey(store: Store, prefixes: string[], id: string, extension: string): string {
  try {
    for (const prefix of prefixes) {
      if (typeof prefix !== 'string' || prefix.length === 0) {
        throw new Error(`key prefixes must be non-empty strings, got ${describeValue(prefix)}`);
      }
    }
    return store.keyBuilder.build(...prefixes, `${id}.${extension}`);
  } catch (error) {
    throw new RecorderError(
      'INVALID_KEY',
      `invalid key prefixes ${JSON.stringify(prefixes)}: ${(error as Error).message}`,
      { field: 'prefixes', cause: error },
    );
  }
}

/** One recording: its buffer, key, capture state and wall-clock facts. */
export class Recording {
  /** Recording id (its spool directory and journal are named after it). */
  readonly id: string;
  /** Store key from `start()`. */
  readonly key: string;
  /** Every captured frame of this recording, journaled. */
  readonly buffer: FrameBuffer;
  /** When capture was requested and when it stopped. */
  readonly times: RecordingTimes;
  /** Loudness and speech regions, metered as the audio arrives. */
  readonly analysis: RecordingAnalysis;
  /** What analysis found, once capture has ended. */
  #facts: AnalysisFacts | undefined;
  readonly #settings: RecorderSettings;
  readonly #report: Reporter;
  #captureEnded = false;
  #metadata: RecordingMetadata | undefined;
  #stored = false;
  /** The buffer's end(), once called (a source failure ends it before stop()). */
  #ending: Promise<void> | undefined;

  private constructor(
    id: string,
    key: string,
    buffer: FrameBuffer,
    requestedAt: number,
    settings: RecorderSettings,
    report: Reporter,
    analysis: RecordingAnalysis,
  ) {
    this.analysis = analysis;
    this.id = id;
    this.key = key;
    this.buffer = buffer;
    this.times = { requestedAt, stoppedAt: requestedAt };
    this.#settings = settings;
    this.#report = report;
  }

  /**
   * Creates the recording's journal in `place` (nothing is captured yet).
   * @throws {RecorderError} `SPOOL_FAILED` when the journal cannot be created; `place` is removed.
   */
  static async create(
    params: { id: string; key: string; place: RecordingPlace },
    settings: RecorderSettings,
    report: Reporter,
  ): Promise<Recording> {
    const { id, key, place } = params;
    const requestedAt = Date.now();
    const facts: JournalFacts = { key, requestedAt, storeFormat: settings.storeFormat };
    let analysis: RecordingAnalysis;
    try {
      analysis = await RecordingAnalysis.create(key, settings.config, settings.vad, report);
    } catch (error) {
      await place.remove().catch(() => {});
      throw error;
    }
    let buffer: FrameBuffer;
    try {
      buffer = await FrameBuffer.create({
        spoolDir: place.dir,
        id,
        sampleFormat: settings.config.sampleFormat,
        channels: settings.config.channels,
        rate: settings.config.rate,
        memoryMs: settings.memoryMs,
        flushIntervalMs: settings.flushIntervalMs,
        meta: { ...facts, config: { ...settings.config } },
        onError: (error) => Recording.#journalFailed(key, error, report),
      });
    } catch (error) {
      await place.remove().catch(() => {});
      throw new RecorderError(
        'SPOOL_FAILED',
        `could not create the journal in ${settings.spoolDir}: ${(error as Error).message}`,
        { key, cause: error },
      );
    }
    return new Recording(id, key, buffer, requestedAt, settings, report, analysis);
  }

  /** Metadata of the last upload attempt (kept for recover() after a failed stop()). */
  get metadata(): RecordingMetadata | undefined {
    return this.#metadata;
  }

  /** True once a store has the recording. */
  get stored(): boolean {
    return this.#stored;
  }

  /** Notes an upload attempt with `metadata`. */
  uploading(metadata: RecordingMetadata): void {
    this.#metadata = metadata;
  }

  /** Notes that a store has the recording, with the metadata it stored. */
  storedWith(metadata: RecordingMetadata): void {
    this.#metadata = metadata;
    this.#stored = true;
  }

  /** True from `startCapture()` until capture ends (stop, or the source failed). */
  get capturing(): boolean {
    return !this.#captureEnded;
  }

  /**
   * Opens the source and feeds its chunks into the buffer.
   * @throws {RecorderError} `SOURCE_FAILED` when the input cannot be opened (the caller discards
   *   the recording).
   */
  async startCapture(source: AudioSource): Promise<void> {
    try {
      await source.start(
        this.#settings.config,
        (chunk) => this.#onChunk(chunk),
        (error) => this.#onSourceError(error),
      );
    } catch (error) {
      this.#captureEnded = true;
      throw new RecorderError('SOURCE_FAILED', `could not open the input: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * Ends capture: stops `source` (a failure to stop is a warning), keeping the chunks it delivers
   * while stopping and none after, then ends the buffer so its journal is complete and streams flush.
   * @throws {RecorderError} `UPLOAD_FAILED` when the journal cannot be finished.
   */
  async endCapture(source: AudioSource | undefined): Promise<void> {
    if (!this.#captureEnded) this.times.stoppedAt = Date.now();
    try {
      // Chunks the source delivers while it stops (PortAudioSource drains the frames captured up to
      // the stop instant, ~100 ms of them) belong to the recording: capture ends once stop() is done.
      await source?.stop();
    } catch (error) {
      this.#report.warn({
        code: 'SOURCE_STOP_FAILED',
        message: `[audex/recorder] the source failed to stop cleanly: ${(error as Error).message}`,
        cause: error,
      });
    }
    this.#captureEnded = true;
    try {
      this.#ending ??= this.buffer.end();
      await this.#ending;
      this.#facts ??= await this.analysis.finish();
    } catch (error) {
      throw new RecorderError(
        'UPLOAD_FAILED',
        `could not finish the recording's journal: ${(error as Error).message}`,
        { key: this.key, cause: error },
      );
    }
  }

  /** The metadata to store with this recording now. */
  metadataNow(extra: { recovered?: boolean } = {}): RecordingMetadata {
    return buildMetadata(this.buffer, this.times, { ...extra, analysis: this.#facts });
  }

  /** The stored recording as `stop()` returns it; `frames` holds its raw PCM when `returnPcm`. */
  async toSegment(returnPcm: boolean): Promise<AudioSegment> {
    const buffer = this.buffer;
    const { start, end } = recordingSpan(buffer, this.times);
    return {
      key: this.key,
      durationMs: (buffer.frameCount / buffer.rate) * 1000,
      startedAt: new Date(start),
      endedAt: new Date(end),
      frames: returnPcm ? await buffer.read(0, buffer.frameCount) : EMPTY,
    };
  }

  #onChunk(whole: CapturedChunk): void {
    if (this.#captureEnded) return;
    const buffer = this.buffer;
    const room = this.#settings.maxFrames - buffer.frameCount;
    const chunk = whole.frames > room ? cutChunk(whole, room, buffer.bytesPerFrame) : whole;
    const gapsBefore = buffer.gaps.length;
    try {
      buffer.append(chunk);
    } catch (error) {
      const wrapped = new RecorderError(
        'SOURCE_FAILED',
        `the source delivered a chunk the buffer rejected: ${(error as Error).message}`,
        { cause: error },
      );
      this.#report.logger.error({ err: error }, wrapped.message);
      this.#report.emit('error', wrapped);
      return;
    }
    const newGap = buffer.gaps.length > gapsBefore ? buffer.gaps[buffer.gaps.length - 1] : undefined;
    this.analysis.write(chunk.data, newGap?.frames ?? 0);
    if (chunk.overflow || newGap) {
      this.#report.emit('overflow', {
        reason: chunk.overflow ? 'device' : 'gap',
        time: chunk.time,
        overflowCount: buffer.overflowCount,
        gapFrames: newGap?.frames ?? 0,
      });
    }
    if (buffer.frameCount >= this.#settings.maxFrames) this.#reachedMaxDuration();
    if (this.#report.listens('level')) {
      const { sampleFormat, channels } = this.#settings.config;
      this.#report.emit('level', {
        ...measureLevels(chunk.data, sampleFormat, channels, chunk.time),
        momentaryLufs: this.analysis.momentaryLufs,
      });
    }
  }

  #reachedMaxDuration(): void {
    this.#captureEnded = true;
    this.times.stoppedAt = Date.now();
    // As after a source failure: ending the buffer lets streams flush and finish now.
    this.#ending = this.buffer.end();
    this.#ending.catch((endError: unknown) => {
      this.#report.logger.error({ err: endError }, 'audex could not end the buffer at maxDurationMs');
    });
    const durationMs = (this.buffer.frameCount / this.#settings.config.rate) * 1000;
    this.#report.emit('maxDuration', { key: this.key, durationMs });
  }

  #onSourceError(error: Error): void {
    if (this.#captureEnded) return;
    this.#captureEnded = true;
    this.times.stoppedAt = Date.now();
    const capturedMs = (this.buffer.frameCount / this.#settings.config.rate) * 1000;
    const wrapped = new RecorderError(
      'SOURCE_FAILED',
      `the input failed mid-recording (${error.message}); capture ended, call stop() to save the ${capturedMs.toFixed(0)} ms captured`,
      { cause: error, key: this.key },
    );
    this.#report.logger.error({ err: error, key: this.key }, wrapped.message);
    // Ending the buffer lets streams flush and finish now rather than at stop().
    this.#ending = this.buffer.end();
    this.#ending.catch((endError: unknown) => {
      this.#report.logger.error({ err: endError }, 'audex could not end the buffer after a source failure');
    });
    this.#report.emit('error', wrapped);
  }

  static #journalFailed(key: string, error: Error, report: Reporter): void {
    const wrapped = new RecorderError(
      'SPOOL_FAILED',
      `writing the crash journal of ${JSON.stringify(key)} failed: ${error.message}; audio stays in memory but may not survive a crash`,
      { key, cause: error },
    );
    report.logger.error({ err: error, key }, wrapped.message);
    report.emit('error', wrapped);
  }
}

/** The first `frames` frames of `chunk` (same capture time), for a recording that ends inside it. */
function cutChunk(chunk: CapturedChunk, frames: number, bytesPerFrame: number): CapturedChunk {
  const kept = Math.max(0, frames);
  return { ...chunk, frames: kept, data: chunk.data.subarray(0, kept * bytesPerFrame) };
}
