// Owns one streamed upload: cutting the source into growing parts held in a bounded buffer pool,
// one PutObject when it fits a part, else a multipart upload that journals checkpoints, skips the
// parts a resumed upload already holds, completes, verifies, and on failure aborts (or, when the
// caller journals checkpoints, leaves the upload to be resumed).

import { createHash } from 'node:crypto';
import { checkChunk } from '../_bytes.js';
import { StoreError } from '../errors.js';
import type { CompletedPart, ResumableUploadOptions, UploadCheckpoint } from '../resumable.js';
import type { StoreMetadata } from '../types.js';
import type { Connection } from './connection.js';
import { Crc32c } from './crc32c.js';
import {
  abortMultipart,
  completeMultipart,
  createMultipart,
  type PartDigest,
  uploadPart,
} from './multipart.js';
import { type ObjectHeaders, TAG_HEADER } from './object-metadata.js';
import { PartPool } from './part-pool.js';
import { MAX_OBJECT_BYTES, partBytesAt } from './part-size.js';
import { headIfExists, refuseExisting, verifyWritten } from './verify.js';

/** An upload to continue: its id, how its parts were digested, and the parts it may keep. */
export interface ResumePoint {
  readonly uploadId: string;
  readonly checksum: 'crc32c' | 'md5';
  readonly partBytes: number;
  /** Parts the server still holds exactly as journaled, by part number. */
  readonly keep: ReadonlyMap<number, CompletedPart>;
}

/** Everything one streamed upload needs besides its source. */
export interface UploadPlan {
  readonly key: string;
  /** The user metadata (for checkpoints). */
  readonly metadata: StoreMetadata;
  /** Headers of the object, including the tag. */
  readonly headers: ObjectHeaders;
  /** This upload's tag (also in `headers`). */
  readonly tag: string;
  readonly overwrite: boolean;
  readonly onCheckpoint: ResumableUploadOptions['onCheckpoint'];
  /** Continue this multipart upload instead of starting one. */
  readonly resume: ResumePoint | undefined;
  /** Called when a failed upload could not be aborted (server unreachable): retry later. */
  readonly deferAbort: (key: string, uploadId: string) => void;
}

/** A failure of the caller's data stream, told apart from S3 errors. */
class SourceFailure {
  constructor(readonly error: unknown) {}
}

/** Failures after which the multipart upload is useless even to a caller who journals it. */
const HOPELESS = new Set(['ALREADY_EXISTS', 'ENCRYPTION_ERROR', 'INVALID_ARGUMENT']);

/** One streamed upload (use once). */
export class StreamUpload {
  readonly #conn: Connection;
  readonly #plan: UploadPlan;
  readonly #pool: PartPool;
  readonly #inflight = new Set<Promise<void>>();
  readonly #done = new Map<number, CompletedPart>();
  #failure: { error: unknown } | undefined;
  #uploadId: string | undefined;
  #checksum: 'crc32c' | 'md5';
  #partCount = 0;
  #uploadedBytes = 0;
  readonly #whole = new Crc32c();
  #journal: Promise<void> = Promise.resolve();

  /**
   * @param conn - the store's connection.
   * @param plan - key, headers, options and what to resume.
   */
  constructor(conn: Connection, plan: UploadPlan) {
    this.#conn = conn;
    this.#plan = plan;
    this.#pool = new PartPool(conn.options.queueSize + 1);
    this.#uploadId = plan.resume?.uploadId;
    // Journaled parts the server still holds stay in every checkpoint until the source reaches them.
    for (const part of plan.resume?.keep.values() ?? []) this.#done.set(part.partNumber, part);
    this.#checksum = plan.resume?.checksum ?? (conn.options.integrity === 'md5' ? 'md5' : 'crc32c');
  }

  /**
   * Uploads `source`; resolves once the object is stored and verified.
   *
   * @throws StoreError `UPLOAD_FAILED` (the source threw, or the server failed past retries),
   *   `INTEGRITY_ERROR`, `ENCRYPTION_ERROR`, `ALREADY_EXISTS`…
   */
  async run(source: AsyncIterable<Uint8Array>): Promise<void> {
    const { key } = this.#plan;
    const minPartBytes = this.#plan.resume?.partBytes ?? this.#conn.options.partBytes;
    const iterator = source[Symbol.asyncIterator]();
    let exhausted = false;
    let current: Buffer | undefined;
    let filled = 0;
    let total = 0;
    try {
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await iterator.next();
          if (!next.done) checkChunk(next.value, key);
        } catch (error) {
          exhausted = true;
          throw new SourceFailure(error);
        }
        if (next.done) {
          exhausted = true;
          break;
        }
        const chunk = next.value;
        total += chunk.length;
        if (total > MAX_OBJECT_BYTES) {
          throw new StoreError(
            'INVALID_ARGUMENT',
            `upload of ${JSON.stringify(key)}: the stream passed S3's limit of ${MAX_OBJECT_BYTES} bytes (5 TiB) per object`,
            { key },
          );
        }
        let offset = 0;
        while (offset < chunk.length) {
          // A full part goes out only once more bytes follow, so data of exactly one part is one PUT.
          if (current !== undefined && filled === current.length) {
            await this.#dispatch(current, filled);
            current = undefined;
          }
          if (current === undefined) {
            current = await this.#take(partBytesAt(this.#uploadedBytes, minPartBytes));
            filled = 0;
          }
          const n = Math.min(current.length - filled, chunk.length - offset);
          current.set(chunk.subarray(offset, offset + n), filled);
          filled += n;
          offset += n;
        }
        if (this.#failure !== undefined) throw this.#failure.error;
      }
      if (this.#uploadId === undefined) {
        await this.#putSingle(current?.subarray(0, filled) ?? new Uint8Array(0));
        return;
      }
      if (current !== undefined && filled > 0) await this.#dispatch(current, filled);
      current = undefined;
      while (this.#inflight.size > 0) await Promise.race(this.#inflight);
      if (this.#failure !== undefined) throw this.#failure.error;
      await this.#journal;
      await this.#complete(total);
    } catch (cause) {
      await Promise.allSettled([...this.#inflight]);
      await this.#journal.catch(() => undefined);
      await this.#dropUpload(cause);
      if (cause instanceof SourceFailure) {
        if (cause.error instanceof StoreError) throw cause.error;
        throw new StoreError(
          'UPLOAD_FAILED',
          `upload of ${JSON.stringify(key)} failed: the data stream threw`,
          {
            key,
            cause: cause.error,
          },
        );
      }
      throw this.#conn.error(cause, 'upload', key, { fallback: 'UPLOAD_FAILED' });
    } finally {
      if (!exhausted) {
        try {
          await iterator.return?.();
        } catch {
          // The upload's own error is the one to report.
        }
      }
    }
  }

  /** A part buffer of `bytes`, waiting for a part in flight to settle when the pool is used up. */
  async #take(bytes: number): Promise<Buffer> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure.error;
      const buffer = this.#pool.take(bytes);
      if (buffer !== undefined) return buffer;
      if (this.#inflight.size === 0) throw new Error('part pool exhausted with no part in flight');
      await Promise.race(this.#inflight);
    }
  }

  /** Sends part `#partCount + 1` (or keeps the server's copy when resuming and the bytes match). */
  async #dispatch(buffer: Buffer, length: number): Promise<void> {
    const { key } = this.#plan;
    if (this.#uploadId === undefined) await this.#create();
    const uploadId = this.#uploadId!;
    const partNumber = ++this.#partCount;
    const body = buffer.subarray(0, length);
    this.#uploadedBytes += length;
    let digest: PartDigest;
    let value: string;
    if (this.#checksum === 'crc32c') {
      this.#whole.update(body);
      value = new Crc32c().update(body).digestBase64();
      digest = { crc32c: value };
    } else {
      value = createHash('md5').update(body).digest('base64');
      digest = { md5: value };
    }
    const kept = this.#plan.resume?.keep.get(partNumber);
    if (kept !== undefined && kept.bytes === length && kept.digest === value) {
      // Already on the server and already journaled: nothing to send, nothing to record.
      this.#pool.release(buffer);
      return;
    }
    // The source no longer gives this part's bytes: it is sent again (and journaled anew).
    if (kept !== undefined) this.#done.delete(partNumber);
    const sending: Promise<void> = uploadPart(this.#conn, key, uploadId, partNumber, body, digest)
      .then((etag) => this.#record({ partNumber, bytes: length, etag, digest: value }))
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => {
        this.#inflight.delete(sending);
        this.#pool.release(buffer);
      });
    this.#inflight.add(sending);
  }

  /** Notes an acknowledged part and journals a checkpoint (the part's promise waits for it). */
  #record(part: CompletedPart): Promise<void> {
    this.#done.set(part.partNumber, part);
    return this.#checkpoint(part);
  }

  /** Calls `onCheckpoint` with the current state and the part just added, one call at a time, in order. */
  #checkpoint(part?: CompletedPart): Promise<void> {
    const onCheckpoint = this.#plan.onCheckpoint;
    if (onCheckpoint === undefined || this.#uploadId === undefined) return Promise.resolve();
    const checkpoint: UploadCheckpoint = {
      version: 1,
      key: this.#plan.key,
      uploadId: this.#uploadId,
      tag: this.#plan.tag,
      checksum: this.#checksum,
      partBytes: this.#plan.resume?.partBytes ?? this.#conn.options.partBytes,
      metadata: this.#plan.metadata,
      parts: [...this.#done.values()].sort((a, b) => a.partNumber - b.partNumber),
    };
    this.#journal = this.#journal.then(() => onCheckpoint(checkpoint, part));
    this.#journal.catch((error: unknown) => {
      this.#failure ??= {
        error: new StoreError(
          'UPLOAD_FAILED',
          `upload of ${JSON.stringify(this.#plan.key)}: onCheckpoint threw`,
          {
            key: this.#plan.key,
            cause: error,
          },
        ),
      };
    });
    return this.#journal.catch(() => undefined);
  }

  /** Starts the multipart upload (after checking the key is free when overwrite is false). */
  async #create(): Promise<void> {
    const { key, headers, overwrite } = this.#plan;
    if (!overwrite) await refuseExisting(this.#conn, key, undefined);
    const wantCrc = this.#checksum === 'crc32c';
    const created = await createMultipart(this.#conn, key, headers, wantCrc);
    this.#uploadId = created.uploadId;
    if (wantCrc && !created.crc32c) {
      if (this.#conn.options.integrity === 'crc32c') {
        throw new StoreError(
          'INTEGRITY_ERROR',
          `upload of ${JSON.stringify(key)}: integrity 'crc32c' was asked for but the server did not accept a CRC32C checksum for the multipart upload`,
          { key },
        );
      }
      this.#checksum = 'md5';
    }
    await this.#checkpoint();
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  /** Completes the multipart upload, then verifies the object. */
  async #complete(totalBytes: number): Promise<void> {
    const { key, overwrite, tag } = this.#plan;
    const parts: { partNumber: number; etag: string; crc32c: string | undefined }[] = [];
    for (let n = 1; n <= this.#partCount; n++) {
      const part = this.#done.get(n);
      if (part === undefined) {
        throw new StoreError(
          'UPLOAD_FAILED',
          `upload of ${JSON.stringify(key)}: part ${n} was never acknowledged`,
          { key },
        );
      }
      parts.push({
        partNumber: n,
        etag: part.etag,
        crc32c: this.#checksum === 'crc32c' ? part.digest : undefined,
      });
    }
    // RGW ignores If-None-Match on CompleteMultipartUpload: look before completing.
    if (!overwrite) await refuseExisting(this.#conn, key, tag);
    const crc32c = this.#checksum === 'crc32c' ? this.#whole.digestBase64() : undefined;
    try {
      const { gone } = await completeMultipart(this.#conn, key, this.#uploadId!, parts, {
        totalBytes,
        crc32c,
        overwrite,
      });
      if (gone) {
        throw new StoreError(
          'UPLOAD_FAILED',
          `upload of ${JSON.stringify(key)}: the server lost multipart upload ${this.#uploadId} before it completed (aborted by another process?)`,
          { key },
        );
      }
    } catch (error) {
      // The answer may be lost or wrong while the upload did complete (a retried Complete then
      // finds no upload: NoSuchUpload on S3 and RGW, 500 on s3rver): the object carrying this
      // upload's tag says so.
      const head = await headIfExists(this.#conn, key, 'verify').catch(() => undefined);
      if (head?.Metadata?.[TAG_HEADER] !== tag) throw error;
    }
    await verifyWritten(this.#conn, key, { tag, bytes: totalBytes, crc32c });
  }

  /** One PutObject with Content-MD5 (and CRC32C unless integrity is 'md5'), then verification. */
  async #putSingle(body: Uint8Array): Promise<void> {
    const conn = this.#conn;
    const { key, headers, overwrite, tag } = this.#plan;
    if (!overwrite) await refuseExisting(conn, key, undefined);
    const md5 = createHash('md5').update(body).digest('base64');
    const crc32c = this.#checksum === 'crc32c' ? new Crc32c().update(body).digestBase64() : undefined;
    const result = await conn.call(
      'upload',
      key,
      ({ s3, client }) =>
        client.send(
          new s3.PutObjectCommand({
            Bucket: conn.bucket,
            Key: key,
            Body: body,
            ContentLength: body.length,
            ContentMD5: md5,
            ...(crc32c === undefined ? {} : { ChecksumCRC32C: crc32c }),
            ...headers,
            ...conn.encryption?.write(),
            ...(overwrite ? {} : { IfNoneMatch: '*' }),
          }),
        ),
      { fallback: 'UPLOAD_FAILED' },
    );
    try {
      conn.encryption?.confirm(result, 'PutObject', key);
    } catch (error) {
      // The server stored the bytes without the encryption asked for: do not leave them there.
      await conn
        .call('delete the unencrypted copy of', key, ({ s3, client }) =>
          client.send(new s3.DeleteObjectCommand({ Bucket: conn.bucket, Key: key })),
        )
        .catch(() => undefined);
      throw error;
    }
    const confirmed = result.ChecksumCRC32C;
    if (crc32c !== undefined && confirmed !== undefined && confirmed !== crc32c) {
      throw new StoreError(
        'INTEGRITY_ERROR',
        `upload of ${JSON.stringify(key)}: the server computed CRC32C ${confirmed} for the ${body.length} bytes sent, which have ${crc32c}`,
        { key },
      );
    }
    if (conn.options.integrity === 'crc32c' && confirmed === undefined) {
      throw new StoreError(
        'INTEGRITY_ERROR',
        `upload of ${JSON.stringify(key)}: integrity 'crc32c' was asked for but the server did not confirm a CRC32C checksum`,
        { key },
      );
    }
    await verifyWritten(conn, key, {
      tag,
      bytes: body.length,
      crc32c: confirmed === undefined ? undefined : crc32c,
    });
  }

  /** After a failure: aborts the multipart upload, unless the caller journals it and it can still be resumed. */
  async #dropUpload(cause: unknown): Promise<void> {
    const uploadId = this.#uploadId;
    if (uploadId === undefined) return;
    const error = cause instanceof SourceFailure ? cause.error : cause;
    const hopeless = error instanceof StoreError && HOPELESS.has(error.code);
    if (this.#plan.onCheckpoint !== undefined && !hopeless) return;
    try {
      await abortMultipart(this.#conn, this.#plan.key, uploadId);
    } catch {
      this.#plan.deferAbort(this.#plan.key, uploadId);
    }
  }
}
