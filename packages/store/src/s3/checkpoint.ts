// Owns the resumable-upload checkpoint: what a caller journals after each part so a crashed
// multipart upload can be finished later, and the check of a checkpoint handed back to resume.

import { StoreError } from '../errors.js';
import type { CompletedPart, UploadCheckpoint } from '../resumable.js';
import { MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES } from './part-size.js';

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
