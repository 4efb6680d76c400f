// Part of the recording room: one frame axis over all the files of a recording, so that stream()
// and segment() (output.ts) need not know about rotation. Frame n of the recording is frame
// n - firstFrame of the file that holds it; a cursor walks from one file into the next without a
// seam (every chunk but the last keeps its size), and a file that has been stored leaves the spool
// only once no cursor still needs it.
import type { Cursor, CursorReadOptions } from '@audex/buffer';
import { concatBytes } from '@audex/pcm';
import type { RecordingFile } from './recording-file.js';

/** What the frame axis needs from its recording. */
export interface FileList {
  /** The files still held (in the spool), oldest first; never empty. */
  readonly files: readonly RecordingFile[];
  /** The file after `file`, once it exists; `null` when `file` is the last one the recording will have. */
  fileAfter(file: RecordingFile): Promise<RecordingFile | null>;
  /** A cursor moved or closed: stored files no cursor needs may now leave the spool. */
  cursorMoved(): void;
}

/** A cursor over a recording's frame axis. */
export class RecordingCursor implements Cursor {
  readonly #list: FileList;
  #position: number;
  #file: RecordingFile | undefined;
  #inner: Cursor | undefined;
  #closed = false;

  constructor(list: FileList, startFrame: number) {
    this.#list = list;
    this.#position = startFrame;
  }

  get position(): number {
    return this.#position;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True while this cursor may still read frames of `file`. */
  needs(file: RecordingFile): boolean {
    return !this.#closed && this.#position < file.firstFrame + file.buffer.frameCount;
  }

  async read(maxFrames: number, options: CursorReadOptions = {}): Promise<Uint8Array | null> {
    const minFrames = options.minFrames ?? 1;
    const pieces: Uint8Array[] = [];
    let frames = 0;
    try {
      while (frames < minFrames) {
        const file = this.#file ?? this.#fileAt(this.#position);
        if (file !== this.#file) this.#enter(file);
        const bpf = file.buffer.bytesPerFrame;
        const got = await this.#inner!.read(maxFrames - frames, {
          minFrames: minFrames - frames,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        if (got !== null) {
          pieces.push(got);
          frames += got.byteLength / bpf;
          this.#position += got.byteLength / bpf;
          continue;
        }
        const next = await this.#list.fileAfter(file);
        if (next === null) break;
        this.#enter(next);
      }
    } finally {
      this.#list.cursorMoved();
    }
    if (frames === 0) return null;
    return pieces.length === 1 ? pieces[0]! : concatBytes(pieces);
  }

  close(): void {
    this.#closed = true;
    this.#inner?.close();
    this.#list.cursorMoved();
  }

  #enter(file: RecordingFile): void {
    this.#inner?.close();
    this.#file = file;
    this.#inner = file.buffer.cursor({ startFrame: Math.max(0, this.#position - file.firstFrame) });
  }

  #fileAt(frame: number): RecordingFile {
    const files = this.#list.files;
    for (let i = files.length - 1; i >= 0; i--) if (files[i]!.firstFrame <= frame) return files[i]!;
    return files[0]!;
  }
}

/** The frame axis of a recording: where frames are, in which file, at what time. */
export class RecordingFrames {
  readonly #list: FileList;

  constructor(list: FileList) {
    this.#list = list;
  }

  /** First frame still held (0 unless rotated files have left the spool). */
  get firstFrame(): number {
    return this.#list.files[0]!.firstFrame;
  }

  /** Frames on the recording's timeline so far (gaps included). */
  get frameCount(): number {
    const last = this.#list.files.at(-1)!;
    return last.firstFrame + last.buffer.frameCount;
  }

  /** Bytes per frame. */
  get bytesPerFrame(): number {
    return this.#list.files[0]!.buffer.bytesPerFrame;
  }

  /** Capture time of the first held frame, or null before any audio. */
  get startTime(): number | null {
    for (const file of this.#list.files) if (file.buffer.startTime !== null) return file.buffer.startTime;
    return null;
  }

  /** Capture time just after the last frame, or null before any audio. */
  get endTime(): number | null {
    const files = this.#list.files;
    for (let i = files.length - 1; i >= 0; i--)
      if (files[i]!.buffer.endTime !== null) return files[i]!.buffer.endTime;
    return null;
  }

  /** The first frame captured at or after `time` (within the held audio). */
  frameAt(time: number): number {
    const file = this.#fileAtTime(time);
    return file.firstFrame + file.buffer.frameAt(time);
  }

  /** A cursor from `startFrame` (clamped to the held frames) across the files. */
  cursor(options: { startFrame?: number } = {}): RecordingCursor {
    return new RecordingCursor(this.#list, Math.max(this.firstFrame, options.startFrame ?? this.firstFrame));
  }

  /**
   * The frames captured in `[fromMs, toMs)` (inside the held audio), read from every file it spans.
   * @throws {BufferError} from the buffers (`CLEARED`, `OUT_OF_RANGE`, …).
   */
  async readTimeRange(fromMs: number, toMs: number): Promise<{ startFrame: number; data: Uint8Array }> {
    const pieces: Uint8Array[] = [];
    let startFrame: number | undefined;
    for (const file of this.#list.files) {
      const { startTime, endTime } = file.buffer;
      if (startTime === null || endTime === null || endTime <= fromMs || startTime >= toMs) continue;
      const read = await file.buffer.readTimeRange(Math.max(fromMs, startTime), Math.min(toMs, endTime));
      startFrame ??= file.firstFrame + read.startFrame;
      pieces.push(read.data);
    }
    return { startFrame: startFrame ?? this.frameCount, data: concatBytes(pieces) };
  }

  #fileAtTime(time: number): RecordingFile {
    const files = this.#list.files;
    for (let i = files.length - 1; i >= 0; i--) {
      const start = files[i]!.buffer.startTime;
      if (start !== null && start <= time) return files[i]!;
    }
    return files[0]!;
  }
}
