// Owns S3Store, the Store on any S3-compatible server: the public operations, each delegating the
// heavy lifting (streamed and resumed uploads, reads, verification) to the modules beside it.

import type { S3Client } from '@aws-sdk/client-s3';
import { checkData, DEFAULT_PAGE_SIZE, overwriteOption, positiveInteger } from '../_bytes.js';
import { isStoreError, StoreError } from '../errors.js';
import { KeyBuilder } from '../key-builder.js';
import type {
  IncompleteUpload,
  ResumableStore,
  ResumableUploadOptions,
  UploadCheckpoint,
} from '../resumable.js';
import type {
  DownloadOptions,
  DownloadStreamOptions,
  ListOptions,
  StoreMetadata,
  WriteOptions,
} from '../types.js';
import { validateKey, validatePrefix } from '../validate-key.js';
import { checkCheckpoint } from './checkpoint.js';
import { Connection } from './connection.js';
import { copyObject } from './copy.js';
import { Crc32c } from './crc32c.js';
import { downloadBytes, downloadStream } from './download.js';
import { abortMultipart, createMultipart, listParts } from './multipart.js';
import { decodeHeaders, encodeHeaders, newTag, TAG_HEADER } from './object-metadata.js';
import { resolveOptions, type S3StoreOptions } from './options.js';
import { StreamUpload, type UploadPlan } from './stream-upload.js';
import { headIfExists, headObject, verifyWritten } from './verify.js';

/**
 * A `Store` on any S3-compatible object store through `@aws-sdk/client-s3` (an optional peer
 * dependency, loaded on first use: constructing an `S3Store` loads no SDK code).
 *
 * Streams go up as multipart uploads of growing parts (10 000 parts reach S3's 5 TiB limit) from a
 * bounded buffer pool; every upload is verified (CRC32C or Content-MD5, and always the stored size)
 * without assuming ETags are MD5s; uploads can be journaled and resumed after a crash; SSE-S3,
 * SSE-KMS and SSE-C fail closed. Errors never carry credentials or keys.
 */
export class S3Store implements ResumableStore {
  /** Builds keys for this store. */
  readonly keyBuilder: KeyBuilder;
  /** The bucket. */
  readonly bucket: string;
  readonly #conn: Connection;
  /** Multipart uploads whose abort failed (e.g. the server was down); retried on the next upload. */
  readonly #pendingAborts = new Map<string, string>();
  #encryptionChecked: Promise<void> | undefined;

  /**
   * @param options - bucket, connection, upload and encryption options.
   * @throws StoreError `INVALID_OPTIONS` naming the bad option and what is allowed.
   */
  constructor(options: S3StoreOptions) {
    const resolved = resolveOptions(options);
    this.bucket = resolved.bucket;
    this.keyBuilder = options.keyBuilder ?? new KeyBuilder();
    this.#conn = new Connection(resolved);
  }

  /** The SDK client (created, and the SDK loaded, on first call). */
  async client(): Promise<S3Client> {
    return (await this.#conn.sdk()).client;
  }

  /** Closes the SDK client's connections. */
  async destroy(): Promise<void> {
    await this.#conn.destroy();
  }

  /**
   * Stores `data` (bytes, or an async iterable of byte chunks) under `key` with `metadata`,
   * replacing an existing object unless `options.overwrite` is `false`; verified before it
   * resolves to the key. Bytes and streams alike go through the streamed uploader: one PutObject
   * when they fit a part, else a multipart upload (`options.onCheckpoint` makes it resumable).
   */
  async upload(
    data: Uint8Array | AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
    options: ResumableUploadOptions = {},
  ): Promise<string> {
    validateKey(key);
    checkData(data, key);
    const source = data instanceof Uint8Array ? single(data) : data;
    await this.#write(source, this.#plan(key, metadata, options, newTag(), undefined));
    return key;
  }

  /** Stores the concatenation of `parts` under `key`, as {@link S3Store.upload} does with a stream. */
  async uploadMultipart(
    parts: AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
    options: ResumableUploadOptions = {},
  ): Promise<string> {
    validateKey(key);
    checkData(parts, key);
    await this.#write(parts, this.#plan(key, metadata, options, newTag(), undefined));
    return key;
  }

  /**
   * Finishes a multipart upload journaled with `onCheckpoint`, e.g. after a crash: lists the parts
   * the server holds (ListParts), keeps those that match the checkpoint and whose bytes `source`
   * reproduces (same size and digest), sends only the others, completes and verifies. `source`
   * must yield the whole object again from its first byte. When the server no longer has the
   * upload, an object the upload already completed is verified against `source`; otherwise the
   * upload starts afresh with the checkpoint's metadata (a new upload id, journaled the same way).
   * Resolves to the key.
   *
   * @throws StoreError `INVALID_ARGUMENT` for a malformed checkpoint, then as `uploadMultipart`.
   */
  async resumeUpload(
    source: AsyncIterable<Uint8Array>,
    checkpoint: UploadCheckpoint,
    options: ResumableUploadOptions = {},
  ): Promise<string> {
    const cp = checkCheckpoint(checkpoint);
    validateKey(cp.key);
    checkData(source, cp.key);
    const listed = await listParts(this.#conn, cp.key, cp.uploadId);
    if (listed === undefined) {
      const head = await headIfExists(this.#conn, cp.key, 'resume the upload of');
      if (head?.Metadata?.[TAG_HEADER] === cp.tag) {
        await this.#verifyCompleted(source, cp);
        return cp.key;
      }
      await this.#write(source, this.#plan(cp.key, cp.metadata, options, newTag(), undefined));
      return cp.key;
    }
    const keep = new Map(
      cp.parts
        .filter((p) => {
          const held = listed.get(p.partNumber);
          return (
            held !== undefined &&
            held.bytes === p.bytes &&
            held.etag === p.etag &&
            (cp.checksum !== 'crc32c' || held.crc32c === undefined || held.crc32c === p.digest)
          );
        })
        .map((p) => [p.partNumber, p] as const),
    );
    const resume = { uploadId: cp.uploadId, checksum: cp.checksum, partBytes: cp.partBytes, keep };
    await this.#write(source, this.#plan(cp.key, cp.metadata, options, cp.tag, resume));
    return cp.key;
  }

  /** The upload's object exists already (an earlier attempt completed it): check `source` against it. */
  async #verifyCompleted(source: AsyncIterable<Uint8Array>, cp: UploadCheckpoint): Promise<void> {
    const crc = cp.checksum === 'crc32c' ? new Crc32c() : undefined;
    let bytes = 0;
    for await (const chunk of source) {
      bytes += chunk.length;
      crc?.update(chunk);
    }
    await verifyWritten(this.#conn, cp.key, { tag: cp.tag, bytes, crc32c: crc?.digestBase64() });
  }

  /** Drops a multipart upload (e.g. one journaled but no longer wanted); one already gone counts as dropped. */
  async abortUpload(upload: Pick<UploadCheckpoint, 'key' | 'uploadId'>): Promise<void> {
    validateKey(upload?.key);
    if (typeof upload.uploadId !== 'string' || upload.uploadId.length === 0) {
      throw new StoreError(
        'INVALID_ARGUMENT',
        `abortUpload needs an uploadId, got ${String(upload.uploadId)}`,
        {
          key: upload.key,
        },
      );
    }
    await abortMultipart(this.#conn, upload.key, upload.uploadId);
  }

  #plan(
    key: string,
    metadata: StoreMetadata | undefined,
    options: ResumableUploadOptions,
    tag: string,
    resume: UploadPlan['resume'],
  ): UploadPlan {
    const onCheckpoint = options.onCheckpoint;
    if (onCheckpoint !== undefined && typeof onCheckpoint !== 'function') {
      throw new StoreError(
        'INVALID_ARGUMENT',
        `onCheckpoint must be a function, got ${typeof onCheckpoint}`,
        { key },
      );
    }
    return {
      key,
      metadata: metadata ?? {},
      headers: encodeHeaders(metadata, key, tag),
      tag,
      overwrite: overwriteOption(options.overwrite, true, key),
      onCheckpoint,
      resume,
      deferAbort: (k, uploadId) => this.#pendingAborts.set(uploadId, k),
    };
  }

  async #write(source: AsyncIterable<Uint8Array>, plan: UploadPlan): Promise<void> {
    await this.#flushPendingAborts();
    await this.#checkEncryption(plan.key);
    await new StreamUpload(this.#conn, plan).run(source);
  }

  /**
   * Before the first write: does the server apply the encryption asked for? A CreateMultipartUpload
   * (aborted at once, no data) must confirm it, so a server that ignores it (RGW with SSE-S3) fails
   * before any unencrypted byte is stored or any object replaced.
   */
  #checkEncryption(key: string): Promise<void> {
    if (this.#conn.encryption === undefined) return Promise.resolve();
    if (this.#encryptionChecked === undefined) {
      const probe = (async () => {
        const { uploadId } = await createMultipart(this.#conn, key, { Metadata: {} }, false);
        await abortMultipart(this.#conn, key, uploadId);
      })();
      this.#encryptionChecked = probe;
      // Only a refusal is final; a network failure is tried again on the next write.
      probe.catch((error: unknown) => {
        if (!isStoreError(error, 'ENCRYPTION_ERROR') && this.#encryptionChecked === probe)
          this.#encryptionChecked = undefined;
      });
    }
    return this.#encryptionChecked;
  }

  async #flushPendingAborts(): Promise<void> {
    for (const [uploadId, key] of [...this.#pendingAborts]) {
      try {
        await abortMultipart(this.#conn, key, uploadId);
        this.#pendingAborts.delete(uploadId);
      } catch {
        // Still unreachable: kept for the next upload.
      }
    }
  }

  /** The metadata given at upload, JSON types kept (`{}` when none was given); `NOT_FOUND` when missing. */
  async getMetadata(key: string): Promise<StoreMetadata> {
    validateKey(key);
    const head = await headObject(this.#conn, key, 'read metadata of');
    return decodeHeaders(head.Metadata, key);
  }

  /** The whole object, or `options.range` of it (a Range GET); `NOT_FOUND` when missing. */
  download(key: string, options?: DownloadOptions): Promise<Uint8Array>;
  /** The object (or its range) in chunks of `chunkSize` bytes; errors surface on iteration. */
  download(key: string, options: DownloadStreamOptions): AsyncIterable<Uint8Array>;
  download(
    key: string,
    options?: DownloadOptions | DownloadStreamOptions,
  ): Promise<Uint8Array> | AsyncIterable<Uint8Array> {
    if (options?.stream) return downloadStream(this.#conn, key, options.chunkSize, options.range);
    return downloadBytes(this.#conn, key, options?.range);
  }

  /** Removes the object (a HeadObject first, to report `NOT_FOUND` when it does not exist). */
  async delete(key: string): Promise<void> {
    validateKey(key);
    if (!(await this.exists(key)))
      throw new StoreError('NOT_FOUND', `no object under key ${JSON.stringify(key)}`, { key });
    await this.#conn.call('delete', key, ({ s3, client }) =>
      client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
    );
  }

  /** Keys starting with `prefix` (plain string prefix), in pages of `pageSize`, in UTF-8 byte order. */
  async *list(prefix = '', options: ListOptions = {}): AsyncGenerator<string[]> {
    validatePrefix(prefix);
    const pageSize = positiveInteger(options.pageSize, 'pageSize', DEFAULT_PAGE_SIZE);
    let page: string[] = [];
    for await (const keys of this.#listRaw(prefix, Math.min(pageSize, 1000))) {
      for (const key of keys) {
        page.push(key);
        if (page.length === pageSize) {
          yield page;
          page = [];
        }
      }
    }
    if (page.length > 0) yield page;
  }

  async *#listRaw(prefix: string, maxKeys: number): AsyncGenerator<string[]> {
    let token: string | undefined;
    do {
      const result = await this.#conn.call('list', undefined, ({ s3, client }) =>
        client.send(
          new s3.ListObjectsV2Command({
            Bucket: this.bucket,
            ...(prefix ? { Prefix: prefix } : {}),
            MaxKeys: maxKeys,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      const keys = (result.Contents ?? [])
        .map((o) => o.Key)
        .filter((k): k is string => typeof k === 'string');
      if (keys.length > 0) yield keys;
      token = result.IsTruncated ? result.NextContinuationToken : undefined;
    } while (token);
  }

  /** True when an object exists under `key` (an SSE-C object this store has no key for exists too). */
  async exists(key: string): Promise<boolean> {
    validateKey(key);
    try {
      return (await headIfExists(this.#conn, key, 'check')) !== undefined;
    } catch (error) {
      if (isStoreError(error, 'ENCRYPTION_ERROR')) return true;
      throw error;
    }
  }

  /** Removes every object whose key starts with `prefix` (everything when omitted), with DeleteObjects in batches of 1000 keys. */
  async clear(prefix = ''): Promise<void> {
    validatePrefix(prefix);
    for await (const keys of this.#listRaw(prefix, 1000)) {
      const result = await this.#conn.call('clear', undefined, ({ s3, client }) =>
        client.send(
          new s3.DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
      const failed = result.Errors ?? [];
      if (failed.length > 0) {
        throw new StoreError(
          'IO_ERROR',
          `clear ${JSON.stringify(prefix)}: ${failed.length} objects could not be deleted (first: ${JSON.stringify(failed[0]?.Key)}: ${failed[0]?.Code})`,
          { ...(failed[0]?.Key === undefined ? {} : { key: failed[0].Key }) },
        );
      }
    }
  }

  /**
   * Copies object and metadata to `destKey`; an existing `destKey` is `ALREADY_EXISTS` unless
   * `options.overwrite` is `true`. Resolves to `destKey`. CopyObject (server side, objects up to 5 GiB, `If-None-Match: *` unless `overwrite`); a copy
   * the server cannot do (larger objects, RGW 16's encrypted objects: 501) streams the object down
   * and up again. The copy is verified like an upload (size, encryption).
   */
  async copy(sourceKey: string, destKey: string, options: WriteOptions = {}): Promise<string> {
    validateKey(sourceKey);
    validateKey(destKey);
    const overwrite = overwriteOption(options.overwrite, false, destKey);
    if (sourceKey === destKey) {
      await headObject(this.#conn, sourceKey, 'copy');
      return destKey;
    }
    await this.#flushPendingAborts();
    await this.#checkEncryption(destKey);
    await copyObject(this.#conn, sourceKey, destKey, {
      overwrite,
      streamed: (source, plan) =>
        new StreamUpload(this.#conn, { ...plan, deferAbort: (k, id) => this.#pendingAborts.set(id, k) }).run(
          source,
        ),
    });
    return destKey;
  }

  /**
   * Multipart uploads under `prefix` that were started and neither completed nor aborted, e.g. left
   * by a killed process (resume them with `resumeUpload` from a journaled checkpoint, or drop them).
   * Their parts cost storage until aborted.
   */
  async listIncompleteUploads(prefix = ''): Promise<IncompleteUpload[]> {
    validatePrefix(prefix);
    const out: IncompleteUpload[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const result = await this.#conn.call('list incomplete uploads of', undefined, ({ s3, client }) =>
        client.send(
          new s3.ListMultipartUploadsCommand({
            Bucket: this.bucket,
            ...(prefix ? { Prefix: prefix } : {}),
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
        ),
      );
      for (const u of result.Uploads ?? []) {
        if (u.Key && u.UploadId) out.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated });
      }
      if (!result.IsTruncated) return out;
      keyMarker = result.NextKeyMarker;
      uploadIdMarker = result.NextUploadIdMarker;
    }
  }

  /**
   * Aborts the incomplete multipart uploads under `prefix` (see {@link S3Store.listIncompleteUploads}),
   * freeing their parts. Also aborts uploads of other processes still in progress unless
   * `olderThanMs` excludes recent ones. Resolves to the number aborted.
   */
  async abortIncompleteUploads(prefix = '', options: { olderThanMs?: number } = {}): Promise<number> {
    await this.#flushPendingAborts();
    const cutoff = options.olderThanMs === undefined ? undefined : Date.now() - options.olderThanMs;
    let aborted = 0;
    for (const u of await this.listIncompleteUploads(prefix)) {
      if (cutoff !== undefined && u.initiated !== undefined && u.initiated.getTime() > cutoff) continue;
      await abortMultipart(this.#conn, u.key, u.uploadId);
      aborted++;
    }
    return aborted;
  }
}

async function* single(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}
