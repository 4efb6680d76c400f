// Owns the byte helpers every backend shares: option checks (chunk and page sizes, ranges,
// overwrite), data checks, re-chunking of streams, and UTF-8 key order.

import { StoreError } from './errors.js';
import type { ByteRange } from './types.js';

/** Default chunk size of streamed downloads, in bytes. */
export const DEFAULT_CHUNK_SIZE = 65_536;
/** Default page size of `list`. */
export const DEFAULT_PAGE_SIZE = 1000;

/** Checks a positive-integer option, throwing `INVALID_ARGUMENT` naming it. */
export function positiveInteger(value: unknown, name: string, fallback: number, max = 2 ** 31): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `${name} must be an integer from 1 to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/** True for a `Uint8Array` (including Node `Buffer`). */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

/** Checks that `data` is bytes or an async iterable, throwing `INVALID_ARGUMENT` otherwise. */
export function checkData(
  data: unknown,
  key: string,
): asserts data is Uint8Array | AsyncIterable<Uint8Array> {
  if (isBytes(data)) return;
  if (typeof data === 'object' && data !== null && Symbol.asyncIterator in data) return;
  throw new StoreError(
    'INVALID_ARGUMENT',
    `upload data must be a Uint8Array or an AsyncIterable<Uint8Array>`,
    {
      key,
    },
  );
}

/** Checks one streamed chunk. */
export function checkChunk(chunk: unknown, key: string): asserts chunk is Uint8Array {
  if (!isBytes(chunk)) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `upload stream yielded ${typeof chunk}, expected Uint8Array chunks`,
      {
        key,
      },
    );
  }
}

/** Yields `data` as slices (views) of at most `chunkSize` bytes. */
export function* sliceBytes(data: Uint8Array, chunkSize: number): Generator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += chunkSize) {
    yield data.subarray(offset, Math.min(offset + chunkSize, data.length));
  }
}

/**
 * Re-chunks an async iterable of byte chunks into chunks of exactly `chunkSize` bytes (the last one
 * may be shorter). Whole `chunkSize` runs of an incoming chunk are yielded as views of it (no copy);
 * only bytes that straddle incoming chunks are copied, into a fresh buffer. Callers may keep every
 * chunk: a view is never written to again and a copy buffer is never reused.
 */
export async function* rechunk(
  source: AsyncIterable<Uint8Array>,
  chunkSize: number,
): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array | undefined;
  let filled = 0;
  for await (const chunk of source) {
    let offset = 0;
    while (offset < chunk.length) {
      if (pending === undefined && chunk.length - offset >= chunkSize) {
        yield chunk.subarray(offset, offset + chunkSize);
        offset += chunkSize;
        continue;
      }
      pending ??= new Uint8Array(chunkSize);
      const n = Math.min(chunkSize - filled, chunk.length - offset);
      pending.set(chunk.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === chunkSize) {
        yield pending;
        pending = undefined;
        filled = 0;
      }
    }
  }
  if (pending !== undefined && filled > 0) yield pending.subarray(0, filled);
}

/** Compares two strings by their UTF-8 bytes (S3's key order). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  // Code-unit order equals UTF-8 order except when surrogates meet U+E000–U+FFFF.
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** A range checked for shape only (integers, `0 <= start <= end`); `end` undefined means "to the end". */
export interface RangeRequest {
  readonly start: number;
  readonly end: number | undefined;
}

/** Describes a range for messages, e.g. `{ start: 5, end: 9 }`. */
export function describeRange(range: { start: number; end: number | undefined }): string {
  return range.end === undefined
    ? `{ start: ${range.start} }`
    : `{ start: ${range.start}, end: ${range.end} }`;
}

/**
 * Checks the shape of a `range` option before any request: an object whose `start` is a safe
 * integer ≥ 0 and whose `end`, when given, is a safe integer ≥ `start`. `undefined` when no range.
 */
export function checkRange(range: unknown, key: string): RangeRequest | undefined {
  if (range === undefined) return undefined;
  const r = range as Partial<ByteRange> | null;
  const bad = (why: string): StoreError =>
    new StoreError(
      'INVALID_ARGUMENT',
      `range of ${JSON.stringify(key)} ${why}; expected { start, end? } in bytes with integers 0 <= start <= end (end exclusive)`,
      { key },
    );
  if (typeof r !== 'object' || r === null) throw bad(`must be an object, got ${String(range)}`);
  if (!Number.isSafeInteger(r.start) || (r.start as number) < 0) {
    throw bad(`has start ${String(r.start)}`);
  }
  const start = r.start as number;
  if (r.end === undefined) return { start, end: undefined };
  if (!Number.isSafeInteger(r.end) || (r.end as number) < start) {
    throw bad(`has end ${String(r.end)} with start ${start}`);
  }
  return { start, end: r.end };
}

/**
 * Resolves a shape-checked range against the object's `size`: the absolute `[start, end)`, or
 * `INVALID_ARGUMENT` naming the range and the size when it reaches past the end.
 */
export function resolveRange(
  range: RangeRequest | undefined,
  size: number,
  key: string,
): { start: number; end: number } {
  if (range === undefined) return { start: 0, end: size };
  const end = range.end ?? size;
  if (range.start > size || end > size) {
    throw new StoreError(
      'INVALID_ARGUMENT',
      `range ${describeRange(range)} of ${JSON.stringify(key)} reaches past the end of the ${size}-byte object; allowed: 0 <= start <= end <= ${size} (end exclusive)`,
      { key },
    );
  }
  return { start: range.start, end };
}

/** Checks an `overwrite` option (a boolean), applying `fallback` when it is not given. */
export function overwriteOption(value: unknown, fallback: boolean, key: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new StoreError('INVALID_ARGUMENT', `overwrite must be true or false, got ${String(value)}`, {
      key,
    });
  }
  return value;
}
