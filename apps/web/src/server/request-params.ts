import { listFormats } from '@audex/codec';
import { type Store, StoreError, validateKey } from '@audex/store';
import { HttpError } from './http-error.js';

/** Formats the web demo offers for download and playback. */
export const DOWNLOAD_FORMATS = ['wav', 'flac', 'mp3', 'opus'] as const;

/** Longest key accepted from a request, in characters. */
const MAX_KEY_LENGTH = 1024;
/** A time in seconds: digits, an optional fraction, nothing else (no signs, exponents, hex, `Infinity`). */
const SECONDS = /^\d{1,9}(?:\.\d{1,9})?$/;

/**
 * Validates a store key from a request: present, bounded, accepted by the store's key rules
 * (no traversal, absolute paths, backslashes or NUL) and under the store's key prefix. 400 otherwise.
 */
export function requireKey(store: Store, value: string | null): string {
  if (value === null || value === '') throw new HttpError(400, 'missing "key" parameter');
  if (value.length > MAX_KEY_LENGTH)
    throw new HttpError(400, `key is longer than ${MAX_KEY_LENGTH} characters`);
  try {
    validateKey(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^\[audex\/store\]\s*/, '') : 'invalid key';
    throw new HttpError(400, reason, { cause: error });
  }
  if (!store.keyBuilder.validate(value)) {
    throw new HttpError(
      400,
      `invalid key "${value}": recordings live under "${store.keyBuilder.prefix}${store.keyBuilder.separator}"`,
    );
  }
  return value;
}

/** Maps a store's not-found to 404 and a rejected key to 400; anything else is rethrown. */
export function storeErrorToHttp(error: unknown, key: string): never {
  if (error instanceof StoreError) {
    if (error.code === 'NOT_FOUND') throw new HttpError(404, `no recording "${key}"`, { cause: error });
    if (error.code === 'INVALID_KEY') throw new HttpError(400, `invalid key "${key}"`, { cause: error });
  }
  throw error;
}

/** Validates `format` (default `wav`) against the formats offered and registered. 400 otherwise. */
export function requireFormat(value: string | null): string {
  const format = value ?? 'wav';
  const registered = new Set(listFormats());
  const allowed = DOWNLOAD_FORMATS.filter((f) => registered.has(f));
  if (!(allowed as readonly string[]).includes(format)) {
    throw new HttpError(400, `unknown format "${format.slice(0, 40)}"; use one of ${allowed.join(', ')}`);
  }
  return format;
}

/** A time range in seconds from the recording's start; `undefined` ends mean "the edge". */
export interface TimeRange {
  /** Start, in seconds, or undefined for the beginning. */
  from: number | undefined;
  /** End, in seconds, or undefined for the end. */
  to: number | undefined;
}

function seconds(value: string | null, name: string): number | undefined {
  if (value === null || value === '') return undefined;
  if (!SECONDS.test(value)) {
    throw new HttpError(400, `"${name}" must be a time in seconds like 1.25, got "${value.slice(0, 40)}"`);
  }
  return Number(value);
}

/** Parses `from`/`to` query values; 400 for malformed or reversed ranges. */
export function parseRange(from: string | null, to: string | null): TimeRange {
  const range = { from: seconds(from, 'from'), to: seconds(to, 'to') };
  if (range.from !== undefined && range.to !== undefined && range.to <= range.from) {
    throw new HttpError(400, `range is reversed or empty: from ${range.from} s to ${range.to} s`);
  }
  return range;
}
