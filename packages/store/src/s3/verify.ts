// Owns the check of what a write left on the server: a HEAD (with the SSE-C key) whose upload tag,
// size, checksum and encryption must all match what was sent. The size check is never skipped for
// an object this upload wrote.

import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { StoreError } from '../errors.js';
import type { Connection } from './connection.js';
import { TAG_HEADER } from './object-metadata.js';

/** HeadObject with the SSE-C key (and `ChecksumMode` to get the stored CRC32C when asked). */
export function headObject(
  conn: Connection,
  key: string,
  action: string,
  options: { checksum?: boolean } = {},
): Promise<HeadObjectCommandOutput> {
  return conn.call(
    action,
    key,
    ({ s3, client }) =>
      client.send(
        new s3.HeadObjectCommand({
          Bucket: conn.bucket,
          Key: key,
          ...conn.encryption?.read(),
          ...(options.checksum ? { ChecksumMode: 'ENABLED' } : {}),
        }),
      ),
    { read: true },
  );
}

/** The HEAD of `key`, or `undefined` when there is no object. */
export async function headIfExists(
  conn: Connection,
  key: string,
  action: string,
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await headObject(conn, key, action);
  } catch (error) {
    if (error instanceof StoreError && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

/** `ALREADY_EXISTS` when an object not written by upload `tag` is under `key`. */
export async function refuseExisting(conn: Connection, key: string, tag: string | undefined): Promise<void> {
  const head = await headIfExists(conn, key, 'check for an existing object at');
  if (head !== undefined && (tag === undefined || head.Metadata?.[TAG_HEADER] !== tag)) {
    throw new StoreError(
      'ALREADY_EXISTS',
      `an object already exists under ${JSON.stringify(key)} and overwrite is false; nothing was replaced`,
      { key },
    );
  }
}

/** What a write sent. */
export interface Written {
  /** Tag in the metadata of the object this write created. */
  readonly tag: string;
  /** Bytes sent. */
  readonly bytes: number;
  /** Full-object CRC32C (base64) when checksums are in use. */
  readonly crc32c: string | undefined;
}

/**
 * Checks the object under `key` after a write: it must exist; when it carries this write's tag,
 * its size must equal the bytes sent, its full-object CRC32C (when the server reports one) the one
 * computed, and its encryption the one asked for (`INTEGRITY_ERROR` / `ENCRYPTION_ERROR`). Only an
 * object carrying another upload's tag is skipped: a concurrent audex writer replaced it after this
 * one (last writer wins) and checks it itself. An object without a tag is checked (nothing proves
 * it is not this one).
 */
export async function verifyWritten(conn: Connection, key: string, written: Written): Promise<void> {
  let head: HeadObjectCommandOutput;
  try {
    head = await headObject(conn, key, 'verify', { checksum: written.crc32c !== undefined });
  } catch (error) {
    if (error instanceof StoreError && error.code === 'NOT_FOUND') {
      throw new StoreError(
        'INTEGRITY_ERROR',
        `upload of ${JSON.stringify(key)} succeeded but the object is missing`,
        {
          key,
        },
      );
    }
    throw error;
  }
  const tag = head.Metadata?.[TAG_HEADER];
  if (tag !== undefined && tag !== written.tag) return;
  if (head.ContentLength !== written.bytes) {
    throw new StoreError(
      'INTEGRITY_ERROR',
      `upload of ${JSON.stringify(key)}: sent ${written.bytes} bytes but the server stored ${String(head.ContentLength)}`,
      { key },
    );
  }
  const stored = head.ChecksumCRC32C;
  if (
    written.crc32c !== undefined &&
    stored !== undefined &&
    head.ChecksumType !== 'COMPOSITE' &&
    stored !== written.crc32c
  ) {
    throw new StoreError(
      'INTEGRITY_ERROR',
      `upload of ${JSON.stringify(key)}: the server stored CRC32C ${stored}, the ${written.bytes} bytes sent have ${written.crc32c}`,
      { key },
    );
  }
  conn.encryption?.confirm(head, 'HeadObject after the upload', key);
}
