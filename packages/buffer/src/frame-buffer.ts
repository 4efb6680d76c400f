import { rm } from 'node:fs/promises';
import { bytesPerFrame, type CapturedChunk, type SampleFormat } from '@audex/pcm';
import { BlockRing } from './block-ring.js';
import { BufferCursor, type Cursor, type CursorOptions } from './cursor.js';
import { BufferError } from './errors.js';
import { Journal } from './journal.js';
import type { HeaderRecord } from './journal-format.js';
import { type FrameBufferOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { type Gap, Timeline } from './timeline.js';

/** Options of {@link FrameBuffer.readTimeRange}. */
export interface TimeRangeOptions {
  /**
   * Clamp a range reaching outside the recording to the recorded part instead of failing.
   * A range with no recorded part still fails. Default `false`.
   */
  clamp?: boolean;
}

/** Options of {@link FrameBuffer.stream}. */
export interface StreamOptions {
  /** First frame. Default `0`. */
  startFrame?: number;
  /** End (exclusive) frame; default: follow the recording until {@link FrameBuffer.end}. */
  endFrame?: number;
  /** Frames per yielded chunk (the last may be shorter). Default: one second (`rate`). */
  chunkFrames?: number;
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

/** State a recovered buffer is rebuilt from (internal). */
export interface RecoveredState {
  spoolDir: string;
  header: HeaderRecord;
  frameCount: number;
  capturedFrames: number;
  overflowCount: number;
  timeline: Timeline;
  journal: Journal;
}

let buildRecovered: (state: RecoveredState) => FrameBuffer;

/** Builds the ended, read-only buffer of a recovered journal (reads come from the data file). */
export function openRecoveredBuffer(state: RecoveredState): FrameBuffer {
  return buildRecovered(state);
}

type Deferred = { promise: Promise<void>; resolve: () => void };

function checkFrame(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new BufferError(
      'INVALID_ARGUMENT',
      `${name} must be an integer frame index >= 0, got ${String(value)}`,
    );
  }
  return value;
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
  readonly #journal: Journal;
  readonly #ring: BlockRing | null;
  readonly #blockFrames: number;
  readonly #blockBytes: number;
  readonly #onError: ((error: Error) => void) | undefined;
  #frameCount: number;
  #capturedFrames: number;
  #overflowCount: number;
  #ended: boolean;
  #cleared = false;
  #closed = false;
  #data: Deferred | null = null;
  #flushChain: Promise<void> = Promise.resolve();
  #committedAnchors = 0;
  #committedGaps = 0;
  #timer: ReturnType<typeof setInterval> | null = null;
  #endPromise: Promise<void> | null = null;

  private constructor(
    o: Pick<ResolvedOptions, 'id' | 'sampleFormat' | 'channels' | 'rate' | 'meta' | 'spoolDir' | 'onError'>,
    timeline: Timeline,
    journal: Journal,
    ring: BlockRing | null,
    blockFrames: number,
    counts: { frameCount: number; capturedFrames: number; overflowCount: number; ended: boolean },
  ) {
    this.id = o.id;
    this.sampleFormat = o.sampleFormat;
    this.channels = o.channels;
    this.rate = o.rate;
    this.bytesPerFrame = bytesPerFrame(o.sampleFormat, o.channels);
    this.meta = o.meta;
    this.spoolDir = o.spoolDir;
    this.#onError = o.onError;
    this.#timeline = timeline;
    this.#journal = journal;
    this.#ring = ring;
    this.#blockFrames = blockFrames;
    this.#blockBytes = blockFrames * this.bytesPerFrame;
    this.#frameCount = counts.frameCount;
    this.#capturedFrames = counts.capturedFrames;
    this.#overflowCount = counts.overflowCount;
    this.#ended = counts.ended;
  }

  /**
   * Creates a buffer and its journal files (`<spoolDir>/<id>.pcm`, `<spoolDir>/<id>.journal`); the
   * header (format, rate, channels, meta) is durable when this resolves.
   * @throws {BufferError} `INVALID_OPTIONS` for a bad option (nothing is created); `IO_ERROR` when the
   * files cannot be created (e.g. a recording with this id already exists in `spoolDir`).
   */
  static async create(options: FrameBufferOptions): Promise<FrameBuffer> {
    const o = resolveOptions(options);
    const bpf = bytesPerFrame(o.sampleFormat, o.channels);
    const blockFrames = Math.max(1, Math.round((o.rate * o.blockMs) / 1000));
    const capacity = Math.ceil(o.memoryMs / o.blockMs) + 1;
    const ring = new BlockRing(blockFrames * bpf, Math.max(2, capacity));
    const header: HeaderRecord = {
      version: 1,
      id: o.id,
      sampleFormat: o.sampleFormat,
      channels: o.channels,
      rate: o.rate,
      meta: o.meta,
      createdAt: Date.now(),
    };
    let buffer: FrameBuffer | undefined;
    const source = (start: number, end: number): Uint8Array => buffer!.#view(start, end);
    const journal = await Journal.create(o.spoolDir, header, bpf, blockFrames, source);
    buffer = new FrameBuffer(o, new Timeline(o.rate), journal, ring, blockFrames, {
      frameCount: 0,
      capturedFrames: 0,
      overflowCount: 0,
      ended: false,
    });
    buffer.#startTimer(o.flushIntervalMs);
    return buffer;
  }

  static {
    buildRecovered = (state) => {
      const h = state.header;
      return new FrameBuffer(
        {
          id: h.id,
          sampleFormat: h.sampleFormat,
          channels: h.channels,
          rate: h.rate,
          meta: h.meta,
          spoolDir: state.spoolDir,
          onError: undefined,
        },
        state.timeline,
        state.journal,
        null,
        h.rate,
        {
          frameCount: state.frameCount,
          capturedFrames: state.capturedFrames,
          overflowCount: state.overflowCount,
          ended: true,
        },
      );
    };
  }

  /** Frames on the timeline: captured frames plus silence filled into gaps. */
  get frameCount(): number {
    return this.#frameCount;
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
    return this.#timeline.anchorCount === 0 ? null : this.#timeline.timeOf(this.#frameCount);
  }

  /** Duration on the timeline in ms, from the sample count (`frameCount / rate`). */
  get durationMs(): number {
    return (this.#frameCount * 1000) / this.rate;
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
    return this.#journal.committed;
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
    if (chunk === null || typeof chunk !== 'object' || !(chunk.data instanceof Uint8Array)) {
      throw new BufferError('INVALID_CHUNK', 'chunk must be an object with data: Uint8Array');
    }
    const { data, frames, time } = chunk;
    if (!Number.isInteger(frames) || frames < 0) {
      throw new BufferError('INVALID_CHUNK', `chunk.frames must be an integer >= 0, got ${String(frames)}`);
    }
    if (data.byteLength !== frames * this.bytesPerFrame) {
      throw new BufferError(
        'INVALID_CHUNK',
        `chunk.data has ${data.byteLength} bytes but ${frames} frames of ${this.channels}-channel ${this.sampleFormat} take ${frames * this.bytesPerFrame}`,
      );
    }
    if (typeof time !== 'number' || !Number.isFinite(time)) {
      throw new BufferError(
        'INVALID_CHUNK',
        `chunk.time must be a finite number of ms since the epoch, got ${String(time)}`,
      );
    }
    if (chunk.overflow === true) this.#overflowCount++;
    if (frames === 0) return;
    const silence = this.#timeline.place(this.#frameCount, time, frames, chunk.overflow === true);
    if (silence > 0) this.#fill(null, silence * this.bytesPerFrame);
    this.#fill(data, data.byteLength);
    this.#capturedFrames += frames;
    this.#wake();
  }

  /** Copies `data` (or `length` zero bytes when null) to the end of the ring. */
  #fill(data: Uint8Array | null, length: number): void {
    const bpf = this.bytesPerFrame;
    let offset = 0;
    while (offset < length) {
      const blockIndex = Math.floor(this.#frameCount / this.#blockFrames);
      const within = (this.#frameCount - blockIndex * this.#blockFrames) * bpf;
      const block = this.#blockFor(blockIndex);
      const n = Math.min(length - offset, this.#blockBytes - within);
      if (data === null) block.fill(0, within, within + n);
      else block.set(data.subarray(offset, offset + n), within);
      offset += n;
      this.#frameCount += n / bpf;
      if (within + n === this.#blockBytes) this.#journal.allow(this.#frameCount);
    }
  }

  #blockFor(index: number): Uint8Array {
    const ring = this.#ring!;
    if (ring.has(index)) return ring.get(index);
    if (ring.count === ring.capacity) {
      const oldest = ring.first;
      const end = (oldest + 1) * this.#blockFrames;
      if (this.#journal.issued < end) this.#journal.writeSyncTo(end);
      const inflight = this.#journal.inflight;
      const busy = inflight !== null && inflight.start < end;
      ring.evictOldest(!busy);
    }
    return ring.push();
  }

  /** A view of frames [start, end) inside one resident block (for the spool writer). */
  #view(start: number, end: number): Uint8Array {
    const index = Math.floor(start / this.#blockFrames);
    const base = index * this.#blockFrames;
    return this.#ring!.get(index).subarray(
      (start - base) * this.bytesPerFrame,
      (end - base) * this.bytesPerFrame,
    );
  }

  #wake(): void {
    const d = this.#data;
    if (d !== null) {
      this.#data = null;
      d.resolve();
    }
  }

  /** @internal Resolves on the next append, end, clear or close. */
  changed(): Promise<void> {
    if (this.#data === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#data = { promise, resolve };
    }
    return this.#data.promise;
  }

  #checkUsable(): void {
    if (this.#cleared) throw new BufferError('CLEARED', 'the buffer was cleared: its audio is gone');
    if (this.#closed) throw new BufferError('CLOSED', 'the buffer was closed');
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
    if (typeof timeMs !== 'number' || !Number.isFinite(timeMs)) {
      throw new BufferError(
        'INVALID_ARGUMENT',
        `time must be a finite number of ms since the epoch, got ${String(timeMs)}`,
      );
    }
    return this.#timeline.frameAt(timeMs);
  }

  #checkRange(startFrame: number, endFrame: number): void {
    checkFrame('startFrame', startFrame);
    checkFrame('endFrame', endFrame);
    if (endFrame < startFrame) {
      throw new BufferError(
        'REVERSED_RANGE',
        `frame range is reversed: end ${endFrame} is before start ${startFrame}`,
        {
          startFrame,
          endFrame,
        },
      );
    }
    if (endFrame > this.#frameCount) {
      throw new BufferError(
        'OUT_OF_RANGE',
        `frames ${startFrame}..${endFrame} reach past the recorded data (0..${this.#frameCount})`,
        { startFrame, endFrame },
      );
    }
  }

  /**
   * Reads exactly frames [startFrame, endFrame) as interleaved bytes in the buffer's format, from RAM
   * and/or the spool file. O(frames read); a fresh array the caller owns.
   * @throws {BufferError} `REVERSED_RANGE`, `OUT_OF_RANGE` (past `frameCount`), `INVALID_ARGUMENT`,
   * `CLEARED`, `CLOSED`, `IO_ERROR`.
   */
  async read(startFrame: number, endFrame: number): Promise<Uint8Array> {
    this.#checkUsable();
    this.#checkRange(startFrame, endFrame);
    const bpf = this.bytesPerFrame;
    const out = new Uint8Array((endFrame - startFrame) * bpf);
    const ramStart = this.#ring === null ? this.#frameCount : this.#ring.first * this.#blockFrames;
    // RAM part first and synchronously: its blocks cannot be recycled under us.
    for (let f = Math.max(startFrame, ramStart); f < endFrame; ) {
      const index = Math.floor(f / this.#blockFrames);
      const base = index * this.#blockFrames;
      const stop = Math.min(endFrame, base + this.#blockFrames);
      out.set(this.#ring!.get(index).subarray((f - base) * bpf, (stop - base) * bpf), (f - startFrame) * bpf);
      f = stop;
    }
    if (startFrame < ramStart) {
      const diskEnd = Math.min(endFrame, ramStart);
      try {
        await this.#journal.read(out.subarray(0, (diskEnd - startFrame) * bpf), startFrame);
      } catch (e) {
        this.#checkUsable();
        throw e;
      }
      this.#checkUsable();
    }
    return out;
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
    for (const [name, v] of [
      ['startMs', startMs],
      ['endMs', endMs],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new BufferError(
          'INVALID_ARGUMENT',
          `${name} must be a finite number of ms since the epoch, got ${String(v)}`,
        );
      }
    }
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
    const endFrame = Math.min(this.#frameCount, Math.max(startFrame, this.#timeline.frameAt(to)));
    return { startFrame, endFrame, data: await this.read(startFrame, endFrame) };
  }

  /**
   * Streams frames [startFrame, endFrame) in chunks of `chunkFrames`, waiting for live data;
   * memory stays bounded whatever the length (for uploads). Without `endFrame` it follows the
   * recording until {@link FrameBuffer.end}.
   */
  async *stream(options: StreamOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
    const startFrame = checkFrame('startFrame', options.startFrame ?? 0);
    const endFrame = options.endFrame === undefined ? undefined : checkFrame('endFrame', options.endFrame);
    const chunkFrames = options.chunkFrames ?? this.rate;
    if (!Number.isInteger(chunkFrames) || chunkFrames < 1) {
      throw new BufferError(
        'INVALID_ARGUMENT',
        `chunkFrames must be an integer >= 1, got ${String(chunkFrames)}`,
      );
    }
    if (endFrame !== undefined && endFrame < startFrame) {
      throw new BufferError(
        'REVERSED_RANGE',
        `frame range is reversed: end ${endFrame} is before start ${startFrame}`,
      );
    }
    if (endFrame !== undefined && this.#ended && endFrame > this.#frameCount) {
      throw new BufferError(
        'OUT_OF_RANGE',
        `frames ${startFrame}..${endFrame} reach past the recorded data (0..${this.#frameCount})`,
        { startFrame, endFrame },
      );
    }
    const cursor = this.cursor({ startFrame });
    try {
      for (;;) {
        const want = endFrame === undefined ? chunkFrames : Math.min(chunkFrames, endFrame - cursor.position);
        if (want <= 0) return;
        const data = await cursor.read(want, { min: want });
        if (data === null) return;
        yield data;
      }
    } finally {
      cursor.close();
    }
  }

  /**
   * A reading cursor with its own position, starting at `startFrame` (default 0; pass
   * {@link FrameBuffer.frameCount} to read live). Cursors never hold up the writer.
   */
  cursor(options: CursorOptions = {}): Cursor {
    this.#checkUsable();
    return new BufferCursor(this, checkFrame('startFrame', options.startFrame ?? 0));
  }

  #startTimer(interval: number): void {
    this.#timer = setInterval(() => {
      if (this.#journal.committed < this.#frameCount && !this.#ended) {
        this.flush().catch((e: unknown) => this.#onError?.(e instanceof Error ? e : new Error(String(e))));
      }
    }, interval);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
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

  async #commit(): Promise<void> {
    if (this.#cleared || this.#closed) return;
    const target = this.#frameCount;
    const anchors = this.#timeline.anchors(this.#committedAnchors);
    const gaps = this.#timeline.gaps.slice(this.#committedGaps);
    await this.#journal.commit(target, {
      anchors: anchors.map((a) => [a.frame, a.time]),
      gaps: gaps.map((g) => [g.startFrame, g.frames, g.startTime, g.durationMs]),
      startTime: this.#timeline.startTime,
      overflowCount: this.#overflowCount,
      capturedFrames: this.#capturedFrames,
    });
    this.#committedAnchors += anchors.length;
    this.#committedGaps += gaps.length;
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
    this.#wake();
    this.#endPromise = this.flush().then(() => this.#journal.writeEnd(this.#frameCount));
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
    this.#wake();
    await this.#flushChain;
    await this.#endPromise?.catch(() => undefined);
    await this.#journal.remove();
    this.#ring?.release();
  }

  /**
   * Ends the recording if needed, then releases RAM and file handles, keeping the journal files
   * on disk (a later {@link recoverJournals} finds them). Later reads throw `CLOSED`. Idempotent.
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
      this.#wake();
      await this.#journal.close();
      this.#ring?.release();
    }
  }

  /** @internal Deletes the journal files of a closed or recovered buffer. */
  async removeFiles(): Promise<void> {
    this.#closed = true;
    this.#wake();
    await this.#journal.remove();
    await rm(this.#journal.dataPath, { force: true });
  }

  /** @internal Why reads fail now, if they do. */
  unusableError(): BufferError | null {
    if (this.#cleared) return new BufferError('CLEARED', 'the buffer was cleared: its audio is gone');
    if (this.#closed) return new BufferError('CLOSED', 'the buffer was closed');
    return null;
  }

  /** Closes the buffer (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
