/** Codes of {@link PcmError}. */
export type PcmErrorCode = 'INVALID_CONFIG' | 'INVALID_DATA';

/**
 * A bad audio configuration or malformed PCM data. The message names the component, the bad value
 * and what is allowed; `field` names the offending option where there is one.
 */
export class PcmError extends Error {
  override readonly name = 'PcmError';
  /** What went wrong, machine-readable. */
  readonly code: PcmErrorCode;
  /** The config field at fault, e.g. `'rate'`. */
  readonly field: string | undefined;

  constructor(code: PcmErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(`[audex/pcm] ${message}`, { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
}
