// Owns server-side encryption: the `encryption` option, the request parameters each S3 call needs
// (SSE-C's key goes on every read, write, copy and HEAD) and the fail-closed check that an answer
// confirms the encryption asked for.

import { createHash } from 'node:crypto';
import { StoreError } from '../errors.js';

/**
 * Server-side encryption of everything an `S3Store` writes (and, for SSE-C, reads).
 *
 * - `SSE-S3`: keys managed by S3 (`x-amz-server-side-encryption: AES256`).
 * - `SSE-KMS`: a KMS key (`aws:kms`); `keyId` (id, ARN or alias) defaults to the bucket's AWS
 *   managed key on AWS (Ceph RGW requires one).
 * - `SSE-C`: your own 32-byte AES-256 key, sent with every request that reads or writes object
 *   data (and HEAD); the server keeps only its MD5. Lose the key and the objects are unreadable.
 */
export type S3Encryption =
  | { type: 'SSE-S3' }
  | { type: 'SSE-KMS'; keyId?: string }
  | { type: 'SSE-C'; key: Uint8Array };

/** SDK parameters naming a customer key (`SSECustomer…`). */
interface CustomerKeyParams {
  SSECustomerAlgorithm: 'AES256';
  SSECustomerKey: string;
  SSECustomerKeyMD5: string;
}

/** The encryption fields of an S3 answer (PutObject, CreateMultipartUpload, HeadObject…). */
export interface EncryptionAnswer {
  ServerSideEncryption?: string | undefined;
  SSEKMSKeyId?: string | undefined;
  SSECustomerAlgorithm?: string | undefined;
  SSECustomerKeyMD5?: string | undefined;
}

/** A validated `encryption` option and the request parameters it implies. */
export class Encryption {
  /** The option as given (key bytes copied). */
  readonly type: S3Encryption['type'];
  readonly #keyId: string | undefined;
  readonly #customer: CustomerKeyParams | undefined;

  /**
   * @param option - the `encryption` option.
   * @throws StoreError `INVALID_OPTIONS` naming what is wrong (never the key bytes).
   */
  constructor(option: S3Encryption) {
    const bad = (why: string): StoreError =>
      new StoreError(
        'INVALID_OPTIONS',
        `S3Store encryption ${why}; allowed: { type: 'SSE-S3' }, { type: 'SSE-KMS', keyId?: string }, { type: 'SSE-C', key: Uint8Array of 32 bytes }`,
      );
    const type = (option as { type?: unknown } | null)?.type;
    if (type === 'SSE-S3') {
      this.type = type;
      this.#keyId = undefined;
      this.#customer = undefined;
    } else if (type === 'SSE-KMS') {
      const keyId = (option as { keyId?: unknown }).keyId;
      if (keyId !== undefined && (typeof keyId !== 'string' || keyId.length === 0)) {
        throw bad(`keyId must be a non-empty string, got ${typeof keyId === 'string' ? '""' : typeof keyId}`);
      }
      this.type = type;
      this.#keyId = keyId;
      this.#customer = undefined;
    } else if (type === 'SSE-C') {
      const key = (option as { key?: unknown }).key;
      if (!(key instanceof Uint8Array) || key.length !== 32) {
        throw bad(
          `key must be a Uint8Array of 32 bytes (AES-256), got ${key instanceof Uint8Array ? `${key.length} bytes` : typeof key}`,
        );
      }
      const bytes = Buffer.from(key);
      this.type = type;
      this.#keyId = undefined;
      this.#customer = {
        SSECustomerAlgorithm: 'AES256',
        SSECustomerKey: bytes.toString('base64'),
        SSECustomerKeyMD5: createHash('md5').update(bytes).digest('base64'),
      };
    } else {
      throw bad(`type must be 'SSE-S3', 'SSE-KMS' or 'SSE-C', got ${JSON.stringify(type) ?? String(type)}`);
    }
  }

  /** The SSE-C key as sent (base64), to be masked in every message. */
  get secret(): string | undefined {
    return this.#customer?.SSECustomerKey;
  }

  /** True for SSE-C. */
  get customerKey(): boolean {
    return this.#customer !== undefined;
  }

  /** Parameters of calls that create an object: PutObject, CreateMultipartUpload, CopyObject's destination. */
  write(): Record<string, string> {
    if (this.type === 'SSE-S3') return { ServerSideEncryption: 'AES256' };
    if (this.type === 'SSE-KMS') {
      return {
        ServerSideEncryption: 'aws:kms',
        ...(this.#keyId === undefined ? {} : { SSEKMSKeyId: this.#keyId }),
      };
    }
    return { ...this.#customer! };
  }

  /** Parameters of calls that read or add to an object: GetObject, HeadObject, UploadPart, CompleteMultipartUpload. */
  read(): Record<string, string> {
    return this.#customer === undefined ? {} : { ...this.#customer };
  }

  /** Parameters naming CopyObject's source key. */
  copySource(): Record<string, string> {
    const c = this.#customer;
    if (c === undefined) return {};
    return {
      CopySourceSSECustomerAlgorithm: c.SSECustomerAlgorithm,
      CopySourceSSECustomerKey: c.SSECustomerKey,
      CopySourceSSECustomerKeyMD5: c.SSECustomerKeyMD5,
    };
  }

  /** What this encryption is, for messages (never the key). */
  describe(): string {
    if (this.type === 'SSE-KMS')
      return this.#keyId === undefined ? 'SSE-KMS' : `SSE-KMS with key ${JSON.stringify(this.#keyId)}`;
    return this.type;
  }

  /**
   * Fails closed: throws `ENCRYPTION_ERROR` unless `answer` (of `call` on `key`) confirms this
   * encryption — `ServerSideEncryption` `AES256`/`aws:kms` (and the KMS key when one was named), or
   * the SSE-C algorithm and key MD5.
   */
  confirm(answer: EncryptionAnswer, call: string, key: string): void {
    const problem = this.#problem(answer);
    if (problem === undefined) return;
    throw new StoreError(
      'ENCRYPTION_ERROR',
      `${call} of ${JSON.stringify(key)} asked for ${this.describe()} but the server's answer ${problem}: it does not apply this encryption, so nothing is kept unencrypted`,
      { key },
    );
  }

  #problem(answer: EncryptionAnswer): string | undefined {
    if (this.#customer !== undefined) {
      if (answer.SSECustomerAlgorithm !== 'AES256') {
        return `has SSE-C algorithm ${JSON.stringify(answer.SSECustomerAlgorithm ?? null)}, not "AES256"`;
      }
      if (answer.SSECustomerKeyMD5 !== this.#customer.SSECustomerKeyMD5)
        return 'confirms a different SSE-C key';
      return undefined;
    }
    const expected = this.type === 'SSE-S3' ? 'AES256' : 'aws:kms';
    if (answer.ServerSideEncryption !== expected) {
      return `has x-amz-server-side-encryption ${JSON.stringify(answer.ServerSideEncryption ?? null)}, not ${JSON.stringify(expected)}`;
    }
    if (this.#keyId !== undefined && !sameKmsKey(answer.SSEKMSKeyId, this.#keyId)) {
      return `names KMS key ${JSON.stringify(answer.SSEKMSKeyId ?? null)}`;
    }
    return undefined;
  }
}

/** AWS answers a key's ARN for a key id or alias: compare by the last path component too. */
function sameKmsKey(answered: string | undefined, asked: string): boolean {
  if (answered === undefined) return false;
  if (answered === asked) return true;
  // An alias names whichever key it points to now: AWS answers that key's ARN, not the alias.
  if (/(^|:)alias\//.test(asked)) return true;
  const tail = (s: string): string => s.slice(s.lastIndexOf(':') + 1).replace(/^key\//, '');
  return tail(answered) === tail(asked) || answered.endsWith(`/${asked}`);
}
