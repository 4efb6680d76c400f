/**
 * Codes of {@link NaudiodonError}:
 * - `LOAD_FAILED`: the native module (or its bundled libportaudio) could not be loaded.
 * - `INVALID_OPTIONS`: an option of `openInput()` is not allowed; nothing was opened.
 * - `LIST_FAILED`: PortAudio could not list the devices.
 * - `OPEN_FAILED`: PortAudio refused to open or start the input stream.
 */
export type NaudiodonErrorCode = 'LOAD_FAILED' | 'INVALID_OPTIONS' | 'LIST_FAILED' | 'OPEN_FAILED';

/** Options of the {@link NaudiodonError} constructor. */
export interface NaudiodonErrorOptions {
  /** The option at fault, e.g. `'channels'`. */
  field?: string;
  /** The underlying error. */
  cause?: unknown;
  /** What libasound/libjack said meanwhile (see {@link diagnostics}). */
  diagnostics?: readonly string[];
}

/**
 * Anything that goes wrong in `@audex/naudiodon`. The message starts with `[audex/naudiodon] ` and
 * names the bad value and what is allowed.
 */
export class NaudiodonError extends Error {
  override readonly name = 'NaudiodonError';
  /** What went wrong, machine-readable. */
  readonly code: NaudiodonErrorCode;
  /** The option at fault, when the error is about one. */
  readonly field: string | undefined;
  /** The audio libraries' messages recorded while the failing call ran (may be empty). */
  readonly diagnostics: readonly string[];

  constructor(code: NaudiodonErrorCode, message: string, options: NaudiodonErrorOptions = {}) {
    super(`[audex/naudiodon] ${message}`, { cause: options.cause });
    this.code = code;
    this.field = options.field;
    this.diagnostics = options.diagnostics ?? [];
  }
}
