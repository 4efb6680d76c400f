import { StoreError } from './errors.js';
import type { StoreMetadata } from './types.js';

/**
 * Checks that `metadata` is a plain JSON object (values: `null`, booleans, finite numbers, strings,
 * arrays and plain objects of those, no cycles) and returns its JSON text. Anything JSON would change
 * on the way back (`undefined`, `NaN`, a `Date`, a `Map`, a class instance, a bigint) is rejected, so
 * `getMetadata` returns exactly what `upload` was given.
 *
 * @throws StoreError `INVALID_METADATA` naming the offending path, e.g. `metadata.tags[2]`.
 */
export function encodeMetadata(metadata: unknown, key?: string): string {
  if (metadata === undefined) return '{}';
  if (!isPlainObject(metadata)) {
    throw new StoreError('INVALID_METADATA', `metadata must be a plain object, got ${kind(metadata)}`, {
      key,
    });
  }
  checkValue(metadata, 'metadata', new Set(), key);
  return JSON.stringify(metadata);
}

/** Parses metadata JSON written by {@link encodeMetadata}. */
export function decodeMetadata(text: string, key?: string): StoreMetadata {
  try {
    const value: unknown = JSON.parse(text);
    if (isPlainObject(value)) return value;
  } catch (cause) {
    throw new StoreError('IO_ERROR', `stored metadata of ${JSON.stringify(key)} is not valid JSON`, {
      key,
      cause,
    });
  }
  throw new StoreError('IO_ERROR', `stored metadata of ${JSON.stringify(key)} is not a JSON object`, { key });
}

function checkValue(value: unknown, path: string, seen: Set<object>, key: string | undefined): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (Number.isFinite(value)) return;
      break;
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) {
        throw new StoreError('INVALID_METADATA', `${path} is a circular reference`, { key });
      }
      if (Array.isArray(value)) {
        seen.add(value);
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new StoreError('INVALID_METADATA', `${path}[${i}] is a hole`, { key });
          checkValue(value[i], `${path}[${i}]`, seen, key);
        }
        seen.delete(value);
        return;
      }
      if (isPlainObject(value)) {
        seen.add(value);
        for (const [k, v] of Object.entries(value)) checkValue(v, `${path}.${k}`, seen, key);
        seen.delete(value);
        return;
      }
      break;
    }
    default:
      break;
  }
  throw new StoreError(
    'INVALID_METADATA',
    `${path} is ${kind(value)}; metadata values must be JSON: null, boolean, finite number, string, array or plain object` +
      (value instanceof Date ? ' (store a Date as toISOString() or a number)' : ''),
    { key },
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return `a ${typeof value}`;
}
