// Owns the translation of AWS SDK failures into StoreErrors: which code, a message naming the key
// and the server's answer, and the guarantee that no credential or SSE-C key reaches either.

import { StoreError, type StoreErrorCode } from '../errors.js';

/** Server error codes meaning a part arrived damaged (its digest, checksum or signed hash differs). */
export const DAMAGED_IN_TRANSIT = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch']);

/** The S3 error code of an SDK error (`NoSuchKey`, `SlowDown`…), else its name or Node code. */
export function errorName(error: unknown): string {
  const e = error as { name?: unknown; Code?: unknown; code?: unknown } | null;
  if (typeof e?.Code === 'string') return e.Code;
  if (typeof e?.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e?.code === 'string') return e.code;
  return 'Error';
}

/** The HTTP status of an SDK error, when it got an answer. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  const code = (error as { code?: unknown } | null)?.code;
  const text = typeof message === 'string' && message.length > 0 ? message : 'no message';
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}

/** Secrets (credentials, SSE-C keys) masked in every text this store produces. */
export class Secrets {
  readonly #values = new Set<string>();

  /** Adds secrets; values shorter than 4 characters are ignored (they would mask ordinary text). */
  add(...values: (string | undefined)[]): void {
    for (const value of values) if (value !== undefined && value.length >= 4) this.#values.add(value);
  }

  /** `text` with every known secret replaced by `***`. */
  scrub(text: string): string {
    let out = text;
    for (const secret of this.#values) out = out.split(secret).join('***');
    return out;
  }
}

/** Where an SDK failure happened, for its message. */
export interface FailureContext {
  /** What was being done, as a verb phrase: `'upload'`, `'read metadata of'`. */
  action: string;
  /** The key concerned, if any (else the message names the bucket). */
  key: string | undefined;
  /** The bucket. */
  bucket: string;
  /** Code when nothing more specific applies. Default `IO_ERROR`. */
  fallback?: StoreErrorCode;
  /** The call read an existing object (GET, HEAD), where a 400 means an SSE-C key problem. */
  read?: boolean;
  /** True when the store reads and writes with an SSE-C key. */
  customerKey?: boolean;
}

/**
 * Maps an SDK error to a StoreError whose message and cause hold no secret: the raw SDK error
 * (which carries request headers) is replaced by a scrubbed copy with its name, status and message.
 */
export function toStoreError(cause: unknown, context: FailureContext, secrets: Secrets): StoreError {
  if (cause instanceof StoreError) return cause;
  const { action, key, bucket } = context;
  const name = errorName(cause);
  const status = statusOf(cause);
  const what = key === undefined ? `bucket ${JSON.stringify(bucket)}` : JSON.stringify(key);
  const detail = secrets.scrub(`${name}${status ? ` (HTTP ${status})` : ''}: ${messageOf(cause)}`);
  const safeCause = Object.assign(new Error(detail), { name: `S3 ${name}`, httpStatusCode: status });
  const fail = (code: StoreErrorCode, message: string): StoreError =>
    new StoreError(code, message, { ...(key === undefined ? {} : { key }), cause: safeCause });
  if (name === 'NoSuchBucket') {
    return fail('IO_ERROR', `could not ${action} ${what}: bucket ${JSON.stringify(bucket)} does not exist`);
  }
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
    return key === undefined
      ? fail('NOT_FOUND', `could not ${action} ${what}: ${detail}`)
      : fail('NOT_FOUND', `no object under key ${JSON.stringify(key)}`);
  }
  if (name === 'PreconditionFailed' || status === 412) {
    return fail(
      'ALREADY_EXISTS',
      `could not ${action} ${what}: an object already exists under the key and overwrite is false`,
    );
  }
  if (isEncryptionRefusal(name, status, messageOf(cause), context)) {
    return fail(
      'ENCRYPTION_ERROR',
      `could not ${action} ${what}: the object is encrypted with SSE-C and this store ${context.customerKey ? 'has a different key' : 'has no SSE-C key (options.encryption)'} (${detail})`,
    );
  }
  const denied =
    status === 403 ||
    ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'CredentialsProviderError'].includes(
      name,
    );
  return fail(
    denied ? 'PERMISSION_DENIED' : (context.fallback ?? 'IO_ERROR'),
    `could not ${action} ${what}: ${detail}`,
  );
}

/**
 * A read refused because of SSE-C. S3 and RGW answer 400 to a GET or HEAD of an SSE-C object
 * without its key or with a wrong one (a GET names encryption or the key in its message; a HEAD
 * has no body to say why); AWS answers 403 to a wrong key on some calls.
 */
function isEncryptionRefusal(
  name: string,
  status: number | undefined,
  message: string,
  context: FailureContext,
): boolean {
  if (context.read !== true) return false;
  const mentionsKey = /encrypt|customer|SSE-?C|\bkey\b/i.test(message);
  if (status === 400) return mentionsKey || ['Unknown', 'BadRequest', '400'].includes(name);
  return status === 403 && context.customerKey === true && mentionsKey;
}
