// The recorder's recording room: one recording from start() until a store has it. It takes the
// chunks the Feed gives it (overflow and silence events out; each file's analysis sends the level
// events), keeps its files (one, or with `rotate` a list on one sample clock: a chunk that crosses
// the file limit is split at the exact frame, the next file created meanwhile), uploads each
// rotated file as it closes (then lets it leave the spool once no stream needs it), and keeps the
// timeline going while the device is away (silence up to shortly before "now", merged into one
// gap with the late audio after it).
import type { SpeechRegion } from '@audex/analysis';
import { createWavEncoder } from '@audex/codec';
import { bytesPerFrame, type CapturedChunk } from '@audex/pcm';
import type { Store } from '@audex/store';
import { describeValue, RecorderError } from './errors.js';
import type { RecorderSettings } from './options.js';
import type { ChunkSink } from './pre-roll.js';
import { type FilePlan, RecordingFile } from './recording-file.js';
import { type FileList, type RecordingCursor, RecordingFrames } from './recording-frames.js';
import type { Spool } from './recovery.js';
import type { Reporter } from './report.js';
import { SilenceWatch } from './silence.js';
import { type StoreFormat, storedExtension } from './stored-format.js';

/** Where a recording's journals live (claimed from the Spool). */
export interface RecordingPlace {
  /** Directory of this recording's journal files. */
  readonly dir: string;
  /** Deletes the directory (a recording that never started). */
  remove(): Promise<void>;
}

/**
 * The key a recording's file is stored under: `store.keyBuilder.build(...prefixes, '<name>.<extension>')`
 * (`.wav`, or `.flac` with `storeFormat: 'flac'`).
 * @throws {RecorderError} `INVALID_KEY` for a prefix that is not a non-empty string or that the
 *   key builder rejects.
 */
export function recordingKey(
  store: Store,
  prefixes: readonly string[],
  name: string,
  extension: string,
): string {
  try {
    for (const prefix of prefixes) {
      if (typeof prefix !== 'string' || prefix.length === 0) {
        throw new Error(`key prefixes must be non-empty strings, got ${describeValue(prefix)}`);
      }
    }
    return store.keyBuilder.build(...prefixes, `${name}.${extension}`);
  } catch (error) {
    throw new RecorderError(
      'INVALID_KEY',
      `invalid key prefixes ${JSON.stringify(prefixes)}: ${(error as Error).message}`,
      { field: 'prefixes', cause: error },
    );
  }
}

/** File name (without `.wav`) of file `sequence` of recording `id`: `<id>` alone without rotation. */
export function fileName(id: string, sequence: number | undefined): string {
  return sequence === undefined ? id : `${id}-${String(sequence).padStart(6, '0')}`;
}

// While the device is away, silence is added up to this long before "now": the device's first
// audio (timestamped when its start() resolved) must still come after it, so the two make one gap.
const AWAY_MARGIN_MS = 250;
const AWAY_STEP_MS = 100;

/** The first `frames` frames of `chunk` (same capture time), for a recording that ends inside it. */
function cutChunk(chunk: CapturedChunk, frames: number, bytesPerFrame: number): CapturedChunk {
  const kept = Math.max(0, frames);
  return { ...chunk, frames: kept, data: chunk.data.subarray(0, kept * bytesPerFrame) };
}

/** Frames per file for the rotation limits (Infinity without rotation). */
function fileLimitFrames(settings: RecorderSettings): number {
  const rotate = settings.rotate;
  if (!rotate) return Number.POSITIVE_INFINITY;
  const { rate, channels, sampleFormat } = settings.config;
  let frames = Math.max(1, Math.round((rotate.everyMs * rate) / 1000));
  if (Number.isFinite(rotate.maxBytes)) {
    const bpf = bytesPerFrame(sampleFormat, channels);
    const header = (totalFrames: number) =>
      createWavEncoder({ rate, channels, sampleFormat, totalFrames }).write(new Uint8Array(0)).byteLength;
    // The header is larger for RF64 (beyond 4 GiB); one pad byte for an odd data size. A FLAC file
    // is counted as the WAV it encodes (it is smaller but for noise, where it can be a little larger).
    let byBytes = Math.floor((rotate.maxBytes - header(0) - 1) / bpf);
    byBytes = Math.floor((rotate.maxBytes - header(byBytes) - 1) / bpf);
    frames = Math.min(frames, Math.max(1, byBytes));
  }
  return frames;
}

/** One recording: its files, capture state and wall-clock facts. */
export class Recording implements ChunkSink, FileList {
  /** Recording id (its spool directory is named after it). */
  readonly id: string;
  /** Store key of its first file (what `start()` returned). */
  readonly key: string;
  /** Its frames across files, for `stream()` and `segment()`. */
  readonly frames: RecordingFrames;
  readonly #place: RecordingPlace;
  readonly #prefixes: readonly string[];
  readonly #settings: RecorderSettings;
  readonly #report: Reporter;
  readonly #spool: Spool;
  readonly #limit: number;
  readonly #silence: SilenceWatch | undefined;
  /** Files still in the spool, oldest first. */
  #files: RecordingFile[];
  /** The next file while it is being created, and the chunks waiting for it. */
  #opening: { file: Promise<RecordingFile>; queue: CapturedChunk[] } | undefined;
  #fileWaiters: (() => void)[] = [];
  #cursors = new Set<RecordingCursor>();
  /** Uploads of rotated files, in order. */
  #uploads: Promise<void> = Promise.resolve();
  #captureEnded = false;
  #overflows = 0;
  #away: NodeJS.Timeout | undefined;

  private constructor(
    params: { id: string; prefixes: readonly string[]; place: RecordingPlace; first: RecordingFile },
    settings: RecorderSettings,
    report: Reporter,
    spool: Spool,
  ) {
    this.id = params.id;
    this.key = params.first.key;
    this.#place = params.place;
    this.#prefixes = params.prefixes;
    this.#files = [params.first];
    this.#settings = settings;
    this.#report = report;
    this.#spool = spool;
    this.#limit = fileLimitFrames(settings);
    this.#silence = settings.silence
      ? new SilenceWatch(settings.silence, settings.config, report)
      : undefined;
    this.frames = new RecordingFrames(this);
  }

  /**
   * Creates the recording's first file in `place` (nothing is captured yet).
   * @throws {RecorderError} `SPOOL_FAILED`, `ANALYSIS_FAILED`; `place` is removed.
   */
  static async create(
    params: { id: string; prefixes: readonly string[]; place: RecordingPlace },
    settings: RecorderSettings,
    report: Reporter,
    spool: Spool,
  ): Promise<Recording> {
    const { id, prefixes, place } = params;
    const sequence = settings.rotate ? 0 : undefined;
    const key = recordingKey(
      settings.store,
      prefixes,
      fileName(id, sequence),
      storedExtension(settings.storeFormat),
    );
    let first: RecordingFile;
    try {
      first = await RecordingFile.create(
        Recording.#plan(place.dir, id, key, sequence, null, 0, Date.now(), settings.storeFormat),
        settings,
        report,
      );
    } catch (error) {
      await place.remove().catch(() => {});
      throw error;
    }
    return new Recording({ id, prefixes, place, first }, settings, report, spool);
  }

  static #plan(
    dir: string,
    id: string,
    key: string,
    sequence: number | undefined,
    previousKey: string | null,
    firstFrame: number,
    requestedAt: number,
    storeFormat: StoreFormat,
  ): FilePlan {
    return {
      dir,
      journalId: sequence ? fileName(id, sequence) : id,
      key,
      firstFrame,
      facts:
        sequence === undefined
          ? { key, requestedAt, storeFormat }
          : { key, requestedAt, storeFormat, sequence, previousKey, recordingId: id },
    };
  }

  /** Files still in the spool, oldest first (the last is the one being recorded). */
  get files(): readonly RecordingFile[] {
    return this.#files;
  }

  /** The file being recorded (or the last one). */
  get current(): RecordingFile {
    return this.#files.at(-1)!;
  }

  /** True from the first chunk until capture ends (stop, or the input ended for good). */
  get capturing(): boolean {
    return !this.#captureEnded;
  }

  /** Speech regions (option `vad`) of the files still held, in ms from the recording's first frame. */
  get speech(): SpeechRegion[] {
    const rate = this.#settings.config.rate;
    return this.#files.flatMap((file) => {
      const offsetMs = (file.firstFrame / rate) * 1000;
      return file.analysis.speech.map((r) => ({
        ...r,
        startMs: r.startMs + offsetMs,
        endMs: r.endMs + offsetMs,
      }));
    });
  }

  /** Frames on the whole recording's timeline, gaps included. */
  get frameCount(): number {
    return this.frames.frameCount;
  }

  /** Takes a chunk from the Feed. */
  write(whole: CapturedChunk): void {
    if (this.#captureEnded) return;
    // maxDurationMs: the chunk that crosses it is cut there, and capture ends.
    const queued = this.#opening?.queue.reduce((n, c) => n + c.frames, 0) ?? 0;
    const left = this.#settings.maxFrames - this.frameCount - queued;
    const chunk = whole.frames > left ? cutChunk(whole, left, this.current.buffer.bytesPerFrame) : whole;
    this.#silence?.write(chunk.data, chunk.frames, chunk.time);
    this.#route(chunk);
    if (chunk !== whole || this.frameCount + queued >= this.#settings.maxFrames) this.#reachedMaxDuration();
  }

  #reachedMaxDuration(): void {
    if (this.#captureEnded) return;
    const durationMs = (this.#settings.maxFrames / this.#settings.config.rate) * 1000;
    // As when the input ends: streams flush and finish now; stop() saves the recording.
    this.endCapture(Date.now()).catch((error: unknown) => {
      this.#report.logger.error({ err: error }, 'audex could not end the recording at maxDurationMs');
    });
    this.#report.emit('maxDuration', { key: this.current.key, durationMs });
  }

  /** Queues a chunk while the next file is being created, else appends it. */
  #route(chunk: CapturedChunk): void {
    if (this.#opening) this.#opening.queue.push(chunk);
    else this.#appendSplit(chunk);
  }

  /** Appends a chunk to the current file, splitting it where a rotation falls. */
  #appendSplit(chunk: CapturedChunk): void {
    const file = this.current;
    // Rotation is lazy: the next file begins with the first frame past the limit, so a recording
    // that stops right at a limit has no empty last file.
    const room = this.#limit - file.buffer.frameCount;
    if (chunk.frames <= room) {
      this.#append(file, chunk);
      return;
    }
    const bpf = file.buffer.bytesPerFrame;
    const split = Math.max(0, room);
    if (split > 0) this.#append(file, { ...chunk, data: chunk.data.subarray(0, split * bpf), frames: split });
    const rest: CapturedChunk = {
      data: chunk.data.subarray(split * bpf),
      frames: chunk.frames - split,
      time: chunk.time + (split / this.#settings.config.rate) * 1000,
    };
    if (split === 0 && chunk.overflow) rest.overflow = true;
    this.#rotate(rest.time);
    this.#opening!.queue.push(rest);
  }

  /** The device was lost: keep the timeline going with silence until it is back. */
  inputLost(): void {
    if (this.#captureEnded || this.#away) return;
    const pad = (): void => {
      if (this.#captureEnded || this.#opening) return;
      try {
        this.current.appendGap(Date.now() - AWAY_MARGIN_MS);
      } catch (error) {
        this.#report.logger.error({ err: error }, 'audex could not add silence for the lost device');
      }
    };
    this.#away = setInterval(pad, AWAY_STEP_MS).unref();
  }

  /** The device is open again (its audio follows): stop adding silence. */
  inputBack(): void {
    clearInterval(this.#away);
    this.#away = undefined;
  }

  /**
   * The input ended for good (no reconnect, or it gave up): capture ends now, streams flush, and
   * an `'error'` event says so; `stop()` saves what was captured.
   */
  inputEnded(why: string, cause: unknown): void {
    if (this.#captureEnded) return;
    const capturedMs = (this.frameCount / this.#settings.config.rate) * 1000;
    const error = new RecorderError(
      'SOURCE_FAILED',
      `${why}; capture ended, call stop() to save the ${capturedMs.toFixed(0)} ms captured`,
      { cause, key: this.current.key },
    );
    this.#report.logger.error({ err: cause, key: this.current.key }, error.message);
    this.endCapture(Date.now()).catch((endError: unknown) => {
      this.#report.logger.error({ err: endError }, 'audex could not end the recording after the input ended');
    });
    this.#report.emit('error', error);
  }

  /**
   * Ends capture (idempotent): no chunk is taken after this; the file being created is finished
   * with its queued chunks; the last file ends (its journal complete, streams flush).
   * @throws {RecorderError} `UPLOAD_FAILED` when the journal cannot be finished.
   */
  async endCapture(stoppedAt: number): Promise<void> {
    this.inputBack();
    this.#captureEnded = true;
    while (this.#opening) await this.#opening.file.catch(() => {});
    await this.current.end(stoppedAt);
    this.#wakeFileWaiters();
  }

  /**
   * Ends capture and stores what is not stored yet: waits for the rotated files' uploads, then
   * uploads the last file (a `stored` event). What cannot be finished or stored stays in the spool
   * for recover().
   * @returns the last file.
   * @throws {RecorderError} `UPLOAD_FAILED` when the last file could not be finished or stored.
   */
  async finish(stoppedAt: number): Promise<RecordingFile> {
    try {
      await this.endCapture(stoppedAt);
    } catch (error) {
      // What was captured is still readable: keep it for recover() like a failed upload.
      this.#spool.keep(this.current);
      throw error;
    }
    await this.#uploads;
    const file = this.current;
    // A last file whose next one could not be created was already uploaded with the rotation.
    if (file.stored) return file;
    try {
      await this.#spool.save(file);
    } catch (error) {
      this.#spool.keep(file);
      this.#report.logger.error(
        { err: error, key: file.key },
        'audex upload failed; recording kept in the spool',
      );
      throw error;
    }
    this.#report.emit('stored', { key: file.key, metadata: file.metadata! });
    return file;
  }

  /** The file after `file` once it exists; `null` when the recording will have none. */
  async fileAfter(file: RecordingFile): Promise<RecordingFile | null> {
    for (;;) {
      const files = this.#files;
      const i = files.indexOf(file);
      if (i >= 0 && i + 1 < files.length) return files[i + 1]!;
      if (this.#captureEnded && !this.#opening) return null;
      await new Promise<void>((resolve) => this.#fileWaiters.push(resolve));
    }
  }

  /** Stored rotated files that no cursor still needs leave the spool. */
  cursorMoved(): void {
    for (const cursor of this.#cursors) if (cursor.closed) this.#cursors.delete(cursor);
    void this.#releaseStored();
  }

  /** Opens a cursor on the frame axis (see output.ts). */
  cursor(startFrame: number): RecordingCursor {
    const cursor = this.frames.cursor({ startFrame });
    this.#cursors.add(cursor);
    return cursor;
  }

  #append(file: RecordingFile, chunk: CapturedChunk): void {
    let gapFrames: number;
    try {
      gapFrames = file.append(chunk);
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
    if (chunk.overflow) this.#overflows++;
    if (chunk.overflow || gapFrames > 0) {
      this.#report.emit('overflow', {
        reason: chunk.overflow ? 'device' : 'gap',
        time: chunk.time,
        overflowCount: this.#overflows,
        gapFrames,
      });
    }
  }

  /** Closes the current file at `time` and begins the next; chunks queue until it exists. */
  #rotate(time: number): void {
    const closing = this.current;
    const sequence = (closing.facts.sequence ?? 0) + 1;
    const key = recordingKey(
      this.#settings.store,
      this.#prefixes,
      fileName(this.id, sequence),
      storedExtension(this.#settings.storeFormat),
    );
    const plan = Recording.#plan(
      this.#place.dir,
      this.id,
      key,
      sequence,
      closing.key,
      closing.firstFrame + closing.buffer.frameCount,
      time,
      this.#settings.storeFormat,
    );
    const queue: CapturedChunk[] = [];
    const file = RecordingFile.create(plan, this.#settings, this.#report);
    this.#opening = { file, queue };
    file.then(
      (next) => {
        this.#files.push(next);
        this.#opening = undefined;
        this.#wakeFileWaiters();
        this.#report.emit('rotated', { key, sequence, previousKey: closing.key });
        for (const chunk of queue) this.#route(chunk);
      },
      (error: unknown) => {
        // The next file could not be created (a full disk): capture ends here; stop() saves the
        // files there are.
        this.#opening = undefined;
        this.#captureEnded = true;
        this.#wakeFileWaiters();
        this.#report.logger.error({ err: error }, 'audex could not open the next file of a rotation');
        this.#report.emit(
          'error',
          error instanceof RecorderError
            ? error
            : new RecorderError('SPOOL_FAILED', `could not open the next file: ${(error as Error).message}`, {
                cause: error,
              }),
        );
      },
    );
    this.#uploads = this.#uploads.then(() => this.#store(closing, time));
  }

  /** Ends and uploads a rotated file; a failure keeps it in the spool for recover(). */
  async #store(file: RecordingFile, endedAt: number): Promise<void> {
    try {
      await file.end(endedAt);
      this.#wakeFileWaiters();
      await this.#spool.save(file);
    } catch (error) {
      this.#spool.keep(file);
      this.#report.logger.error(
        { err: error, key: file.key },
        'audex upload of a rotated file failed; it stays in the spool',
      );
      this.#report.emit(
        'error',
        error instanceof RecorderError
          ? error
          : new RecorderError('UPLOAD_FAILED', (error as Error).message, { key: file.key, cause: error }),
      );
      return;
    }
    this.#report.emit('stored', { key: file.key, metadata: file.metadata! });
    await this.#releaseStored();
  }

  async #releaseStored(): Promise<void> {
    const last = this.current;
    for (const file of [...this.#files]) {
      if (file === last || !file.stored) continue;
      if ([...this.#cursors].some((cursor) => cursor.needs(file))) continue;
      this.#files = this.#files.filter((f) => f !== file);
      await this.#spool.release(file).catch((error: unknown) => {
        this.#report.logger.warn(
          { err: error, key: file.key },
          'audex could not delete a stored file from the spool',
        );
      });
    }
  }

  #wakeFileWaiters(): void {
    const waiters = this.#fileWaiters;
    this.#fileWaiters = [];
    for (const wake of waiters) wake();
  }
}
