// Owns the size of each multipart part: S3's limits and the growth rule that lets 10 000 parts
// reach 5 TiB while recordings of a few GiB keep the smallest parts.

/** S3's smallest part (every part but the last): 5 MiB. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's largest part: 5 GiB. */
export const MAX_PART_BYTES = 5 * 1024 * 1024 * 1024;
/** S3's most parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** S3's largest object: 5 TiB. */
export const MAX_OBJECT_BYTES = 5 * 1024 * 1024 * 1024 * 1024;
/**
 * Once parts of the starting size have carried this many times their size, each next part is
 * 1/GROWTH of the bytes already uploaded (a 0.1 % growth per part). With 5 MiB parts that happens
 * past 4.9 GiB, and 5 TiB is reached after ~7 960 parts (≤ 10 000 for any starting size).
 */
export const GROWTH = 1000;
const MiB = 1024 * 1024;

/**
 * Size in bytes of the next part of a streamed upload of unknown length, after `uploadedBytes`
 * have gone into earlier parts: `minPartBytes` until `GROWTH × minPartBytes` are uploaded, then
 * `uploadedBytes / GROWTH` rounded up to a whole MiB, never over 5 GiB. Depends only on its
 * arguments, so a resumed upload cuts its source into the same parts as the first attempt.
 *
 * @param uploadedBytes - bytes in the parts before this one.
 * @param minPartBytes - the configured (starting) part size, 5 MiB to 5 GiB.
 */
export function partBytesAt(uploadedBytes: number, minPartBytes: number): number {
  const grown = Math.ceil(uploadedBytes / GROWTH / MiB) * MiB;
  return Math.min(MAX_PART_BYTES, Math.max(minPartBytes, grown));
}
