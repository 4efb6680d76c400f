/** Codes of {@link CodecError}. */
export type CodecErrorCode =
  | 'UNKNOWN_FORMAT'
  | 'INVALID_OPTIONS'
  | 'CORRUPT_INPUT'
  | 'ENCODER_ENDED'
  | 'TOO_LARGE'
  | 'OUT_OF_RANGE';

/** An error from a codec, the registry, the resampler or the mixer. */
export class CodecError extends Error {
  /** Always `'CodecError'`. */
  override readonly name = 'CodecError';
  /** What went wrong, machine-readable. */
  readonly code: CodecErrorCode;
  /** The format involved, when there is one. */
  readonly format: string | undefined;

  constructor(code: CodecErrorCode, message: string, options: { format?: string; cause?: unknown } = {}) {
    super(`[audex/codec] ${message}`, { cause: options.cause });
    this.code = code;
    this.format = options.format;
  }
}
