import { StoreError } from './errors.js';

/** Longest key accepted, in UTF-8 bytes (S3's limit). */
export const MAX_KEY_BYTES = 1024;

/** Longest key segment (text between `/`) accepted, in UTF-8 bytes, so a segment fits a file name. */
export const MAX_SEGMENT_BYTES = 200;

const encoder = new TextEncoder();

/**
 * Why `key` is not a valid store key, or `undefined` when it is valid.
 *
 * A valid key is a non-empty string of at most {@link MAX_KEY_BYTES} UTF-8 bytes made of
 * `/`-separated segments, where no segment is empty (no leading or trailing `/`, no `//`), `.` or
 * `..`, or longer than {@link MAX_SEGMENT_BYTES} bytes; and which holds no backslash, no NUL or other
 * control character (U+0000–U+001F, U+007F–U+009F), no lone UTF-16 surrogate, and does not start
 * like a Windows drive path (`C:`). Such a key maps to a path inside any store's root on every
 * platform, and is also a valid S3 key.
 */
export function keyProblem(key: unknown): string | undefined {
  return problemOf(key, true);
}

function problemOf(key: unknown, segments: boolean): string | undefined {
  if (typeof key !== 'string') return `must be a string, got ${typeof key}`;
  if (key.length === 0) return 'must not be empty';
  if (/\p{Cs}/u.test(key)) return 'must be well-formed Unicode (no lone surrogates)';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  const control = /[\u0000-\u001f\u007f-\u009f]/.exec(key);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).padStart(4, '0');
    return `must not contain control characters (found U+${code.toUpperCase()} at ${control.index})`;
  }
  if (key.includes('\\')) return 'must not contain a backslash; use "/" to separate segments';
  if (key.startsWith('/')) return 'must be relative: no leading "/"';
  if (/^[a-zA-Z]:/.test(key)) return 'must not start with a drive letter';
  if (segments && key.endsWith('/')) return 'must not end with "/"';
  const bytes = encoder.encode(key).length;
  if (bytes > MAX_KEY_BYTES) return `must be at most ${MAX_KEY_BYTES} UTF-8 bytes (got ${bytes})`;
  if (!segments) return undefined;
  for (const segment of key.split('/')) {
    if (segment === '') return 'must not contain an empty segment ("//")';
    if (segment === '.' || segment === '..') return `must not contain a "${segment}" segment`;
    const segmentBytes = encoder.encode(segment).length;
    if (segmentBytes > MAX_SEGMENT_BYTES) {
      return `segments must be at most ${MAX_SEGMENT_BYTES} UTF-8 bytes (one has ${segmentBytes})`;
    }
  }
  return undefined;
}

/** True when `key` is a valid store key (see {@link keyProblem} for the rules). */
export function isValidKey(key: unknown): key is string {
  return keyProblem(key) === undefined;
}

/**
 * Throws `StoreError` code `INVALID_KEY` naming the key and the broken rule unless `key` is valid
 * (rules: {@link keyProblem}). Every backend calls it before touching its storage.
 */
export function validateKey(key: unknown): asserts key is string {
  const problem = keyProblem(key);
  if (problem !== undefined) {
    throw new StoreError('INVALID_KEY', `invalid key ${describe(key)}: a key ${problem}`, {
      key: typeof key === 'string' ? key : undefined,
    });
  }
}

/**
 * Throws `StoreError` code `INVALID_KEY` unless `prefix` is a usable listing prefix: a string (empty
 * means everything) without control characters, backslashes, lone surrogates or a leading `/`, of
 * at most {@link MAX_KEY_BYTES} bytes. A prefix is matched as a plain string prefix, as in S3, and is
 * never turned into a path.
 */
export function validatePrefix(prefix: unknown): asserts prefix is string {
  let problem: string | undefined;
  if (typeof prefix !== 'string') problem = `must be a string, got ${typeof prefix}`;
  else if (prefix.length > 0) {
    // Segment rules do not apply to a prefix: 'a/' or 'a/.' are fine prefixes.
    problem = problemOf(prefix, false);
  }
  if (problem !== undefined) {
    throw new StoreError('INVALID_KEY', `invalid prefix ${describe(prefix)}: a prefix ${problem}`);
  }
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(shown);
}
