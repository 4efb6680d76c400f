import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import {
  checkChunk,
  checkData,
  checkRange,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_PAGE_SIZE,
  describeRange,
  positiveInteger,
  type RangeRequest,
  rechunk,
  resolveRange,
} from './_bytes.js';
import { notFound, StoreError, type StoreErrorCode } from './errors.js';
import { KeyBuilder } from './key-builder.js';
import { decodeMetadata, encodeMetadata } from './metadata.js';
import type { DownloadOptions, DownloadStreamOptions, ListOptions, Store, StoreMetadata } from './types.js';
import { validateKey, validatePrefix } from './validate-key.js';

type ClientS3 = typeof import('@aws-sdk/client-s3');

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
   * Size of each multipart part in bytes, at least 5 MiB (S3's minimum). Default 5 MiB. A streamed
   * upload holds at most `queueSize + 1` part buffers of this size (allocated on demand, reused).
   */
  partSize?: number;
  /** Parts a streamed upload sends in parallel (while one more buffer fills). Default 2. */
  queueSize?: number;
  /**
   * When the SDK adds CRC checksums to requests and validates them on responses. Default
   * `'WHEN_REQUIRED'`: with `'WHEN_SUPPORTED'` (the SDK's own default since 3.729) a streamed
   * PutObject is sent `aws-chunked`, which S3-compatible servers that do not understand the framing
   * store verbatim (s3rver keeps 100 000 bytes as 100 045); integrity is checked here with
   * Content-MD5, ETags and sizes instead.
   */
  checksums?: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED';
  /** Connection timeout in ms. Default 10 000. */
  connectionTimeout?: number;
  /** Extra S3 client configuration, applied last (e.g. a custom `requestHandler` or `logger`). */
  clientConfig?: S3ClientConfig;
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

/** Metadata header (after `x-amz-meta-`) holding the base64url JSON of the user metadata. */
const META_HEADER = 'audex-json';
/** S3's limit on user metadata: key and value bytes summed. */
const MAX_METADATA_BYTES = 2048;
const MIN_PART_SIZE = 5 * 1024 * 1024;

/**
 * A `Store` on any S3-compatible object store through `@aws-sdk/client-s3`, loaded on first use (constructing an `S3Store` loads no SDK code).
 *
 * Metadata is one `x-amz-meta-audex-json` header (base64url JSON, so types and unicode survive;
 * `METADATA_TOO_LARGE` past S3's 2 KB). Streams upload as multipart uploads of `partSize` parts,
 * aborted on failure. After every upload the ETag is checked against the MD5 of the bytes sent and
 * the stored size against the bytes sent (`INTEGRITY_ERROR`). Errors never carry credentials.
 */
export class S3Store implements Store {
  /** Builds keys for this store. */
  readonly keyBuilder: KeyBuilder;
  /** The bucket. */
  readonly bucket: string;
  readonly #options: S3StoreOptions;
  readonly #partSize: number;
  readonly #queueSize: number;
  #sdk: Promise<{ s3: ClientS3; client: S3Client }> | undefined;
  readonly #secrets = new Set<string>();
  /** Multipart uploads whose abort failed (e.g. the server was down); retried on the next upload. */
  readonly #pendingAborts = new Map<string, string>();

  /**
   * @param options - bucket and connection options.
   * @throws StoreError `INVALID_OPTIONS` for a missing bucket or a bad part size.
   */
  constructor(options: S3StoreOptions) {
    if (typeof options?.bucket !== 'string' || options.bucket.length === 0) {
      throw new StoreError('INVALID_OPTIONS', 'S3Store needs a bucket name (options.bucket)');
    }
    this.bucket = options.bucket;
    this.keyBuilder = options.keyBuilder ?? new KeyBuilder();
    this.#options = options;
    this.#partSize = options.partSize ?? MIN_PART_SIZE;
    if (!Number.isInteger(this.#partSize) || this.#partSize < MIN_PART_SIZE) {
      throw new StoreError(
        'INVALID_OPTIONS',
        `S3Store partSize must be an integer ≥ ${MIN_PART_SIZE} (5 MiB)`,
      );
    }
    this.#queueSize = positiveIntegerOption(options.queueSize, 'queueSize', 2);
    for (const secret of [
      options.credentials?.accessKeyId,
      options.credentials?.secretAccessKey,
      options.credentials?.sessionToken,
      process.env.AWS_ACCESS_KEY_ID,
      process.env.AWS_SECRET_ACCESS_KEY,
      process.env.AWS_SESSION_TOKEN,
    ]) {
      if (secret) this.#secrets.add(secret);
    }
  }

  /** The SDK client (created and the SDK loaded on first call). */
  async client(): Promise<S3Client> {
    return (await this.#load()).client;
  }

  /** Closes the SDK client's connections. */
  async destroy(): Promise<void> {
    if (this.#sdk) (await this.#sdk).client.destroy();
    this.#sdk = undefined;
  }

  #load(): Promise<{ s3: ClientS3; client: S3Client }> {
    this.#sdk ??= (async () => {
      const s3 = await import('@aws-sdk/client-s3');
      const o = this.#options;
      const envEndpoint = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
      const region =
        o.region ??
        process.env.AWS_REGION ??
        process.env.AWS_DEFAULT_REGION ??
        (o.endpoint || envEndpoint ? 'us-east-1' : undefined);
      const checksums = o.checksums ?? 'WHEN_REQUIRED';
      const client = new s3.S3Client({
        ...(region === undefined ? {} : { region }),
        ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
        ...(o.credentials === undefined ? {} : { credentials: o.credentials }),
        forcePathStyle: o.forcePathStyle ?? false,
        maxAttempts: o.maxAttempts ?? 5,
        retryMode: 'standard',
        requestChecksumCalculation: checksums,
        responseChecksumValidation: checksums,
        requestHandler: { connectionTimeout: o.connectionTimeout ?? 10_000 },
        ...o.clientConfig,
      });
      try {
        const creds = await client.config.credentials();
        for (const s of [creds.accessKeyId, creds.secretAccessKey, creds.sessionToken])
          if (s) this.#secrets.add(s);
      } catch {
        // No credentials found: the first request reports it.
      }
      return { s3, client };
    })();
    return this.#sdk;
  }

  /** {@inheritDoc Store.upload} */
  async upload(
    data: Uint8Array | AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
  ): Promise<string> {
    validateKey(key);
    checkData(data, key);
    const headers = this.#encodeMetadata(metadata, key);
    if (!(data instanceof Uint8Array) || data.length > MIN_PART_SIZE * 1024) {
      return this.#uploadStream(data instanceof Uint8Array ? single(data) : data, key, headers);
    }
    const { s3, client } = await this.#load();
    const md5 = createHash('md5').update(data).digest();
    let etag: string | undefined;
    try {
      const result = await client.send(
        new s3.PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: data,
          ContentLength: data.length,
          ContentMD5: md5.toString('base64'),
          ...headers,
        }),
      );
      etag = result.ETag;
    } catch (cause) {
      throw this.#error(cause, 'upload', key, 'UPLOAD_FAILED');
    }
    await this.#verify(key, data.length, etag, [md5.toString('hex')]);
    return key;
  }

  /** {@inheritDoc Store.uploadMultipart} */
  async uploadMultipart(
    parts: AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
  ): Promise<string> {
    validateKey(key);
    checkData(parts, key);
    const headers = this.#encodeMetadata(metadata, key);
    return this.#uploadStream(parts, key, headers);
  }

  /**
   * Streams `source` as a multipart upload (a single PutObject when it fits in one part). Chunks are
   * copied into a fixed pool of `queueSize + 1` part buffers of `partSize` bytes, allocated on
   * demand and reused: a buffer returns to the pool only once its UploadPart has settled, so the
   * SDK never sends a buffer that is being refilled. Every part carries Content-MD5 and its ETag is
   * checked; on any failure the multipart upload is aborted.
   */
  async #uploadStream(
    source: AsyncIterable<Uint8Array>,
    key: string,
    headers: { Metadata?: Record<string, string>; ContentType?: string },
  ): Promise<string> {
    await this.#flushPendingAborts();
    const partSize = this.#partSize;
    const poolSize = this.#queueSize + 1;
    const free: Buffer[] = [];
    let allocated = 0;
    const whole = createHash('md5');
    let total = 0;
    let current: Buffer | undefined;
    let filled = 0;
    let uploadId: string | undefined;
    let partCount = 0;
    const parts: { PartNumber: number; ETag: string }[] = [];
    const partMd5s: Buffer[] = [];
    const inflight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;

    const take = async (): Promise<Buffer> => {
      while (free.length === 0 && allocated >= poolSize && inflight.size > 0 && failure === undefined) {
        await Promise.race(inflight);
      }
      if (failure !== undefined) throw failure.error;
      const reused = free.pop();
      if (reused !== undefined) return reused;
      allocated++;
      return Buffer.allocUnsafeSlow(partSize);
    };
    const dispatch = async (buffer: Buffer, length: number): Promise<void> => {
      uploadId ??= await this.#createMultipart(key, headers);
      const id = uploadId;
      const partNumber = ++partCount;
      const body = buffer.subarray(0, length);
      const md5 = createHash('md5').update(body).digest();
      partMd5s[partNumber - 1] = md5;
      const sending: Promise<void> = this.#uploadPart(key, id, partNumber, body, md5)
        .then(
          (etag) => {
            parts[partNumber - 1] = { PartNumber: partNumber, ETag: etag };
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => {
          inflight.delete(sending);
          free.push(buffer);
        });
      inflight.add(sending);
    };

    const iterator = source[Symbol.asyncIterator]();
    let exhausted = false;
    let etag: string | undefined;
    let expected: string[];
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
        whole.update(chunk);
        total += chunk.length;
        let offset = 0;
        while (offset < chunk.length) {
          // A full part is sent only when more bytes follow, so data of exactly one part is one PUT.
          if (current !== undefined && filled === partSize) {
            const full = current;
            current = undefined;
            await dispatch(full, filled);
          }
          if (current === undefined) {
            current = await take();
            filled = 0;
          }
          const n = Math.min(partSize - filled, chunk.length - offset);
          current.set(chunk.subarray(offset, offset + n), filled);
          filled += n;
          offset += n;
        }
        if (failure !== undefined) throw failure.error;
      }
      const wholeMd5 = whole.digest();
      if (uploadId === undefined) {
        etag = await this.#putSingle(
          key,
          current?.subarray(0, filled) ?? new Uint8Array(0),
          wholeMd5,
          headers,
        );
        expected = [wholeMd5.toString('hex')];
      } else {
        if (current !== undefined && filled > 0) await dispatch(current, filled);
        current = undefined;
        while (inflight.size > 0) await Promise.race(inflight);
        if (failure !== undefined) throw failure.error;
        etag = await this.#completeMultipart(key, uploadId, parts);
        const composite = createHash('md5').update(Buffer.concat(partMd5s)).digest('hex');
        expected = [wholeMd5.toString('hex'), `${composite}-${partMd5s.length}`];
      }
    } catch (cause) {
      await Promise.allSettled([...inflight]);
      await this.#abortAfterFailure(uploadId, key);
      if (cause instanceof SourceFailure) {
        if (cause.error instanceof StoreError) throw cause.error;
        throw new StoreError(
          'UPLOAD_FAILED',
          `upload of ${JSON.stringify(key)} failed: the data stream threw`,
          { key, cause: cause.error },
        );
      }
      throw this.#error(cause, 'upload', key, 'UPLOAD_FAILED');
    } finally {
      if (!exhausted) {
        try {
          await iterator.return?.();
        } catch {
          // The upload's own error is the one to report.
        }
      }
    }
    await this.#verify(key, total, etag, expected);
    return key;
  }

  /** One PutObject with Content-MD5; resolves to the ETag. */
  async #putSingle(
    key: string,
    body: Uint8Array,
    md5: Buffer,
    headers: { Metadata?: Record<string, string>; ContentType?: string },
  ): Promise<string | undefined> {
    const { s3, client } = await this.#load();
    const result = await client.send(
      new s3.PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentMD5: md5.toString('base64'),
        ...headers,
      }),
    );
    return result.ETag;
  }

  async #createMultipart(
    key: string,
    headers: { Metadata?: Record<string, string>; ContentType?: string },
  ): Promise<string> {
    const { s3, client } = await this.#load();
    const result = await client.send(
      new s3.CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ...headers }),
    );
    if (result.UploadId === undefined) {
      throw new StoreError(
        'UPLOAD_FAILED',
        `could not upload ${JSON.stringify(key)}: the server started a multipart upload without an upload id`,
        { key },
      );
    }
    return result.UploadId;
  }

  /**
   * One UploadPart with Content-MD5. Network errors, throttling and 5xx are retried by the SDK (the
   * body is a buffer, so it can be sent again); a part the server stored with a different MD5
   * (ETag mismatch, or `BadDigest`) is sent again here, with backoff, up to {@link PART_ATTEMPTS}
   * times, then `INTEGRITY_ERROR`. Resolves to the part's ETag.
   */
  async #uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Buffer,
    md5: Buffer,
  ): Promise<string> {
    const { s3, client } = await this.#load();
    const hex = md5.toString('hex');
    for (let attempt = 1; ; attempt++) {
      let etag: string | undefined;
      try {
        const result = await client.send(
          new s3.UploadPartCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: body,
            ContentLength: body.length,
            ContentMD5: md5.toString('base64'),
          }),
        );
        etag = result.ETag;
      } catch (error) {
        const name = errorName(error);
        if ((name !== 'BadDigest' && name !== 'InvalidDigest') || attempt >= PART_ATTEMPTS) throw error;
        await partBackoff(attempt);
        continue;
      }
      if (etag === undefined) {
        throw new StoreError(
          'UPLOAD_FAILED',
          `could not upload ${JSON.stringify(key)}: the server returned no ETag for part ${partNumber}`,
          { key },
        );
      }
      const got = etag.replace(/"/g, '').toLowerCase();
      if (!/^[0-9a-f]{32}$/.test(got) || got === hex) return etag;
      if (attempt >= PART_ATTEMPTS) {
        throw new StoreError(
          'INTEGRITY_ERROR',
          `upload of ${JSON.stringify(key)}: the server's ETag ${got} of part ${partNumber} does not match the MD5 of the ${body.length} bytes sent (${PART_ATTEMPTS} attempts)`,
          { key },
        );
      }
      await partBackoff(attempt);
    }
  }

  async #completeMultipart(
    key: string,
    uploadId: string,
    parts: { PartNumber: number; ETag: string }[],
  ): Promise<string | undefined> {
    const { s3, client } = await this.#load();
    const result = await client.send(
      new s3.CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return result.ETag;
  }

  /** Aborts a failed multipart upload; if even that fails, remembers it for the next upload. */
  async #abortAfterFailure(uploadId: string | undefined, key: string): Promise<void> {
    if (uploadId === undefined) return;
    this.#pendingAborts.set(uploadId, key);
    await this.#flushPendingAborts();
  }

  async #flushPendingAborts(): Promise<void> {
    if (this.#pendingAborts.size === 0) return;
    const { s3, client } = await this.#load();
    for (const [uploadId, key] of [...this.#pendingAborts]) {
      try {
        await client.send(
          new s3.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
        );
        this.#pendingAborts.delete(uploadId);
      } catch (error) {
        if (errorName(error) === 'NoSuchUpload' || statusOf(error) === 404)
          this.#pendingAborts.delete(uploadId);
      }
    }
  }

  /**
   * Checks the stored object against what was sent: the ETag against the MD5 forms of the bytes
   * (when the server reports an MD5-style ETag), and the stored size against the bytes sent.
   */
  async #verify(key: string, size: number, etag: string | undefined, expectedEtags: string[]): Promise<void> {
    const sent = etag?.replace(/"/g, '').toLowerCase();
    if (sent !== undefined && /^[0-9a-f]{32}(-\d+)?$/.test(sent) && !expectedEtags.includes(sent)) {
      throw new StoreError(
        'INTEGRITY_ERROR',
        `upload of ${JSON.stringify(key)}: the server's ETag ${sent} does not match the MD5 of the ${size} bytes sent`,
        { key },
      );
    }
    const head = await this.#head(key, 'verify').catch((error: unknown) => {
      throw error instanceof StoreError && error.code === 'NOT_FOUND'
        ? new StoreError(
            'INTEGRITY_ERROR',
            `upload of ${JSON.stringify(key)} succeeded but the object is missing`,
            {
              key,
            },
          )
        : error;
    });
    const headEtag = head.ETag?.replace(/"/g, '').toLowerCase();
    // A different ETag means a concurrent writer replaced the object since: last writer wins.
    if (head.ContentLength !== size && (headEtag === undefined || headEtag === sent)) {
      throw new StoreError(
        'INTEGRITY_ERROR',
        `upload of ${JSON.stringify(key)}: sent ${size} bytes but the server stored ${head.ContentLength}`,
        { key },
      );
    }
  }

  /** {@inheritDoc Store.getMetadata} */
  async getMetadata(key: string): Promise<StoreMetadata> {
    validateKey(key);
    const head = await this.#head(key, 'read metadata of');
    return this.#decodeMetadata(head.Metadata, key);
  }

  /** The whole object, or `options.range` of it (a Range GET); `NOT_FOUND` when missing. */
  download(key: string, options?: DownloadOptions): Promise<Uint8Array>;
  /** The object (or its range) in chunks of `chunkSize` bytes; errors surface on iteration. */
  download(key: string, options: DownloadStreamOptions): AsyncIterable<Uint8Array>;
  download(
    key: string,
    options?: DownloadOptions | DownloadStreamOptions,
  ): Promise<Uint8Array> | AsyncIterable<Uint8Array> {
    if (options?.stream) return this.#stream(key, options.chunkSize, options.range);
    return this.#downloadWhole(key, options?.range);
  }

  /**
   * GetObject of the whole object or of a range; resolves to the body, the bytes of it to skip
   * (a server may answer more than the range asked for, or ignore `Range` with a plain 200) and
   * the number of bytes to take. A ranged answer's `Content-Range` total is the object's size: a
   * range reaching past it is `INVALID_ARGUMENT` (S3 would silently shorten it). An empty range
   * costs a HeadObject (S3 cannot GET zero bytes).
   */
  async #get(
    key: string,
    range: unknown,
  ): Promise<{ body: Readable | undefined; skip: number; length: number }> {
    validateKey(key);
    const request = checkRange(range, key);
    const empty = async (): Promise<{ body: undefined; skip: number; length: number }> => {
      const head = await this.#head(key, 'download');
      resolveRange(request, head.ContentLength ?? 0, key);
      return { body: undefined, skip: 0, length: 0 };
    };
    if (request !== undefined && request.end === request.start) return empty();
    const { s3, client } = await this.#load();
    let result: import('@aws-sdk/client-s3').GetObjectCommandOutput;
    try {
      result = await client.send(
        new s3.GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(request === undefined
            ? {}
            : { Range: `bytes=${request.start}-${request.end === undefined ? '' : request.end - 1}` }),
        }),
      );
    } catch (cause) {
      // Past the end (or an empty tail): the size decides which.
      if (request !== undefined && (errorName(cause) === 'InvalidRange' || statusOf(cause) === 416)) {
        return empty();
      }
      throw this.#error(cause, 'download', key);
    }
    const body = result.Body as Readable;
    try {
      const window = this.#window(key, request, result.ContentRange, result.ContentLength);
      return { body, ...window };
    } catch (error) {
      body.destroy();
      throw error;
    }
  }

  /**
   * Which bytes of an answer are the ones asked for. The answer covers `first..last` of a
   * `size`-byte object (from `Content-Range`, else the whole object of `Content-Length`); the
   * request must fall inside it.
   */
  #window(
    key: string,
    request: RangeRequest | undefined,
    contentRange: string | undefined,
    contentLength: number | undefined,
  ): { skip: number; length: number } {
    let first = 0;
    let last: number;
    let size: number;
    if (contentRange !== undefined) {
      const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange);
      if (match === null) {
        throw new StoreError(
          'IO_ERROR',
          `could not download ${JSON.stringify(key)}: the server answered Content-Range ${JSON.stringify(contentRange)}, expected bytes first-last/size`,
          { key },
        );
      }
      first = Number(match[1]);
      last = Number(match[2]);
      size = Number(match[3]);
    } else if (contentLength !== undefined) {
      size = contentLength;
      last = size - 1;
    } else {
      throw new StoreError(
        'IO_ERROR',
        `could not download ${JSON.stringify(key)}: the server sent neither Content-Length nor Content-Range`,
        { key },
      );
    }
    const { start, end } = resolveRange(request, size, key);
    if (first > start || (end > start && last < end - 1)) {
      throw new StoreError(
        'INTEGRITY_ERROR',
        `download of ${request ? `range ${describeRange(request)} of ` : ''}${JSON.stringify(key)}: the server sent bytes ${first}-${last} of ${size}, which do not cover ${start}-${end - 1}`,
        { key },
      );
    }
    return { skip: start - first, length: end - start };
  }

  /**
   * The requested bytes of an answer as views of the received chunks: `skip` bytes dropped, then
   * exactly `length` bytes; fewer is `INTEGRITY_ERROR` (cut short). The body is destroyed at the
   * end (early when the server sent more than needed).
   */
  async *#take(key: string, body: Readable, skip: number, length: number): AsyncGenerator<Uint8Array> {
    let toSkip = skip;
    let taken = 0;
    try {
      for await (const received of body as AsyncIterable<Buffer>) {
        let chunk: Uint8Array = received;
        if (toSkip > 0) {
          const n = Math.min(toSkip, chunk.length);
          toSkip -= n;
          chunk = chunk.subarray(n);
        }
        if (chunk.length === 0) continue;
        if (chunk.length > length - taken) chunk = chunk.subarray(0, length - taken);
        taken += chunk.length;
        yield chunk;
        if (taken === length) break;
      }
    } catch (cause) {
      throw this.#error(cause, 'download', key);
    } finally {
      body.destroy();
    }
    if (taken !== length) {
      throw new StoreError(
        'INTEGRITY_ERROR',
        `download of ${JSON.stringify(key)} was cut short: ${taken} of ${length} bytes`,
        { key },
      );
    }
  }

  /**
   * The whole object or range: the received chunks are copied straight into one buffer of the
   * announced length (no intermediate chunks, no final concatenation).
   */
  async #downloadWhole(key: string, range: unknown): Promise<Uint8Array> {
    const { body, skip, length } = await this.#get(key, range);
    const out = new Uint8Array(length);
    if (body === undefined) return out;
    let offset = 0;
    for await (const chunk of this.#take(key, body, skip, length)) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  async *#stream(key: string, chunkSize: number | undefined, range: unknown): AsyncGenerator<Uint8Array> {
    const size = positiveInteger(chunkSize, 'chunkSize', DEFAULT_CHUNK_SIZE);
    const { body, skip, length } = await this.#get(key, range);
    if (body === undefined) return;
    yield* rechunk(this.#take(key, body, skip, length), size);
  }

  /** {@inheritDoc Store.delete} */
  async delete(key: string): Promise<void> {
    validateKey(key);
    await this.#head(key, 'delete');
    const { s3, client } = await this.#load();
    try {
      await client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (cause) {
      throw this.#error(cause, 'delete', key);
    }
  }

  /** {@inheritDoc Store.list} */
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
    const { s3, client } = await this.#load();
    let token: string | undefined;
    do {
      let result: import('@aws-sdk/client-s3').ListObjectsV2CommandOutput;
      try {
        result = await client.send(
          new s3.ListObjectsV2Command({
            Bucket: this.bucket,
            ...(prefix ? { Prefix: prefix } : {}),
            MaxKeys: maxKeys,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (cause) {
        throw this.#error(cause, 'list', undefined);
      }
      const keys = (result.Contents ?? [])
        .map((o) => o.Key)
        .filter((k): k is string => typeof k === 'string');
      if (keys.length > 0) yield keys;
      token = result.IsTruncated ? result.NextContinuationToken : undefined;
    } while (token);
  }

  /** {@inheritDoc Store.exists} */
  async exists(key: string): Promise<boolean> {
    validateKey(key);
    try {
      await this.#head(key, 'check');
      return true;
    } catch (error) {
      if (error instanceof StoreError && error.code === 'NOT_FOUND') return false;
      throw error;
    }
  }

  /** Removes every object whose key starts with `prefix` (everything when omitted), with DeleteObjects in batches of 1000 keys. */
  async clear(prefix = ''): Promise<void> {
    validatePrefix(prefix);
    const { s3, client } = await this.#load();
    for await (const keys of this.#listRaw(prefix, 1000)) {
      try {
        const result = await client.send(
          new s3.DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = result.Errors ?? [];
        if (failed.length > 0) {
          throw new StoreError(
            'IO_ERROR',
            `clear ${JSON.stringify(prefix)}: ${failed.length} objects could not be deleted (first: ${JSON.stringify(failed[0]?.Key)}: ${failed[0]?.Code})`,
            { key: failed[0]?.Key },
          );
        }
      } catch (cause) {
        throw this.#error(cause, 'clear', undefined);
      }
    }
  }

  /** Copies object and metadata to `destKey` with CopyObject (objects up to 5 GB). Resolves to `destKey`. */
  async copy(sourceKey: string, destKey: string): Promise<string> {
    validateKey(sourceKey);
    validateKey(destKey);
    if (sourceKey === destKey) {
      await this.#head(sourceKey, 'copy');
      return destKey;
    }
    const { s3, client } = await this.#load();
    try {
      await client.send(
        new s3.CopyObjectCommand({
          Bucket: this.bucket,
          Key: destKey,
          CopySource: `${this.bucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`,
          MetadataDirective: 'COPY',
        }),
      );
    } catch (cause) {
      throw this.#error(cause, 'copy', sourceKey);
    }
    return destKey;
  }

  /**
   * Multipart uploads under `prefix` that were started and neither completed nor aborted, e.g. left
   * by a killed process. Their parts cost storage until aborted.
   */
  async listIncompleteUploads(prefix = ''): Promise<IncompleteUpload[]> {
    validatePrefix(prefix);
    const { s3, client } = await this.#load();
    const out: IncompleteUpload[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      let result: import('@aws-sdk/client-s3').ListMultipartUploadsCommandOutput;
      try {
        result = await client.send(
          new s3.ListMultipartUploadsCommand({
            Bucket: this.bucket,
            ...(prefix ? { Prefix: prefix } : {}),
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
        );
      } catch (cause) {
        throw this.#error(cause, 'list incomplete uploads of', undefined);
      }
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
    const { s3, client } = await this.#load();
    const cutoff = options.olderThanMs === undefined ? undefined : Date.now() - options.olderThanMs;
    let aborted = 0;
    for (const u of await this.listIncompleteUploads(prefix)) {
      if (cutoff !== undefined && u.initiated !== undefined && u.initiated.getTime() > cutoff) continue;
      try {
        await client.send(
          new s3.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.key, UploadId: u.uploadId }),
        );
        aborted++;
      } catch (cause) {
        if (errorName(cause) !== 'NoSuchUpload') throw this.#error(cause, 'abort the upload of', u.key);
      }
    }
    return aborted;
  }

  async #head(key: string, action: string): Promise<import('@aws-sdk/client-s3').HeadObjectCommandOutput> {
    const { s3, client } = await this.#load();
    try {
      return await client.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (cause) {
      throw this.#error(cause, action, key);
    }
  }

  #encodeMetadata(
    metadata: StoreMetadata | undefined,
    key: string,
  ): { Metadata?: Record<string, string>; ContentType?: string } {
    const json = encodeMetadata(metadata, key);
    const contentType = metadata?.content_type ?? metadata?.contentType;
    const out: { Metadata?: Record<string, string>; ContentType?: string } = {};
    if (typeof contentType === 'string' && /^[\x20-\x7e]+$/.test(contentType)) out.ContentType = contentType;
    if (json === '{}') return out;
    const value = Buffer.from(json, 'utf8').toString('base64url');
    const bytes = META_HEADER.length + value.length;
    if (bytes > MAX_METADATA_BYTES) {
      throw new StoreError(
        'METADATA_TOO_LARGE',
        `metadata of ${JSON.stringify(key)} is ${Buffer.byteLength(json)} bytes of JSON, ${bytes} bytes encoded; S3 allows ${MAX_METADATA_BYTES} bytes of user metadata (about 1500 bytes of JSON)`,
        { key },
      );
    }
    out.Metadata = { [META_HEADER]: value };
    return out;
  }

  #decodeMetadata(headers: Record<string, string> | undefined, key: string): StoreMetadata {
    const value = headers?.[META_HEADER];
    if (value !== undefined) return decodeMetadata(Buffer.from(value, 'base64url').toString('utf8'), key);
    // An object written by another tool: its user metadata, as strings.
    return { ...headers };
  }

  /** Maps an SDK error to a StoreError whose message and cause hold no credentials. */
  #error(
    cause: unknown,
    action: string,
    key: string | undefined,
    fallback: StoreErrorCode = 'IO_ERROR',
  ): StoreError {
    if (cause instanceof StoreError) return cause;
    const name = errorName(cause);
    const status = statusOf(cause);
    const what = key === undefined ? `bucket ${JSON.stringify(this.bucket)}` : JSON.stringify(key);
    const detail = this.#scrub(`${name}${status ? ` (HTTP ${status})` : ''}: ${messageOf(cause)}`);
    const safeCause = Object.assign(new Error(detail), { name: `S3 ${name}`, httpStatusCode: status });
    if (name === 'NoSuchBucket') {
      return new StoreError(
        'IO_ERROR',
        `could not ${action} ${what}: bucket ${JSON.stringify(this.bucket)} does not exist`,
        {
          key,
          cause: safeCause,
        },
      );
    }
    if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
      return key === undefined
        ? new StoreError('NOT_FOUND', `could not ${action} ${what}: ${detail}`)
        : notFound(key, safeCause);
    }
    const code: StoreErrorCode =
      status === 403 ||
      ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'CredentialsProviderError'].includes(
        name,
      )
        ? 'PERMISSION_DENIED'
        : fallback;
    return new StoreError(code, `could not ${action} ${what}: ${detail}`, { key, cause: safeCause });
  }

  #scrub(text: string): string {
    let out = text;
    for (const secret of this.#secrets) if (secret.length >= 4) out = out.split(secret).join('***');
    return out;
  }
}

/** A failure of the caller's data stream, told apart from S3 errors. */
class SourceFailure {
  constructor(readonly error: unknown) {}
}

/** Attempts per part when the server stores a part with a different MD5. */
const PART_ATTEMPTS = 3;

/** Waits 100 ms × 2^(attempt − 1), ±50 % jitter, before a part is sent again. */
function partBackoff(attempt: number): Promise<void> {
  const ms = 100 * 2 ** (attempt - 1) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function* single(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

function positiveIntegerOption(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new StoreError(
      'INVALID_OPTIONS',
      `S3Store ${name} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

function errorName(error: unknown): string {
  const e = error as { name?: unknown; Code?: unknown; code?: unknown } | null;
  if (typeof e?.Code === 'string') return e.Code;
  if (typeof e?.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e?.code === 'string') return e.code;
  return 'Error';
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  const code = (error as { code?: unknown } | null)?.code;
  const text = typeof message === 'string' && message.length > 0 ? message : 'no message';
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}
