/**
 * Codes of {@link CaptureError}:
 * - `INVALID_CONFIG`: a config value (format, rate, channels, chunk) is not allowed; nothing was opened.
 * - `DEVICE_NOT_FOUND`: `inputDeviceIndex` does not name an input device.
 * - `INVALID_STATE`: a call-order mistake, e.g. `start()` while capturing.
 * - `OPEN_FAILED`: the audio system refused to open or start the stream.
 * - `START_TIMEOUT`: the stream opened but no audio arrived within the start-up timeout.
 * - `DEVICE_LOST`: the device stopped delivering audio mid-capture (unplugged, daemon died).
 */
export type CaptureErrorCode =
  | 'INVALID_CONFIG'
  | 'DEVICE_NOT_FOUND'
  | 'INVALID_STATE'
  | 'OPEN_FAILED'
  | 'START_TIMEOUT'
  | 'DEVICE_LOST';

/** Options of the {@link CaptureError} constructor. */
export interface CaptureErrorOptions {
  /** The config field at fault, e.g. `'rate'`. */
  field?: string;
  /** The input device involved, when there is one. */
  deviceIndex?: number | null;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Anything that goes wrong while listing devices or capturing. The message starts with
 * `[audex/capture] `, names the bad value and what is allowed (for devices: the available inputs).
 */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  /** What went wrong, machine-readable. */
  readonly code: CaptureErrorCode;
  /** The config field at fault, when the error is about one. */
  readonly field: string | undefined;
  /** The input device index involved (`null` = the default input), when known. */
  readonly deviceIndex: number | null | undefined;

  constructor(code: CaptureErrorCode, message: string, options: CaptureErrorOptions = {}) {
    super(`[audex/capture] ${message}`, { cause: options.cause });
    this.code = code;
    this.field = options.field;
    this.deviceIndex = options.deviceIndex;
  }
}
