// Owns the resumable-upload checkpoint: what a caller journals after each part so a crashed
// multipart upload can be finished later, and the check of a checkpoint handed back to resume.

import { StoreError } from '../errors.js';
import type { StoreMetadata, WriteOptions } from '../types.js';
import { MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES } from './part-size.js';

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
 * as given to `onCheckpoint` and handed back to `S3Store.resumeUpload`.
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
   * `UPLOAD_FAILED` when it throws. Journal it to resume after a crash (`S3Store.resumeUpload`):
   * keep the checkpoint, or, for long uploads, its fields once and then append each `part` (a
   * later line for a part number replaces an earlier one). When given, the caller owns the
   * upload: a failed upload is left on the server to be resumed (or dropped with
   * `S3Store.abortUpload`) instead of being aborted. A stream that fits one part is a single
   * PutObject and calls it never. A resumed upload calls it only for the parts it sends (and, if
   * the server lost the upload, from the start for the new one, with a new `uploadId`).
   */
  onCheckpoint?: (checkpoint: UploadCheckpoint, part: CompletedPart | undefined) => void | Promise<void>;
}

/** Checks a checkpoint handed back to `resumeUpload`, throwing `INVALID_ARGUMENT` naming the bad field. */
export function checkCheckpoint(value: unknown): UploadCheckpoint {
  const c = value as Partial<UploadCheckpoint> | null;
  const bad = (why: string): StoreError =>
    new StoreError(
      'INVALID_ARGUMENT',
      `resumeUpload needs a checkpoint given by onCheckpoint; this one ${why}`,
      {
        ...(typeof c?.key === 'string' ? { key: c.key } : {}),
      },
    );
  if (typeof c !== 'object' || c === null) throw bad(`is ${String(value)}`);
  if (c.version !== 1) throw bad(`has version ${JSON.stringify(c.version)}, expected 1`);
  for (const field of ['key', 'uploadId', 'tag'] as const) {
    if (typeof c[field] !== 'string' || c[field].length === 0) throw bad(`has no ${field}`);
  }
  if (c.checksum !== 'crc32c' && c.checksum !== 'md5')
    throw bad(`has checksum ${JSON.stringify(c.checksum)}`);
  if (!Number.isSafeInteger(c.partBytes) || c.partBytes! < MIN_PART_BYTES || c.partBytes! > MAX_PART_BYTES) {
    throw bad(`has partBytes ${String(c.partBytes)}`);
  }
  if (typeof c.metadata !== 'object' || c.metadata === null || Array.isArray(c.metadata))
    throw bad('has no metadata object');
  if (!Array.isArray(c.parts)) throw bad('has no parts list');
  for (const p of c.parts as unknown[]) {
    const part = p as Partial<CompletedPart> | null;
    if (
      typeof part !== 'object' ||
      part === null ||
      !Number.isInteger(part.partNumber) ||
      part.partNumber! < 1 ||
      part.partNumber! > MAX_PARTS ||
      !Number.isSafeInteger(part.bytes) ||
      part.bytes! < 0 ||
      typeof part.etag !== 'string' ||
      typeof part.digest !== 'string'
    ) {
      throw bad(`has a malformed part ${JSON.stringify(p)}`);
    }
  }
  return c as UploadCheckpoint;
}
