// Owns the S3 calls of one multipart upload: create (asking for a full-object CRC32C), upload a
// part (sent again when it arrives damaged), list the parts a server holds, complete, abort.

import { StoreError } from '../errors.js';
import type { Connection } from './connection.js';
import { DAMAGED_IN_TRANSIT, errorName, statusOf } from './errors.js';
import type { ObjectHeaders } from './object-metadata.js';

/** Attempts per part when the server reports it damaged in transit (BadDigest, a wrong signed hash). */
export const PART_ATTEMPTS = 3;

/** A part's digest as sent: Content-MD5 (md5 mode) or the CRC32C header (crc32c mode), base64. */
export type PartDigest = { md5: string } | { crc32c: string };

/** A part as listed by the server. */
export interface ListedPart {
  readonly bytes: number;
  readonly etag: string;
  readonly crc32c: string | undefined;
}

/** An ETag without quotes (an opaque id; empty when the server sent none). */
export function bareEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '');
}

/**
 * CreateMultipartUpload with the object's headers and encryption, asking for a full-object CRC32C
 * unless `crc32c` is false. Resolves to the upload id and whether the server took the checksum
 * (it echoes `x-amz-checksum-algorithm`; servers that ignore checksums do not). The answer must
 * confirm the encryption asked for (else the upload is aborted: no data was sent).
 */
export async function createMultipart(
  conn: Connection,
  key: string,
  headers: ObjectHeaders,
  crc32c: boolean,
): Promise<{ uploadId: string; crc32c: boolean }> {
  const result = await conn.call(
    'upload',
    key,
    ({ s3, client }) =>
      client.send(
        new s3.CreateMultipartUploadCommand({
          Bucket: conn.bucket,
          Key: key,
          ...headers,
          ...conn.encryption?.write(),
          ...(crc32c ? { ChecksumAlgorithm: 'CRC32C', ChecksumType: 'FULL_OBJECT' } : {}),
        }),
      ),
    { fallback: 'UPLOAD_FAILED' },
  );
  const uploadId = result.UploadId;
  if (uploadId === undefined || uploadId.length === 0) {
    throw new StoreError(
      'UPLOAD_FAILED',
      `could not upload ${JSON.stringify(key)}: the server started a multipart upload without an upload id`,
      { key },
    );
  }
  try {
    conn.encryption?.confirm(result, 'CreateMultipartUpload', key);
  } catch (error) {
    await abortMultipart(conn, key, uploadId).catch(() => undefined);
    throw error;
  }
  return { uploadId, crc32c: crc32c && result.ChecksumAlgorithm === 'CRC32C' };
}

/**
 * One UploadPart carrying its digest. Network errors, throttling and 5xx are retried by the SDK
 * (the body is a buffer, so it can be sent again); a part the server reports damaged in transit
 * (`BadDigest`, `InvalidDigest`, `XAmzContentSHA256Mismatch`), or whose CRC32C it echoes
 * differently, is sent again here with backoff, {@link PART_ATTEMPTS} attempts in all, then
 * `INTEGRITY_ERROR`. The ETag is kept as an opaque id, never compared with an MD5. Resolves to it.
 */
export async function uploadPart(
  conn: Connection,
  key: string,
  uploadId: string,
  partNumber: number,
  body: Uint8Array,
  digest: PartDigest,
): Promise<string> {
  const { s3, client } = await conn.sdk();
  for (let attempt = 1; ; attempt++) {
    let damaged: string;
    try {
      const result = await client.send(
        new s3.UploadPartCommand({
          Bucket: conn.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
          ...('md5' in digest ? { ContentMD5: digest.md5 } : { ChecksumCRC32C: digest.crc32c }),
          ...conn.encryption?.read(),
        }),
      );
      const etag = bareEtag(result.ETag);
      if (etag === '') {
        throw new StoreError(
          'UPLOAD_FAILED',
          `could not upload ${JSON.stringify(key)}: the server returned no ETag for part ${partNumber}`,
          { key },
        );
      }
      if (
        !('crc32c' in digest) ||
        result.ChecksumCRC32C === undefined ||
        result.ChecksumCRC32C === digest.crc32c
      ) {
        return etag;
      }
      damaged = `CRC32C ${result.ChecksumCRC32C} instead of ${digest.crc32c}`;
    } catch (error) {
      if (!DAMAGED_IN_TRANSIT.has(errorName(error)))
        throw conn.error(error, 'upload', key, { fallback: 'UPLOAD_FAILED' });
      damaged = errorName(error);
    }
    if (attempt >= PART_ATTEMPTS) {
      throw new StoreError(
        'INTEGRITY_ERROR',
        `upload of ${JSON.stringify(key)}: part ${partNumber} (${body.length} bytes) arrived damaged ${PART_ATTEMPTS} times (last: ${damaged})`,
        { key },
      );
    }
    await backoff(attempt);
  }
}

/** Waits 100 ms × 2^(attempt − 1), ±50 % jitter, before a part is sent again. */
function backoff(attempt: number): Promise<void> {
  const ms = 100 * 2 ** (attempt - 1) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Every part the server holds for `uploadId` (ListParts, all pages), or `undefined` when the
 * upload no longer exists (completed or aborted).
 */
export async function listParts(
  conn: Connection,
  key: string,
  uploadId: string,
): Promise<Map<number, ListedPart> | undefined> {
  const { s3, client } = await conn.sdk();
  const parts = new Map<number, ListedPart>();
  let marker: string | undefined;
  for (;;) {
    let result: import('@aws-sdk/client-s3').ListPartsCommandOutput;
    try {
      result = await client.send(
        new s3.ListPartsCommand({
          Bucket: conn.bucket,
          Key: key,
          UploadId: uploadId,
          ...(marker === undefined ? {} : { PartNumberMarker: marker }),
          ...conn.encryption?.read(),
        }),
      );
    } catch (error) {
      if (errorName(error) === 'NoSuchUpload' || statusOf(error) === 404) return undefined;
      throw conn.error(error, 'list the uploaded parts of', key);
    }
    for (const p of result.Parts ?? []) {
      if (p.PartNumber === undefined || p.Size === undefined) continue;
      parts.set(p.PartNumber, { bytes: p.Size, etag: bareEtag(p.ETag), crc32c: p.ChecksumCRC32C });
    }
    if (!result.IsTruncated || result.NextPartNumberMarker === undefined) return parts;
    marker = result.NextPartNumberMarker;
  }
}

/** What CompleteMultipartUpload needs besides the parts. */
export interface CompleteRequest {
  /** Total bytes of the parts (`x-amz-mp-object-size`, checked by AWS). */
  readonly totalBytes: number;
  /** Full-object CRC32C (base64) when the upload uses checksums. */
  readonly crc32c: string | undefined;
  /** Refuse to replace an existing object (`If-None-Match: *`). */
  readonly overwrite: boolean;
}

/**
 * CompleteMultipartUpload. Resolves to the answer's ETag (`''` when the server sent none, as RGW
 * does: unknown, not a sign of another writer), or `gone` when the server no longer knows the
 * upload (`NoSuchUpload`: an earlier Complete whose answer was lost, or an abort). A full-object
 * CRC32C the server computed differently is `INTEGRITY_ERROR`.
 */
export async function completeMultipart(
  conn: Connection,
  key: string,
  uploadId: string,
  parts: readonly { partNumber: number; etag: string; crc32c: string | undefined }[],
  request: CompleteRequest,
): Promise<{ etag: string; gone: boolean }> {
  const { s3, client } = await conn.sdk();
  let result: import('@aws-sdk/client-s3').CompleteMultipartUploadCommandOutput;
  try {
    result = await client.send(
      new s3.CompleteMultipartUploadCommand({
        Bucket: conn.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: {
          Parts: parts.map((p) => ({
            PartNumber: p.partNumber,
            ETag: `"${p.etag}"`,
            ...(request.crc32c === undefined || p.crc32c === undefined ? {} : { ChecksumCRC32C: p.crc32c }),
          })),
        },
        MpuObjectSize: request.totalBytes,
        ...(request.crc32c === undefined
          ? {}
          : { ChecksumCRC32C: request.crc32c, ChecksumType: 'FULL_OBJECT' }),
        ...(request.overwrite ? {} : { IfNoneMatch: '*' }),
        ...conn.encryption?.read(),
      }),
    );
  } catch (error) {
    if (errorName(error) === 'NoSuchUpload') return { etag: '', gone: true };
    throw conn.error(error, 'upload', key, { fallback: 'UPLOAD_FAILED' });
  }
  if (
    request.crc32c !== undefined &&
    result.ChecksumCRC32C !== undefined &&
    result.ChecksumCRC32C !== request.crc32c
  ) {
    throw new StoreError(
      'INTEGRITY_ERROR',
      `upload of ${JSON.stringify(key)}: the server's full-object CRC32C ${result.ChecksumCRC32C} differs from ${request.crc32c}, the CRC32C of the ${request.totalBytes} bytes sent`,
      { key },
    );
  }
  return { etag: bareEtag(result.ETag), gone: false };
}

/** AbortMultipartUpload; an upload already gone counts as aborted. */
export async function abortMultipart(conn: Connection, key: string, uploadId: string): Promise<void> {
  const { s3, client } = await conn.sdk();
  try {
    await client.send(
      new s3.AbortMultipartUploadCommand({ Bucket: conn.bucket, Key: key, UploadId: uploadId }),
    );
  } catch (error) {
    if (errorName(error) === 'NoSuchUpload' || statusOf(error) === 404) return;
    throw conn.error(error, 'abort the upload of', key);
  }
}
