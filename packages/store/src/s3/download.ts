// Owns reads: GetObject of a whole object or a byte range (with the SSE-C key), checking the
// answer's Content-Range against the object's size and the bytes received against the length.

import type { Readable } from 'node:stream';
import type { GetObjectCommandOutput } from '@aws-sdk/client-s3';
import {
  checkRange,
  DEFAULT_CHUNK_SIZE,
  describeRange,
  positiveInteger,
  type RangeRequest,
  rechunk,
  resolveRange,
} from '../_bytes.js';
import { StoreError } from '../errors.js';
import { validateKey } from '../validate-key.js';
import type { Connection } from './connection.js';
import { errorName, statusOf } from './errors.js';
import { headObject } from './verify.js';

/** An answer to a GET: the body, the bytes of it to skip, and the bytes to take. */
interface Answer {
  readonly body: Readable | undefined;
  readonly skip: number;
  readonly length: number;
}

/**
 * GetObject of the whole object or of a range, always sent as a Range GET (`bytes=0-` for the whole
 * object) so that the answer's `Content-Range` states the object's size: a range reaching past it
 * is `INVALID_ARGUMENT` (S3 would silently shorten it), and a body longer or shorter than the span
 * it announces is `INTEGRITY_ERROR` even when its `Content-Length` was changed to match. A server
 * may answer more than the range asked for, or ignore `Range` with a plain 200: the bytes before
 * the range are skipped. An empty range (or an empty object) costs a HeadObject (S3 cannot GET zero
 * bytes).
 */
async function get(conn: Connection, key: string, range: unknown): Promise<Answer> {
  validateKey(key);
  const request = checkRange(range, key);
  const empty = async (): Promise<Answer> => {
    const head = await headObject(conn, key, 'download');
    const size = head.ContentLength ?? 0;
    const { start, end } = resolveRange(request, size, key);
    if (end > start) {
      throw new StoreError(
        'IO_ERROR',
        `could not download ${JSON.stringify(key)}: the server refused bytes ${start}-${end - 1} of its ${size}-byte object as not satisfiable`,
        { key },
      );
    }
    return { body: undefined, skip: 0, length: 0 };
  };
  if (request !== undefined && request.end === request.start) return empty();
  const { s3, client } = await conn.sdk();
  let result: GetObjectCommandOutput;
  try {
    result = await client.send(
      new s3.GetObjectCommand({
        Bucket: conn.bucket,
        Key: key,
        Range: `bytes=${request?.start ?? 0}-${request?.end === undefined ? '' : request.end - 1}`,
        ...conn.encryption?.read(),
      }),
    );
  } catch (cause) {
    // Past the end, an empty tail or an empty object: the size decides which.
    if (errorName(cause) === 'InvalidRange' || statusOf(cause) === 416) return empty();
    throw conn.error(cause, 'download', key, { read: true });
  }
  const body = result.Body as Readable;
  try {
    return { body, ...window(key, request, result.ContentRange, result.ContentLength) };
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
function window(
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
    if (contentLength !== undefined && contentLength !== last - first + 1) {
      throw new StoreError(
        'INTEGRITY_ERROR',
        `download of ${JSON.stringify(key)}: the server announced bytes ${first}-${last} (${last - first + 1} bytes) but a body of ${contentLength}`,
        { key },
      );
    }
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
async function* take(conn: Connection, key: string, answer: Answer): AsyncGenerator<Uint8Array> {
  const { body, length } = answer;
  if (body === undefined) return;
  let toSkip = answer.skip;
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
    throw conn.error(cause, 'download', key, { read: true });
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
export async function downloadBytes(conn: Connection, key: string, range: unknown): Promise<Uint8Array> {
  const answer = await get(conn, key, range);
  const out = new Uint8Array(answer.length);
  let offset = 0;
  for await (const chunk of take(conn, key, answer)) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** The object or range in chunks of `chunkSize` bytes (whole runs of a received chunk passed as views). */
export async function* downloadStream(
  conn: Connection,
  key: string,
  chunkSize: number | undefined,
  range: unknown,
): AsyncGenerator<Uint8Array> {
  const size = positiveInteger(chunkSize, 'chunkSize', DEFAULT_CHUNK_SIZE);
  yield* rechunk(take(conn, key, await get(conn, key, range)), size);
}
