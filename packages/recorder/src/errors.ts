// The recorder's one error class, RecorderError, and its codes; describeValue() for messages.
/**
 * Codes of {@link RecorderError}.
 *
 * - `INVALID_CONFIG`: the `AudioConfig` (format, rate, channels, chunk, device index) was rejected.
 * - `INVALID_OPTIONS`: constructor, `stream()` or `segment()` options were rejected.
 * - `INVALID_KEY`: the key prefixes given to `start()` were rejected by the store's key builder.
 * - `NOT_INITIALIZED`: a method that needs `init()` was called before it.
 * - `CLOSED`: the recorder was closed; create a new one.
 * - `ALREADY_RECORDING`: `start()` (or `clearFrames()`) while a recording runs; call `stop()` first.
 * - `NOT_RECORDING`: `stop()` with no recording running.
 * - `NO_RECORDING`: `segment()` with no recorded audio to cut from (none yet, or cleared).
 * - `INVALID_RANGE`: a reversed or non-finite time range.
 * - `OUT_OF_RANGE`: a time range that does not overlap the recording.
 * - `SOURCE_FAILED`: the audio source failed to start, or failed (the device vanished) mid-recording.
 * - `UPLOAD_FAILED`: the store rejected the recording after every retry; it stays in the spool.
 * - `SPOOL_FAILED`: the crash journal could not be created or written (disk full, permissions).
 * - `STREAM_FAILED`: a `stream()` could not read or encode audio (e.g. the recording was cleared under it).
 * - `ENCODE_FAILED`: a codec (or the PCM transform) threw while encoding a `stream()` or `segment()`.
 * - `TIMEOUT`: `entersState()` gave up waiting for a status.
 * - `ABORTED`: `entersState()` was aborted by its signal.
 * - `ANALYSIS_FAILED`: the voice activity model (option `vad`) could not be loaded at `start()`.
 * - `MISSING_DEPENDENCY`: an optional peer dependency is not installed (option `vad`: `@audex/vad-silero`).
 */
export type RecorderErrorCode =
  | 'INVALID_CONFIG'
  | 'INVALID_OPTIONS'
  | 'INVALID_KEY'
  | 'NOT_INITIALIZED'
  | 'CLOSED'
  | 'ALREADY_RECORDING'
  | 'NOT_RECORDING'
  | 'NO_RECORDING'
  | 'INVALID_RANGE'
  | 'OUT_OF_RANGE'
  | 'SOURCE_FAILED'
  | 'UPLOAD_FAILED'
  | 'SPOOL_FAILED'
  | 'STREAM_FAILED'
  | 'ENCODE_FAILED'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'ANALYSIS_FAILED'
  | 'MISSING_DEPENDENCY';

/**
 * Everything `AudioRecorder` rejects or reports. The message starts with `[audex/recorder]`, names
 * the bad value and what is allowed; `cause` holds the underlying error (a `PcmError`,
 * `CodecError`, `StoreError`, `BufferError` or the source's error) when there is one.
 */
export class RecorderError extends Error {
  override readonly name = 'RecorderError';
  /** What went wrong, machine-readable. */
  readonly code: RecorderErrorCode;
  /** The option or config field at fault, e.g. `'rate'` or `'chunkSize'`, when there is one. */
  readonly field: string | undefined;
  /** The store key involved (upload and recovery failures), when there is one. */
  readonly key: string | undefined;

  constructor(
    code: RecorderErrorCode,
    message: string,
    options: { field?: string; key?: string; cause?: unknown } = {},
  ) {
    super(`[audex/recorder] ${message}`, { cause: options.cause });
    this.code = code;
    this.field = options.field;
    this.key = options.key;
  }
}

/** Describes a value for an error message without dumping objects (or secrets) into it. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
  return `a value of type ${typeof value}`;
}
