// Owns S3Store's options: their documentation and their validation into one readonly object.

import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { StoreError } from '../errors.js';
import type { KeyBuilder } from '../key-builder.js';
import { Encryption, type S3Encryption } from './encryption.js';
import { MAX_PART_BYTES, MIN_PART_BYTES } from './part-size.js';

/**
 * How uploads are verified (see the README's "Integrity" section).
 *
 * - `'auto'` (default): every upload asks for a CRC32C flexible checksum (full-object for multipart
 *   uploads) and uses it when the server confirms it (AWS S3); otherwise Content-MD5 on every
 *   request (checked by servers that verify it, e.g. Ceph RGW) and the stored size.
 * - `'crc32c'`: as `'auto'`, but an upload the server does not confirm a CRC32C for fails
 *   (`INTEGRITY_ERROR`), for servers known to verify checksums.
 * - `'md5'`: no flexible-checksum headers at all (for servers that reject them); Content-MD5 and
 *   the stored size.
 */
export type S3Integrity = 'auto' | 'crc32c' | 'md5';

/** Options of {@link S3Store}. Anything not given comes from the standard AWS environment. */
export interface S3StoreOptions {
  /** Bucket holding the objects (must exist). */
  bucket: string;
  /**
   * Endpoint URL of an S3-compatible server, e.g. `http://127.0.0.1:9000`. Default: AWS, or the
   * `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` environment variables.
   */
  endpoint?: string;
  /**
   * Region. Default: `AWS_REGION` / `AWS_DEFAULT_REGION` / the AWS config file; `'us-east-1'` when an
   * `endpoint` is given and no region is found.
   */
  region?: string;
  /** Address buckets as `endpoint/bucket/key` (needed by most S3-compatible servers). Default `false`. */
  forcePathStyle?: boolean;
  /** Static credentials. Default: the AWS credential chain (environment, profile files, SSO, IMDS…). */
  credentials?: {
    /** Access key id. */
    accessKeyId: string;
    /** Secret access key; never appears in errors. */
    secretAccessKey: string;
    /** Session token of temporary credentials. */
    sessionToken?: string;
  };
  /** Builds keys for this store. Default `new KeyBuilder()`. */
  keyBuilder?: KeyBuilder;
  /**
   * Attempts per request, retried with exponential backoff and jitter on throttling, 5xx and
   * network errors (the SDK's standard retry strategy). Default 5.
   */
  maxAttempts?: number;
  /**
   * Size in bytes of the first parts of a streamed upload, 5 MiB (S3's minimum) to 5 GiB. Default
   * 5 MiB. Parts grow once a stream has used 1000 parts of this size (each next part is 1/1000 of
   * the bytes uploaded so far, at most 5 GiB), so 10 000 parts reach S3's 5 TiB object limit. A
   * streamed upload holds at most `queueSize + 1` part buffers (allocated on demand, reused).
   */
  partBytes?: number;
  /** Parts a streamed upload sends in parallel (while one more buffer fills). Default 2. */
  queueSize?: number;
  /** How uploads are verified. Default `'auto'`. */
  integrity?: S3Integrity;
  /**
   * Server-side encryption of every object written (SSE-C: also read). An answer that does not
   * confirm it fails the write with `ENCRYPTION_ERROR` and leaves no object. Default: none asked
   * (the bucket's default applies).
   */
  encryption?: S3Encryption;
  /** Connection timeout in ms. Default 10 000. */
  connectionTimeout?: number;
  /** Extra S3 client configuration, applied last (e.g. a custom `requestHandler` or `logger`). */
  clientConfig?: S3ClientConfig;
}

/** S3StoreOptions checked once, with defaults applied. */
export interface ResolvedOptions {
  readonly bucket: string;
  readonly partBytes: number;
  readonly queueSize: number;
  readonly integrity: S3Integrity;
  readonly encryption: Encryption | undefined;
  readonly raw: S3StoreOptions;
}

/**
 * Checks `options` (`INVALID_OPTIONS` naming the bad value and what is allowed) and applies the
 * defaults.
 */
export function resolveOptions(options: S3StoreOptions): ResolvedOptions {
  if (typeof options?.bucket !== 'string' || options.bucket.length === 0) {
    throw new StoreError('INVALID_OPTIONS', 'S3Store needs a bucket name (options.bucket)');
  }
  const legacy = options as { partSize?: unknown; checksums?: unknown };
  if (legacy.partSize !== undefined || legacy.checksums !== undefined) {
    throw new StoreError(
      'INVALID_OPTIONS',
      `S3Store options partSize and checksums were replaced by partBytes and integrity ('auto' | 'crc32c' | 'md5')`,
    );
  }
  const partBytes = options.partBytes ?? MIN_PART_BYTES;
  if (!Number.isSafeInteger(partBytes) || partBytes < MIN_PART_BYTES || partBytes > MAX_PART_BYTES) {
    throw new StoreError(
      'INVALID_OPTIONS',
      `S3Store partBytes must be an integer from ${MIN_PART_BYTES} (5 MiB) to ${MAX_PART_BYTES} (5 GiB), got ${String(partBytes)}`,
    );
  }
  const queueSize = options.queueSize ?? 2;
  if (!Number.isInteger(queueSize) || queueSize < 1 || queueSize > 64) {
    throw new StoreError(
      'INVALID_OPTIONS',
      `S3Store queueSize must be an integer from 1 to 64, got ${String(queueSize)}`,
    );
  }
  const integrity = options.integrity ?? 'auto';
  if (integrity !== 'auto' && integrity !== 'crc32c' && integrity !== 'md5') {
    throw new StoreError(
      'INVALID_OPTIONS',
      `S3Store integrity must be 'auto', 'crc32c' or 'md5', got ${JSON.stringify(integrity) ?? String(integrity)}`,
    );
  }
  return {
    bucket: options.bucket,
    partBytes,
    queueSize,
    integrity,
    encryption: options.encryption === undefined ? undefined : new Encryption(options.encryption),
    raw: options,
  };
}
