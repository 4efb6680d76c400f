// The buffer's one error class, BufferError, and its codes.
/** Codes of {@link BufferError}. */
export type BufferErrorCode =
  /** `FrameBuffer.create` was given an invalid option. */
  | 'INVALID_OPTIONS'
  /** `append` was given a chunk whose size, frame count or time is malformed. */
  | 'INVALID_CHUNK'
  /** A method argument is not what it accepts (e.g. a fractional frame index). */
  | 'INVALID_ARGUMENT'
  /** A frame or time range reaches outside the recorded data. */
  | 'OUT_OF_RANGE'
  /** A range whose end is before its start. */
  | 'REVERSED_RANGE'
  /** The buffer was cleared: its audio and journal files are gone. */
  | 'CLEARED'
  /** The buffer (or cursor) was closed: it no longer holds file handles or RAM. */
  | 'CLOSED'
  /** `append` after `end()`, or on a recovered (read-only) buffer. */
  | 'ENDED'
  /** Part of a journal failed its checksum, is cut short or cannot be parsed. */
  | 'CORRUPT_JOURNAL'
  /** Reading or writing a spool file failed (disk full, permissions…). */
  | 'IO_ERROR';

/** Extra, machine-readable details of a {@link BufferError}. */
export interface BufferErrorDetails {
  /** First frame of the range at fault. */
  startFrame?: number;
  /** End (exclusive) of the frame range at fault. */
  endFrame?: number;
  /** The spool or journal file at fault. */
  file?: string;
  /** Byte offset in `file` where the damage starts. */
  offset?: number;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Every failure of `@audex/buffer`. The message starts with `[audex/buffer]`, names the bad value
 * and what is allowed; `code` says what went wrong, the other fields where.
 */
export class BufferError extends Error {
  override readonly name = 'BufferError';
  /** What went wrong, machine-readable. */
  readonly code: BufferErrorCode;
  /** First frame of the range at fault, when a range is at fault. */
  readonly startFrame: number | undefined;
  /** End (exclusive) of the frame range at fault, when a range is at fault. */
  readonly endFrame: number | undefined;
  /** The spool or journal file at fault, when a file is at fault. */
  readonly file: string | undefined;
  /** Byte offset in {@link BufferError.file} where the damage starts. */
  readonly offset: number | undefined;

  constructor(code: BufferErrorCode, message: string, details: BufferErrorDetails = {}) {
    super(`[audex/buffer] ${message}`, { cause: details.cause });
    this.code = code;
    this.startFrame = details.startFrame;
    this.endFrame = details.endFrame;
    this.file = details.file;
    this.offset = details.offset;
  }
}
