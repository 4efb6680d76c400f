// Reading cursors: each has its own position in a recording and waits, without polling, for
// frames that are not captured yet. Also the bounded-memory frame stream built on a cursor. It sees
// the recording only through the small CursorSource interface (no import of FrameBuffer).
import { BufferError } from './errors.js';

/** What a cursor reads from (implemented inside `FrameBuffer`). */
export interface CursorSource {
  /** Frames on the timeline now. */
  readonly frameCount: number;
  /** True once no more frames will come. */
  readonly ended: boolean;
  /** Reads frames [startFrame, endFrame), which are all available. */
  read(startFrame: number, endFrame: number): Promise<Uint8Array>;
  /** Resolves on the next append, end, clear or close. */
  changed(): Promise<void>;
  /** Why reads fail now (cleared or closed), if they do. */
  unusableError(): BufferError | null;
}

/** Options of `FrameBuffer.cursor()`. */
export interface CursorOptions {
  /** First frame the cursor returns. Default `0`; `buffer.frameCount` reads live. */
  startFrame?: number;
}

/** Options of {@link Cursor.read}. */
export interface CursorReadOptions {
  /** Resolve only once at least this many frames are available (or the stream ended). Default `1`. */
  minFrames?: number;
  /** Aborting rejects the pending read with an `AbortError`; the position is unchanged. */
  signal?: AbortSignal;
}

/** A reader with its own position in a `FrameBuffer`. */
export interface Cursor {
  /** The next frame this cursor will return. */
  readonly position: number;
  /**
   * Resolves with up to `maxFrames` frames (bytes) as soon as at least `minFrames` are available, or
   * fewer at end of stream; `null` once the stream has ended and everything was read. Waits
   * without polling (woken by append/end). Cost per read does not grow with the recording length.
   * @throws {BufferError} `INVALID_ARGUMENT`, `CLEARED`, `CLOSED` (buffer or cursor closed);
   * `AbortError` (a DOMException) when `signal` aborts.
   */
  read(maxFrames: number, options?: CursorReadOptions): Promise<Uint8Array | null>;
  /** Stops the cursor: pending and later reads reject with `CLOSED`. */
  close(): void;
}

function abortError(signal: AbortSignal): unknown {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return new DOMException('The cursor read was aborted', 'AbortError');
}

/** The {@link Cursor} of a `FrameBuffer`. */
export class BufferCursor implements Cursor {
  readonly #buffer: CursorSource;
  #position: number;
  #closed = false;
  #wakeClosed: (() => void) | null = null;

  constructor(buffer: CursorSource, startFrame: number) {
    this.#buffer = buffer;
    this.#position = startFrame;
  }

  get position(): number {
    return this.#position;
  }

  async read(maxFrames: number, options: CursorReadOptions = {}): Promise<Uint8Array | null> {
    if (!Number.isInteger(maxFrames) || maxFrames < 1) {
      throw new BufferError(
        'INVALID_ARGUMENT',
        `maxFrames must be an integer >= 1, got ${String(maxFrames)}`,
      );
    }
    const min = options.minFrames ?? 1;
    if (!Number.isInteger(min) || min < 1 || min > maxFrames) {
      throw new BufferError(
        'INVALID_ARGUMENT',
        `minFrames must be an integer from 1 to maxFrames (${maxFrames}), got ${String(min)}`,
      );
    }
    const { signal } = options;
    for (;;) {
      if (this.#closed) throw new BufferError('CLOSED', 'the cursor was closed');
      const unusable = this.#buffer.unusableError();
      if (unusable !== null) throw unusable;
      if (signal?.aborted) throw abortError(signal);
      const available = this.#buffer.frameCount - this.#position;
      if (available >= min || (this.#buffer.ended && available > 0)) {
        const start = this.#position;
        const n = Math.min(available, maxFrames);
        this.#position = start + n;
        try {
          return await this.#buffer.read(start, start + n);
        } catch (e) {
          this.#position = start;
          throw e;
        }
      }
      if (this.#buffer.ended) return null;
      await this.#wait(signal);
    }
  }

  #wait(signal: AbortSignal | undefined): Promise<void> {
    const changed = this.#buffer.changed();
    const closed = new Promise<void>((resolve) => {
      this.#wakeClosed = resolve;
    });
    if (signal === undefined) return Promise.race([changed, closed]);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      Promise.race([changed, closed]).then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  close(): void {
    this.#closed = true;
    this.#wakeClosed?.();
  }
}

/** Wakes every waiting cursor at once: `next()` resolves on the following `notify()`. */
export class ChangeSignal {
  #pending: { promise: Promise<void>; resolve: () => void } | null = null;

  /** Resolves on the next {@link ChangeSignal.notify}. */
  next(): Promise<void> {
    if (this.#pending === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.#pending = { promise, resolve };
    }
    return this.#pending.promise;
  }

  /** Wakes whoever waits (nothing allocated when nobody does). */
  notify(): void {
    const pending = this.#pending;
    if (pending !== null) {
      this.#pending = null;
      pending.resolve();
    }
  }
}

/** Options of `FrameBuffer.stream()`. */
export interface FrameStreamOptions {
  /** First frame. Default `0`. */
  startFrame?: number;
  /** End (exclusive) frame; default: follow the recording until `FrameBuffer.end()`. */
  endFrame?: number;
  /** Frames per yielded chunk (the last may be shorter). Default: one second (`rate`). */
  chunkFrames?: number;
}

/**
 * Yields the frames `cursor` reads up to `endFrame` (or the end of the recording) in chunks of
 * `chunkFrames`, the last one shorter; closes the cursor when done or abandoned.
 */
export async function* readInChunks(
  cursor: Cursor,
  endFrame: number | undefined,
  chunkFrames: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    for (;;) {
      const want = endFrame === undefined ? chunkFrames : Math.min(chunkFrames, endFrame - cursor.position);
      if (want <= 0) return;
      const data = await cursor.read(want, { minFrames: want });
      if (data === null) return;
      yield data;
    }
  } finally {
    cursor.close();
  }
}
