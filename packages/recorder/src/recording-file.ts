// Part of the recording room: one stored file of a recording. Without rotation a recording is one
// file; with `rotate` it is several, one after the other on one sample clock. Each file owns its
// FrameBuffer (journaled in the recording's spool directory under its own journal id, with its key
// and place in the recording in the journal header, so crash recovery stores it under the same key
// with the same metadata), its live analysis, its wall-clock facts and its upload state.
import { FrameBuffer } from '@audex/buffer';
import type { CapturedChunk } from '@audex/pcm';
import { type AnalysisFacts, RecordingAnalysis } from './analysis.js';
import { RecorderError } from './errors.js';
import { buildMetadata, type RecordingTimes, recordingSpan } from './metadata.js';
import type { RecorderSettings } from './options.js';
import type { Reporter } from './report.js';
import type { StoreFormat } from './stored-format.js';
import type { AudioSegment, RecordingMetadata } from './types.js';

/** What a file's journal header keeps (`FrameBuffer` meta), read back by crash recovery. */
export interface JournalFacts {
  /** Store key of the file. */
  key: string;
  /** When the file was begun (`start()`, or the rotation), ms since the Unix epoch. */
  requestedAt: number;
  /** The format it is stored as (recovery stores it the same way). */
  storeFormat: StoreFormat;
  /** With rotation: the file's place in its recording, from 0. */
  sequence?: number;
  /** With rotation: the key of the file before (`null` for the first). */
  previousKey?: string | null;
  /** With rotation: the recording's id, shared by its files. */
  recordingId?: string;
}

/** Rotation facts of a journal header as stored metadata (`{}` for a recording without rotation). */
export function rotationMetadata(meta: Record<string, unknown>): Partial<RecordingMetadata> {
  if (typeof meta.sequence !== 'number') return {};
  return {
    sequence: meta.sequence,
    previous_key: typeof meta.previousKey === 'string' ? meta.previousKey : null,
    ...(typeof meta.recordingId === 'string' ? { recording_id: meta.recordingId } : {}),
  };
}

const EMPTY = new Uint8Array(0);

/** Where a file goes and what comes before it. */
export interface FilePlan {
  /** Directory of the recording's journals. */
  dir: string;
  /** Journal id (the recording's id for its first file). */
  journalId: string;
  key: string;
  /** Facts for the journal header. */
  facts: JournalFacts;
  /** First frame of this file on the recording's frame axis. */
  firstFrame: number;
}

/** One stored file of a recording. */
export class RecordingFile {
  /** Store key. */
  readonly key: string;
  /** First frame of this file on the recording's frame axis (the frames of the files before it). */
  readonly firstFrame: number;
  /** The file's frames, journaled. */
  readonly buffer: FrameBuffer;
  /** Loudness and speech regions of this file. */
  readonly analysis: RecordingAnalysis;
  /** When the file was begun and when it ended. */
  readonly times: RecordingTimes;
  /** What its journal header says (key, sequence, previous key). */
  readonly facts: JournalFacts;
  /** Audio before the `start()` call in ms (pre-roll; first file only), or undefined. */
  preRollMs: number | undefined;
  #facts: AnalysisFacts | undefined;
  #metadata: RecordingMetadata | undefined;
  #stored = false;
  #ending: Promise<void> | undefined;

  private constructor(plan: FilePlan, buffer: FrameBuffer, analysis: RecordingAnalysis) {
    this.key = plan.key;
    this.firstFrame = plan.firstFrame;
    this.buffer = buffer;
    this.analysis = analysis;
    this.facts = plan.facts;
    this.times = { requestedAt: plan.facts.requestedAt, stoppedAt: plan.facts.requestedAt };
  }

  /**
   * Creates the file's journal (nothing is captured yet).
   * @throws {RecorderError} `SPOOL_FAILED` when the journal cannot be created; `ANALYSIS_FAILED`.
   */
  static async create(plan: FilePlan, settings: RecorderSettings, report: Reporter): Promise<RecordingFile> {
    const { key } = plan;
    const analysis = await RecordingAnalysis.create(key, settings.config, settings.vad, report);
    let buffer: FrameBuffer;
    try {
      buffer = await FrameBuffer.create({
        spoolDir: plan.dir,
        id: plan.journalId,
        sampleFormat: settings.config.sampleFormat,
        channels: settings.config.channels,
        rate: settings.config.rate,
        memoryMs: settings.memoryMs,
        flushIntervalMs: settings.flushIntervalMs,
        meta: { ...plan.facts, config: { ...settings.config } },
        onError: (error) => RecordingFile.#journalFailed(key, error, report),
      });
    } catch (error) {
      throw new RecorderError(
        'SPOOL_FAILED',
        `could not create the journal in ${settings.spoolDir}: ${(error as Error).message}`,
        { key, cause: error },
      );
    }
    return new RecordingFile(plan, buffer, analysis);
  }

  /** Metadata of the last upload attempt (kept for recover() after a failed upload). */
  get metadata(): RecordingMetadata | undefined {
    return this.#metadata;
  }

  /** True once a store has the file. */
  get stored(): boolean {
    return this.#stored;
  }

  /** True once {@link RecordingFile.end} was called. */
  get ending(): boolean {
    return this.#ending !== undefined;
  }

  /** Notes an upload attempt with `metadata`. */
  uploading(metadata: RecordingMetadata): void {
    this.#metadata = metadata;
  }

  /** Notes that a store has the file, with the metadata it stored. */
  storedWith(metadata: RecordingMetadata): void {
    this.#metadata = metadata;
    this.#stored = true;
  }

  /**
   * Appends a chunk and meters it.
   * @returns the silence frames the buffer put before it (lost input).
   * @throws {BufferError} from `FrameBuffer.append` (nothing appended).
   */
  append(chunk: CapturedChunk): number {
    const before = this.buffer.frameCount;
    this.buffer.append(chunk);
    const gapFrames = this.buffer.frameCount - before - chunk.frames;
    this.analysis.add(chunk, gapFrames);
    return gapFrames;
  }

  /** Extends the file with silence up to `time` (the input is away); returns the frames added. */
  appendGap(time: number): number {
    const frames = this.buffer.appendGap(time);
    if (frames > 0) this.analysis.add(undefined, frames);
    return frames;
  }

  /**
   * Ends the file (idempotent): its journal is complete, streams see its end, analysis is done.
   * @throws {RecorderError} `UPLOAD_FAILED` when the journal cannot be finished.
   */
  async end(stoppedAt: number): Promise<void> {
    if (this.#ending === undefined) {
      this.times.stoppedAt = stoppedAt;
      this.#ending = (async () => {
        await this.buffer.end();
        this.#facts = await this.analysis.finish();
      })();
    }
    try {
      await this.#ending;
    } catch (error) {
      throw new RecorderError(
        'UPLOAD_FAILED',
        `could not finish the recording's journal: ${(error as Error).message}`,
        { key: this.key, cause: error },
      );
    }
  }

  /** The metadata to store with this file now. */
  metadataNow(extra: { recovered?: boolean } = {}): RecordingMetadata {
    const metadata = buildMetadata(this.buffer, this.times, { ...extra, analysis: this.#facts });
    if (this.preRollMs !== undefined) metadata.pre_roll_ms = Math.round(this.preRollMs);
    return Object.assign(metadata, rotationMetadata(this.buffer.meta));
  }

  /** The stored file as `stop()` returns it; `frames` holds its raw PCM when `returnPcm`. */
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
