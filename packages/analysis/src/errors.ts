// The one error class of @audex/analysis: bad options or data given to the loudness meter, the
// normaliser or the voice activity detector, a detector used after end(), and a model that failed to load.

/** Codes of {@link AnalysisError}. */
export type AnalysisErrorCode = 'INVALID_OPTIONS' | 'INVALID_DATA' | 'ENDED' | 'MODEL_FAILED';

/**
 * An error from @audex/analysis. The message starts with `[audex/analysis]`, names the bad value and
 * what is allowed; `field` names the offending option where there is one.
 */
export class AnalysisError extends Error {
  /** Always `'AnalysisError'`. */
  override readonly name = 'AnalysisError';
  /** What went wrong, machine-readable. */
  readonly code: AnalysisErrorCode;
  /** The option at fault, e.g. `'threshold'`, when there is one. */
  readonly field: string | undefined;

  constructor(code: AnalysisErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(`[audex/analysis] ${message}`, { cause: options.cause });
    this.code = code;
    this.field = options.field;
  }
}
