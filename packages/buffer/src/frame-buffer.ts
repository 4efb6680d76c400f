// The public FrameBuffer: one recording's timestamped frames. It validates every call, places
// chunks on the Timeline (gaps filled with silence), hands their bytes to the FrameStore (RAM ring +
// journal data file), makes them durable every flushIntervalMs, and serves reads, time-range reads,
// cursors and streams. A recovered (read-only) buffer is built by journal-reader.ts through the
// same constructor.
import { bytesPerFrame, type CapturedChunk, type SampleFormat } from '@audex/pcm';
import {
  BufferCursor,
  ChangeSignal,
  type Cursor,
  type CursorOptions,
  type CursorSource,
  type FrameStreamOptions,
  readInChunks,
} from './cursor.js';
import { BufferError } from './errors.js';
import { FrameStore } from './frame-store.js';
import type { HeaderRecord } from './journal-format.js';
import { type FrameBufferOptions, resolveOptions } from './options.js';
import { type Gap, Timeline } from './timeline.js';

/** Options of {@link FrameBuffer.readTimeRange}. */
export interface TimeRangeOptions {
  /**
   * Clamp a range reaching outside the recording to the recorded part instead of failing.
   * A range with no recorded part still fails. Default `false`.
   */
  clamp?: boolean;
}

/** The result of {@link FrameBuffer.readTimeRange}. */
export interface TimeRangeRead {
  /** First frame whose capture time is >= the range start. */
  startFrame: number;
  /** First frame whose capture time is >= the range end (exclusive end). */
  endFrame: number;
  /** Interleaved bytes of frames [startFrame, endFrame). */
  data: Uint8Array;
}

/**
 * What a FrameBuffer is made of (internal): built by {@link FrameBuffer.create}, or by the journal
 * reader for a recovered recording.
 */
export interface FrameBufferParts {
  /** The journal header: id, shape, meta. */
  header: HeaderRecord;
  /** Directory of the journal files. */
  spoolDir: string;
  timeline: Timeline;
  store: FrameStore;
  capturedFrames: number;
  overflowCount: number;
  /** True for a recovered buffer (read-only). */
  ended: boolean;
  /** Flush period in ms; `null` for a recovered buffer (nothing to flush). */
  flushIntervalMs: number | null;
  onError: ((error: Error) => void) | undefined;
}

function checkFrame(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new BufferError(
      'INVALID_ARGUMENT',
      `${name} must be an integer frame index >= 0, got ${String(value)}`,
    );
  }
  return value;
}

function checkTime(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new BufferError(
      'INVALID_ARGUMENT',
      `${name} must be a finite number of ms since the epoch, got ${String(value)}`,
    );
  }
  return value;
}

/** Checks a chunk holds whole frames of `shape` and a finite capture time. */
function checkChunk(
  chunk: CapturedChunk,
  shape: { bytesPerFrame: number; channels: number; sampleFormat: SampleFormat },
): void {
  if (chunk === null || typeof chunk !== 'object' || !(chunk.data instanceof Uint8Array)) {
    throw new BufferError('INVALID_CHUNK', 'chunk must be an object with data: Uint8Array');
  }
  const { data, frames, time } = chunk;
  if (!Number.isInteger(frames) || frames < 0) {
    throw new BufferError('INVALID_CHUNK', `chunk.frames must be an integer >= 0, got ${String(frames)}`);
  }
  if (data.byteLength !== frames * shape.bytesPerFrame) {
    throw new BufferError(
      'INVALID_CHUNK',
      `chunk.data has ${data.byteLength} bytes but ${frames} frames of ${shape.channels}-channel ${shape.sampleFormat} take ${frames * shape.bytesPerFrame}`,
    );
  }
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new BufferError(
      'INVALID_CHUNK',
      `chunk.time must be a finite number of ms since the epoch, got ${String(time)}`,
    );
  }
}

/** Checks frames [startFrame, endFrame) are a forward range within `available` frames. */
function checkFrameRange(startFrame: number, endFrame: number, available: number): void {
  checkFrame('startFrame', startFrame);
  checkFrame('endFrame', endFrame);
  if (endFrame < startFrame) {
    throw new BufferError(
      'REVERSED_RANGE',
      `frame range is reversed: end ${endFrame} is before start ${startFrame}`,
      { startFrame, endFrame },
    );
  }
  if (endFrame > available) {
    throw new BufferError(
      'OUT_OF_RANGE',
      `frames ${startFrame}..${endFrame} reach past the recorded data (0..${available})`,
      { startFrame, endFrame },
    );
  }
}

/**
 * The journal entries for gaps since the last commit: the extension of the last committed gap if
 * it grew (the reader merges it back), then every new gap.
 */
function gapsToCommit(
  all: readonly Gap[],
  committed: number,
  committedFrames: number,
): [number, number, number, number][] {
  const out: [number, number, number, number][] = [];
  const grown = all[committed - 1];
  if (grown !== undefined && grown.frames > committedFrames) {
    const ms = grown.durationMs / grown.frames;
    const frames = grown.frames - committedFrames;
    out.push([
      grown.startFrame + committedFrames,
      frames,
      grown.startTime + committedFrames * ms,
      frames * ms,
    ]);
  }
  for (const g of all.slice(committed)) out.push([g.startFrame, g.frames, g.startTime, g.durationMs]);
  return out;
}

/**
 * The timestamped frame store of one recording.
 *
 * - {@link FrameBuffer.append} copies a chunk into a ring of fixed-size RAM blocks and places it on the
 *   {@link Timeline}; it never waits on disk or readers.
 * - A background writer streams full blocks to the spool file, and every `flushIntervalMs` commits
 *   them (fsync + checksummed journal record). Blocks older than `memoryMs` are dropped from RAM
 *   once on disk; if the disk lags a very fast producer, `append` writes synchronously instead of
 *   holding more memory (memory is bounded; that append is slower).
 * - Reads of any range copy from RAM and/or read the spool file: O(log anchors + frames read),
 *   independent of the recording length.
 */
export class FrameBuffer {
  /** Recording id (journal files are named after it). */
  readonly id: string;
  /** Sample format of the stored frames. */
  readonly sampleFormat: SampleFormat;
  /** Interleaved channels per frame. */
  readonly channels: number;
  /** Nominal sample rate, Hz. */
  readonly rate: number;
  /** Bytes per frame (`channels × bytes per sample`). */
  readonly bytesPerFrame: number;
  /** Opaque JSON given at creation (a copy), kept in the journal header. */
  readonly meta: Record<string, unknown>;
  /** Directory holding this recording's journal files. */
  readonly spoolDir: string;
  readonly #timeline: Timeline;
  readonly #store: FrameStore;
  readonly #onError: ((error: Error) => void) | undefined;
  /** What cursors read through (keeps `changed`/`unusableError` off the public API). */
  readonly #cursorSource: CursorSource;
  #capturedFrames: number;
  #overflowCount: number;
  #ended: boolean;
  #cleared = false;
  #closed = false;
  readonly #changes = new ChangeSignal();
  #flushChain: Promise<void> = Promise.resolve();
  #committedAnchors = 0;
  #committedGaps = 0;
  /** Frames of the last committed gap when it was committed (a fill may extend it since). */
  #committedGapFrames = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #endPromise: Promise<void> | null = null;

  /**
   * Use {@link FrameBuffer.create}, or `readJournals()` for a recovered recording.
   * @hidden
   */
  constructor(parts: FrameBufferParts) {
    const { header } = parts;
    this.id = header.id;
    this.sampleFormat = header.sampleFormat;
    this.channels = header.channels;
    this.rate = header.rate;
    this.bytesPerFrame = bytesPerFrame(header.sampleFormat, header.channels);
    this.meta = header.meta;
    this.spoolDir = parts.spoolDir;
    this.#onError = parts.onError;
    this.#timeline = parts.timeline;
    this.#store = parts.store;
    this.#capturedFrames = parts.capturedFrames;
    this.#overflowCount = parts.overflowCount;
    this.#ended = parts.ended;
    const self = this;
    this.#cursorSource = {
      get frameCount() {
        return self.#store.frameCount;
      },
      get ended() {
        return self.#ended;
      },
      read: (start, end) => this.read(start, end),
      changed: () => this.#changes.next(),
      unusableError: () => this.#unusableError(),
    };
    if (parts.flushIntervalMs !== null && !parts.ended) this.#startTimer(parts.flushIntervalMs);
  }

  /**
   * Creates a buffer and its journal files (`<spoolDir>/<id>.pcm`, `<spoolDir>/<id>.journal`); the
   * header (format, rate, channels, meta) is durable when this resolves.
   * @throws {BufferError} `INVALID_OPTIONS` for a bad option (nothing is created); `IO_ERROR` when the
   * files cannot be created (e.g. a recording with this id already exists in `spoolDir`).
   */
  static async create(options: FrameBufferOptions): Promise<FrameBuffer> {
    const o = resolveOptions(options);
    const header: HeaderRecord = {
      version: 1,
      id: o.id,
      sampleFormat: o.sampleFormat,
      channels: o.channels,
      rate: o.rate,
      meta: o.meta,
      createdAt: Date.now(),
    };
    const bpf = bytesPerFrame(o.sampleFormat, o.channels);
    const store = await FrameStore.create(o.spoolDir, header, bpf, o);
    return new FrameBuffer({
      header,
      spoolDir: o.spoolDir,
      timeline: new Timeline(o.rate),
      store,
      capturedFrames: 0,
      overflowCount: 0,
      ended: false,
      flushIntervalMs: o.flushIntervalMs,
      onError: o.onError,
    });
  }

  /** Frames on the timeline: captured frames plus silence filled into gaps. */
  get frameCount(): number {
    return this.#store.frameCount;
  }

  /** Frames actually captured (appended by chunks). */
  get capturedFrames(): number {
    return this.#capturedFrames;
  }

  /** Capture time of frame 0, ms since the Unix epoch; null until the first chunk. */
  get startTime(): number | null {
    return this.#timeline.startTime;
  }

  /** Time just after the last frame (the time of frame `frameCount`), ms epoch; null until the first chunk. */
  get endTime(): number | null {
    return this.#timeline.anchorCount === 0 ? null : this.#timeline.timeOf(this.frameCount);
  }

  /** Duration on the timeline in ms, from the sample count (`frameCount / rate`). */
  get durationMs(): number {
    return (this.frameCount * 1000) / this.rate;
  }

  /** Chunks that arrived with `overflow: true`. */
  get overflowCount(): number {
    return this.#overflowCount;
  }

  /** Lost input kept on the timeline as silence, oldest first. */
  get gaps(): readonly Gap[] {
    return this.#timeline.gaps;
  }

  /** True after {@link FrameBuffer.end} (and for recovered buffers): no more appends. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Frames made durable in the journal by the last flush. */
  get durableFrames(): number {
    return this.#store.durableFrames;
  }

  /**
   * Appends a captured chunk: synchronous, O(1) amortised, never waits on disk or readers (but see
   * the class notes on a producer faster than the disk). Input lost before the chunk (overflow, or
   * a capture time later than expected) is filled with silence and recorded in {@link FrameBuffer.gaps}.
   * @throws {BufferError} `INVALID_CHUNK` for a malformed chunk (nothing is appended); `ENDED` after
   * `end()`; `CLEARED` after `clear()`; `IO_ERROR` when the spool cannot be written.
   */
  append(chunk: CapturedChunk): void {
    this.#checkUsable();
    if (this.#ended) throw new BufferError('ENDED', 'cannot append: the buffer has ended (end() was called)');
    checkChunk(chunk, this);
    const { data, frames, time } = chunk;
    if (chunk.overflow === true) this.#overflowCount++;
    if (frames === 0) return;
    const silence = this.#timeline.place(this.frameCount, time, frames, chunk.overflow === true);
    if (silence > 0) this.#store.append(null, silence * this.bytesPerFrame);
    this.#store.append(data, data.byteLength);
    this.#capturedFrames += frames;
    this.#changes.notify();
  }

  /**
   * Extends the recording with silence up to the capture time `untilTime` (ms since the Unix epoch),
   * kept as a gap: for input the source cannot deliver (its device is away), so cursors and live
   * streams keep their clock meanwhile. Consecutive calls, and a late chunk right after them, make
   * one gap. Does nothing before the first chunk or when `untilTime` is not past the end.
   * @returns the frames of silence added.
   * @throws {BufferError} `ENDED`, `CLEARED`, `CLOSED`; `INVALID_ARGUMENT` for a non-finite time;
   * `IO_ERROR` when the spool cannot be written.
   */
  appendGap(untilTime: number): number {
    this.#checkUsable();
    if (this.#ended) throw new BufferError('ENDED', 'cannot append: the buffer has ended (end() was called)');
    checkTime('untilTime', untilTime);
    const silence = this.#timeline.fill(this.frameCount, untilTime);
    if (silence > 0) {
      this.#store.append(null, silence * this.bytesPerFrame);
      this.#changes.notify();
    }
    return silence;
  }

  /**
   * Capture time of `frame` (ms since the Unix epoch, fractional): piecewise linear over the
   * timeline's anchors, O(log anchors). Frames past the end extrapolate at the nominal rate.
   * @throws {BufferError} `OUT_OF_RANGE` before the first chunk; `INVALID_ARGUMENT` for a bad index.
   */
  timeOf(frame: number): number {
    checkFrame('frame', frame);
    return this.#timeline.timeOf(frame);
  }

  /**
   * The first frame whose capture time is >= `timeMs` (0 for times before the start;
   * may be past `frameCount` for future times). O(log anchors).
   * @throws {BufferError} `OUT_OF_RANGE` before the first chunk; `INVALID_ARGUMENT` for a non-finite time.
   */
  frameAt(timeMs: number): number {
    checkTime('time', timeMs);
    return this.#timeline.frameAt(timeMs);
  }

  /**
   * Reads exactly frames [startFrame, endFrame) as interleaved bytes in the buffer's format, from RAM
   * and/or the spool file. O(frames read); a fresh array the caller owns.
   * @throws {BufferError} `REVERSED_RANGE`, `OUT_OF_RANGE` (past `frameCount`), `INVALID_ARGUMENT`,
   * `CLEARED`, `CLOSED`, `IO_ERROR`.
   */
  async read(startFrame: number, endFrame: number): Promise<Uint8Array> {
    this.#checkUsable();
    checkFrameRange(startFrame, endFrame, this.frameCount);
    try {
      return await this.#store.read(startFrame, endFrame);
    } finally {
      // A clear() or close() while the disk read waited wins over its result (or its error).
      this.#checkUsable();
    }
  }

  /**
   * Reads the frames whose capture time t satisfies `startMs <= t < endMs`.
   * @throws {BufferError} `REVERSED_RANGE` when `endMs < startMs`; `OUT_OF_RANGE` when the range reaches
   * before {@link FrameBuffer.startTime} or after {@link FrameBuffer.endTime} (unless `clamp`), or the
   * buffer is empty; `CLEARED`, `CLOSED`, `IO_ERROR`.
   */
  async readTimeRange(
    startMs: number,
    endMs: number,
    options: TimeRangeOptions = {},
  ): Promise<TimeRangeRead> {
    this.#checkUsable();
    checkTime('startMs', startMs);
    checkTime('endMs', endMs);
    if (endMs < startMs) {
      throw new BufferError(
        'REVERSED_RANGE',
        `time range is reversed: end ${endMs} is before start ${startMs}`,
      );
    }
    const first = this.startTime;
    const last = this.endTime;
    if (first === null || last === null) {
      throw new BufferError('OUT_OF_RANGE', 'the buffer is empty: no chunk has been appended');
    }
    let from = startMs;
    let to = endMs;
    if (options.clamp === true) {
      from = Math.max(from, first);
      to = Math.min(to, last);
    }
    if (from < first || to > last || (options.clamp === true && to <= from && endMs > startMs)) {
      throw new BufferError(
        'OUT_OF_RANGE',
        `time range ${new Date(startMs).toISOString()}..${new Date(endMs).toISOString()} (${startMs}..${endMs} ms) is outside the recording ${first}..${last} ms`,
      );
    }
    const startFrame = this.#timeline.frameAt(from);
    const endFrame = Math.min(this.frameCount, Math.max(startFrame, this.#timeline.frameAt(to)));
    return { startFrame, endFrame, data: await this.read(startFrame, endFrame) };
  }

  /**
   * Streams frames [startFrame, endFrame) in chunks of `chunkFrames`, waiting for live data;
   * memory stays bounded whatever the length (for uploads). Without `endFrame` it follows the
   * recording until {@link FrameBuffer.end}.
   */
  async *stream(options: FrameStreamOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
    const startFrame = checkFrame('startFrame', options.startFrame ?? 0);
    const endFrame = options.endFrame === undefined ? undefined : checkFrame('endFrame', options.endFrame);
    const chunkFrames = options.chunkFrames ?? this.rate;
    if (!Number.isInteger(chunkFrames) || chunkFrames < 1) {
      throw new BufferError(
        'INVALID_ARGUMENT',
        `chunkFrames must be an integer >= 1, got ${String(chunkFrames)}`,
      );
    }
    if (endFrame !== undefined) {
      checkFrameRange(startFrame, endFrame, this.#ended ? this.frameCount : Number.POSITIVE_INFINITY);
    }
    yield* readInChunks(this.cursor({ startFrame }), endFrame, chunkFrames);
  }

  /**
   * A reading cursor with its own position, starting at `startFrame` (default 0; pass
   * {@link FrameBuffer.frameCount} to read live). Cursors never hold up the writer.
   */
  cursor(options: CursorOptions = {}): Cursor {
    this.#checkUsable();
    return new BufferCursor(this.#cursorSource, checkFrame('startFrame', options.startFrame ?? 0));
  }

  /**
   * Makes every frame appended so far durable now (write, fsync, journal commit + fsync).
   * @throws {BufferError} `IO_ERROR` when the disk fails; `CLEARED`/`CLOSED`.
   */
  flush(): Promise<void> {
    if (this.#cleared || this.#closed) {
      return Promise.reject(
        new BufferError(
          this.#cleared ? 'CLEARED' : 'CLOSED',
          'cannot flush: the buffer was cleared or closed',
        ),
      );
    }
    const run = this.#flushChain.then(() => this.#commit());
    this.#flushChain = run.catch(() => undefined);
    return run;
  }

  /**
   * Ends the recording: no more appends; cursors see end-of-stream once they have read everything;
   * a final flush and an end record make the journal complete. Idempotent.
   * @throws {BufferError} `IO_ERROR` when the final flush fails.
   */
  end(): Promise<void> {
    if (this.#endPromise !== null) return this.#endPromise;
    this.#checkUsable();
    this.#ended = true;
    this.#stopTimer();
    this.#changes.notify();
    this.#endPromise = this.flush().then(() => this.#store.journal.writeEnd(this.frameCount));
    return this.#endPromise;
  }

  /**
   * Drops all audio and deletes the journal files. Later reads and appends throw `CLEARED`;
   * waiting cursors reject with it. Idempotent.
   */
  async clear(): Promise<void> {
    if (this.#cleared) return;
    this.#cleared = true;
    this.#ended = true;
    this.#stopTimer();
    this.#changes.notify();
    await this.#flushChain;
    await this.#endPromise?.catch(() => undefined);
    await this.#store.remove();
  }

  /**
   * Ends the recording if needed, then releases RAM and file handles, keeping the journal files
   * on disk (a later `readJournals()` finds them). Later reads throw `CLOSED`. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed || this.#cleared) return;
    try {
      if (!this.#ended) await this.end();
      else {
        await this.#flushChain;
        await this.#endPromise?.catch(() => undefined);
      }
    } finally {
      this.#closed = true;
      this.#stopTimer();
      this.#changes.notify();
      await this.#store.close();
    }
  }

  /** Closes the buffer (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #commit(): Promise<void> {
    if (this.#cleared || this.#closed) return;
    const anchors = this.#timeline.anchors(this.#committedAnchors);
    const all = this.#timeline.gaps;
    const gaps = gapsToCommit(all, this.#committedGaps, this.#committedGapFrames);
    const gapCount = all.length;
    const lastGapFrames = all[gapCount - 1]?.frames ?? 0;
    await this.#store.commit({
      anchors: anchors.map((a) => [a.frame, a.time]),
      gaps,
      startTime: this.#timeline.startTime,
      overflowCount: this.#overflowCount,
      capturedFrames: this.#capturedFrames,
    });
    this.#committedAnchors += anchors.length;
    this.#committedGaps = gapCount;
    this.#committedGapFrames = lastGapFrames;
  }

  #startTimer(interval: number): void {
    this.#timer = setInterval(() => {
      if (this.durableFrames < this.frameCount && !this.#ended) {
        this.flush().catch((e: unknown) => this.#onError?.(e instanceof Error ? e : new Error(String(e))));
      }
    }, interval);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #unusableError(): BufferError | null {
    if (this.#cleared) return new BufferError('CLEARED', 'the buffer was cleared: its audio is gone');
    if (this.#closed) return new BufferError('CLOSED', 'the buffer was closed');
    return null;
  }

  #checkUsable(): void {
    const error = this.#unusableError();
    if (error !== null) throw error;
  }
}
