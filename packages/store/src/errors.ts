// Owns StoreError, the one error class of @audex/store, and its codes.

/**
 * Codes of {@link StoreError}; every backend uses the same codes for the same failure.
 *
 * - `NOT_FOUND`: the object does not exist (download, getMetadata, copy's source, delete).
 * - `INVALID_KEY`: the key (or prefix) was rejected before anything touched the storage.
 * - `INVALID_METADATA`: metadata is not a plain JSON object (e.g. holds `undefined`, a `Date`, a cycle).
 * - `METADATA_TOO_LARGE`: the encoded metadata exceeds the backend's limit (S3: 2 KB).
 * - `INVALID_ARGUMENT`: a bad option or data argument (e.g. `chunkSize` 0, data not bytes).
 * - `INVALID_OPTIONS`: a bad constructor option (e.g. a relative `root`, a missing bucket).
 * - `UPLOAD_FAILED`: an upload did not complete; nothing partial is visible.
 * - `INTEGRITY_ERROR`: the stored object differs from what was sent (size or checksum), or a read
 *   returned other bytes than the object's.
 * - `ALREADY_EXISTS`: a write that must not replace an object (`{ overwrite: false }`, the default
 *   of `copy`) found one under the key; nothing was replaced.
 * - `ENCRYPTION_ERROR`: the server did not confirm the server-side encryption asked for (the
 *   object is not kept), or an encrypted object was read without the right SSE-C key.
 * - `MISSING_DEPENDENCY`: an optional peer dependency is not installed (S3: `@aws-sdk/client-s3`).
 * - `PERMISSION_DENIED`: the backend refused access (read-only directory, 403).
 * - `NO_SPACE`: the disk is full (ENOSPC/EDQUOT).
 * - `IO_ERROR`: any other I/O or network failure.
 */
export type StoreErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_KEY'
  | 'INVALID_METADATA'
  | 'METADATA_TOO_LARGE'
  | 'INVALID_ARGUMENT'
  | 'INVALID_OPTIONS'
  | 'UPLOAD_FAILED'
  | 'INTEGRITY_ERROR'
  | 'ALREADY_EXISTS'
  | 'ENCRYPTION_ERROR'
  | 'MISSING_DEPENDENCY'
  | 'PERMISSION_DENIED'
  | 'NO_SPACE'
  | 'IO_ERROR';

/** Marks every StoreError, so `instanceof` holds across copies of this module (ESM and CJS builds, bundled subpaths). */
const BRAND = Symbol.for('@audex/store.StoreError');

/**
 * The one error class of `@audex/store`. The message starts with `[audex/store]`, names the key or
 * value at fault and what is allowed, and never carries credentials; `cause` keeps the underlying
 * error (filesystem or SDK), scrubbed of credentials by the S3 backend.
 */
export class StoreError extends Error {
  /** Always `'StoreError'`. */
  override readonly name = 'StoreError';
  /** What went wrong, machine-readable; the same for every backend. */
  readonly code: StoreErrorCode;
  /** The object key concerned, when there is one. */
  readonly key: string | undefined;
  declare readonly [BRAND]: true;

  /** True for any StoreError, whichever copy of `@audex/store` (ESM, CJS, a bundled subpath) made it. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  /**
   * @param code - machine-readable reason.
   * @param message - human explanation, without the `[audex/store]` prefix (added here).
   * @param options - the key concerned and the underlying cause.
   */
  constructor(code: StoreErrorCode, message: string, options: { key?: string; cause?: unknown } = {}) {
    super(`[audex/store] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.key = options.key;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True when `error` is a {@link StoreError}, optionally with the given code. */
export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code);
}

/** The `NOT_FOUND` error every backend throws for a missing object. */
export function notFound(key: string, cause?: unknown): StoreError {
  return new StoreError('NOT_FOUND', `no object under key ${JSON.stringify(key)}`, { key, cause });
}
