// Owns MemoryStore, the reference Store held in a Map (and a double for other packages' tests).

import { concatBytes } from '@audex/pcm';
import {
  checkChunk,
  checkData,
  checkRange,
  compareKeys,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_PAGE_SIZE,
  overwriteOption,
  positiveInteger,
  resolveRange,
  sliceBytes,
} from './_bytes.js';
import { notFound, StoreError } from './errors.js';
import { KeyBuilder } from './key-builder.js';
import { decodeMetadata, encodeMetadata } from './metadata.js';
import type {
  DownloadOptions,
  DownloadStreamOptions,
  ListOptions,
  Store,
  StoreMetadata,
  WriteOptions,
} from './types.js';
import { validateKey, validatePrefix } from './validate-key.js';

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Builds keys for this store. Default `new KeyBuilder()`. */
  keyBuilder?: KeyBuilder;
}

interface MemoryObject {
  readonly data: Uint8Array;
  readonly metadata: string;
}

/**
 * A `Store` held in a `Map`: the reference implementation of the contract, and a fast double for
 * other packages' unit tests. Stores copies, so callers may reuse their buffers. Not persistent.
 */
export class MemoryStore implements Store {
  /** Builds keys for this store. */
  readonly keyBuilder: KeyBuilder;
  readonly #objects = new Map<string, MemoryObject>();

  /** @param options - optional key builder. */
  constructor(options: MemoryStoreOptions = {}) {
    this.keyBuilder = options.keyBuilder ?? new KeyBuilder();
  }

  /** Number of objects held (a test convenience). */
  get size(): number {
    return this.#objects.size;
  }

  /** {@inheritDoc Store.upload} */
  async upload(
    data: Uint8Array | AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
    options: WriteOptions = {},
  ): Promise<string> {
    validateKey(key);
    checkData(data, key);
    const meta = encodeMetadata(metadata, key);
    const overwrite = overwriteOption(options.overwrite, true, key);
    if (!overwrite) this.#refuseExisting(key);
    let bytes: Uint8Array;
    if (data instanceof Uint8Array) {
      bytes = data.slice();
    } else {
      const chunks: Uint8Array[] = [];
      try {
        for await (const chunk of data) {
          checkChunk(chunk, key);
          chunks.push(chunk.slice());
        }
      } catch (cause) {
        if (cause instanceof StoreError) throw cause;
        throw new StoreError(
          'UPLOAD_FAILED',
          `upload of ${JSON.stringify(key)} failed: the data stream threw`,
          {
            key,
            cause,
          },
        );
      }
      bytes = concatBytes(chunks);
    }
    if (!overwrite) this.#refuseExisting(key);
    this.#objects.set(key, { data: bytes, metadata: meta });
    return key;
  }

  /** {@inheritDoc Store.uploadMultipart} */
  uploadMultipart(
    parts: AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
    options?: WriteOptions,
  ): Promise<string> {
    return this.upload(parts, key, metadata, options);
  }

  /** {@inheritDoc Store.getMetadata} */
  async getMetadata(key: string): Promise<StoreMetadata> {
    return decodeMetadata(this.#get(key).metadata, key);
  }

  /** The whole object, or `options.range` of it; `NOT_FOUND` when missing. */
  download(key: string, options?: DownloadOptions): Promise<Uint8Array>;
  /** The object (or its range) in chunks of `chunkSize` bytes; errors surface on iteration. */
  download(key: string, options: DownloadStreamOptions): AsyncIterable<Uint8Array>;
  download(
    key: string,
    options?: DownloadOptions | DownloadStreamOptions,
  ): Promise<Uint8Array> | AsyncIterable<Uint8Array> {
    if (options?.stream) return this.#stream(key, options.chunkSize, options.range);
    return (async () => this.#slice(key, options?.range).slice())();
  }

  async *#stream(key: string, chunkSize: number | undefined, range: unknown): AsyncGenerator<Uint8Array> {
    const size = positiveInteger(chunkSize, 'chunkSize', DEFAULT_CHUNK_SIZE);
    for (const slice of sliceBytes(this.#slice(key, range), size)) yield slice.slice();
  }

  /** A view of the object's bytes in `range`. */
  #slice(key: string, range: unknown): Uint8Array {
    validateKey(key);
    const request = checkRange(range, key);
    const { data } = this.#get(key);
    const { start, end } = resolveRange(request, data.length, key);
    return data.subarray(start, end);
  }

  /** {@inheritDoc Store.delete} */
  async delete(key: string): Promise<void> {
    this.#get(key);
    this.#objects.delete(key);
  }

  /** {@inheritDoc Store.list} */
  async *list(prefix = '', options: ListOptions = {}): AsyncGenerator<string[]> {
    validatePrefix(prefix);
    const pageSize = positiveInteger(options.pageSize, 'pageSize', DEFAULT_PAGE_SIZE);
    const keys = [...this.#objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
    for (let i = 0; i < keys.length; i += pageSize) yield keys.slice(i, i + pageSize);
  }

  /** {@inheritDoc Store.exists} */
  async exists(key: string): Promise<boolean> {
    validateKey(key);
    return this.#objects.has(key);
  }

  /** {@inheritDoc Store.clear} */
  async clear(prefix = ''): Promise<void> {
    validatePrefix(prefix);
    for (const key of [...this.#objects.keys()]) if (key.startsWith(prefix)) this.#objects.delete(key);
  }

  /** {@inheritDoc Store.copy} */
  async copy(sourceKey: string, destKey: string, options: WriteOptions = {}): Promise<string> {
    const source = this.#get(sourceKey);
    validateKey(destKey);
    const overwrite = overwriteOption(options.overwrite, false, destKey);
    if (sourceKey === destKey) return destKey;
    if (!overwrite) this.#refuseExisting(destKey);
    this.#objects.set(destKey, source);
    return destKey;
  }

  #refuseExisting(key: string): void {
    if (this.#objects.has(key)) {
      throw new StoreError(
        'ALREADY_EXISTS',
        `an object already exists under ${JSON.stringify(key)} and overwrite is false; nothing was replaced`,
        { key },
      );
    }
  }

  #get(key: string): MemoryObject {
    validateKey(key);
    const object = this.#objects.get(key);
    if (object === undefined) throw notFound(key);
    return object;
  }
}
