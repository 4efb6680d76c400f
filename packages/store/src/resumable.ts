// Owns the resumable-upload plug point: the checkpoint a caller journals while a multipart upload
// runs, the options that ask for it, and the interface of stores that can resume (S3Store), with
// a guard to tell them from other stores. No SDK types: the recorder depends on these.

import type { Store, StoreMetadata, WriteOptions } from './types.js';

/** One part the server acknowledged. */
export interface CompletedPart {
  /** 1 to 10 000. */
  readonly partNumber: number;
  /** Its size in bytes. */
  readonly bytes: number;
  /** The ETag the server answered for it (an opaque id, not assumed to be an MD5). */
  readonly etag: string;
  /** Base64 digest of its bytes: CRC32C (`checksum: 'crc32c'`) or MD5 (`'md5'`). */
  readonly digest: string;
}

/**
 * Progress of a multipart upload, enough to finish it after a crash: plain JSON, to be journaled
 * as given to `onCheckpoint` and handed back to `resumeUpload`.
 */
export interface UploadCheckpoint {
  /** Format version of this object. */
  readonly version: 1;
  /** The key being written. */
  readonly key: string;
  /** The server's id of the multipart upload. */
  readonly uploadId: string;
  /** Random id this upload writes into the object's metadata, telling its object from other writers'. */
  readonly tag: string;
  /** What the parts' `digest` is, and how the server verifies them: flexible CRC32C or Content-MD5. */
  readonly checksum: 'crc32c' | 'md5';
  /** Size of the first parts; later ones follow from it (see `partBytes`). */
  readonly partBytes: number;
  /** The user metadata of the upload (a fresh upload needs it when the server lost this one). */
  readonly metadata: StoreMetadata;
  /** Parts acknowledged so far, by part number (a crash can leave gaps: those are sent again). */
  readonly parts: readonly CompletedPart[];
}

/** Options of resumable uploads (`uploadMultipart`, `upload` of a stream, `resumeUpload`). */
export interface ResumableUploadOptions extends WriteOptions {
  /**
   * Called with a checkpoint once the multipart upload exists (`part` undefined, `parts` empty
   * unless resuming) and after every part the server acknowledges (`part` is that part, also in
   * `parts`), one call at a time, in order; the upload waits for it, and fails with
   * `UPLOAD_FAILED` when it throws. Journal it to resume after a crash (`resumeUpload`):
   * keep the checkpoint, or, for long uploads, its fields once and then append each `part` (a
   * later line for a part number replaces an earlier one). When given, the caller owns the
   * upload: a failed upload is left on the server to be resumed (or dropped with
   * `abortUpload`) instead of being aborted. A stream that fits one part is a single
   * PutObject and calls it never. A resumed upload calls it only for the parts it sends (and, if
   * the server lost the upload, from the start for the new one, with a new `uploadId`).
   */
  onCheckpoint?: (checkpoint: UploadCheckpoint, part: CompletedPart | undefined) => void | Promise<void>;
}

/** A multipart upload that was started and neither completed nor aborted. */
export interface IncompleteUpload {
  /** The object key it would create. */
  key: string;
  /** S3's id of the upload. */
  uploadId: string;
  /** When it was started, if the server says. */
  initiated: Date | undefined;
}

/**
 * A store whose streamed uploads can be journaled and resumed after a crash (`S3Store`). Its
 * `upload` and `uploadMultipart` take {@link ResumableUploadOptions}.
 */
export interface ResumableStore extends Store {
  upload(
    data: Uint8Array | AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
    options?: ResumableUploadOptions,
  ): Promise<string>;
  uploadMultipart(
    parts: AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
    options?: ResumableUploadOptions,
  ): Promise<string>;
  /**
   * Finishes the upload of `checkpoint` from `source` (the whole object again from its first
   * byte), sending only what the server does not hold; resolves to the key.
   */
  resumeUpload(
    source: AsyncIterable<Uint8Array>,
    checkpoint: UploadCheckpoint,
    options?: ResumableUploadOptions,
  ): Promise<string>;
  /** Drops a journaled upload that is no longer wanted (one already gone counts as dropped). */
  abortUpload(upload: Pick<UploadCheckpoint, 'key' | 'uploadId'>): Promise<void>;
  /** Uploads under `prefix` started and neither completed nor aborted. */
  listIncompleteUploads(prefix?: string): Promise<IncompleteUpload[]>;
}

/** True when `store` can journal and resume uploads (has `resumeUpload`, `abortUpload` and `listIncompleteUploads`). */
export function isResumableStore(store: Store): store is ResumableStore {
  const s = store as Partial<ResumableStore>;
  return (
    typeof s.resumeUpload === 'function' &&
    typeof s.abortUpload === 'function' &&
    typeof s.listIncompleteUploads === 'function'
  );
}
