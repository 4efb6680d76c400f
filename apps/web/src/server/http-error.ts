/**
 * A request the server refuses, answered as `status` with `{ error: message }`. Messages name the
 * bad value and what is allowed; they never include paths outside the store or stack traces.
 */
export class HttpError extends Error {
  /** HTTP status code (4xx for the client's mistakes). */
  readonly status: number;

  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(`[audex/web] ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
  }
}
