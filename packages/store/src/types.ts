import type { KeyBuilder } from './key-builder.js';

/** User metadata of an object: a JSON object; values keep their JSON types through every backend. */
export type StoreMetadata = Record<string, unknown>;

/** Options of {@link Store.download} when streaming. */
export interface DownloadStreamOptions {
  /** Stream the object instead of returning it whole. */
  stream: true;
  /**
   * Size of each yielded chunk in bytes (the last one may be shorter). Default 65 536. Must be a
   * positive integer, else `StoreError` `INVALID_ARGUMENT`.
   */
  chunkSize?: number;
}

/** Options of {@link Store.list}. */
export interface ListOptions {
  /** Keys per yielded page (the last page may be shorter). Default 1000. A positive integer. */
  pageSize?: number;
}

/**
 * Where recordings are saved. Keys are `/`-separated (see `validateKey`); every operation rejects an
 * invalid key with `StoreError` `INVALID_KEY` before touching storage, and an operation needing a
 * missing object fails with `StoreError` `NOT_FOUND`. `@audex/store/testing`'s `testStore` checks an
 * implementation against this contract.
 */
export interface Store {
  /** Builds keys for this store. */
  readonly keyBuilder: KeyBuilder;
  /**
   * Stores `data` (bytes, or an async iterable of byte chunks consumed with bounded memory) under
   * `key` with `metadata`, replacing any previous object; the object appears whole or not at all.
   * Resolves to the key.
   */
  upload(
    data: Uint8Array | AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
  ): Promise<string>;
  /**
   * Stores the concatenation of `parts` under `key`, streaming (S3: a multipart upload, aborted on
   * failure). Resolves to the key.
   */
  uploadMultipart(parts: AsyncIterable<Uint8Array>, key: string, metadata?: StoreMetadata): Promise<string>;
  /** The metadata given at upload, JSON types kept (`{}` when none was given). */
  getMetadata(key: string): Promise<StoreMetadata>;
  /** The whole object. */
  download(key: string): Promise<Uint8Array>;
  /** The object as chunks of `chunkSize` bytes; errors (e.g. `NOT_FOUND`) surface on iteration. */
  download(key: string, options: DownloadStreamOptions): AsyncIterable<Uint8Array>;
  /** Removes the object and its metadata; `NOT_FOUND` when it does not exist. */
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix` (plain string prefix), in pages, sorted by UTF-8 bytes. */
  list(prefix?: string, options?: ListOptions): AsyncIterable<string[]>;
  /** True when an object exists under `key`. */
  exists(key: string): Promise<boolean>;
  /** Removes every object whose key starts with `prefix` (everything when omitted or `''`). */
  clear(prefix?: string): Promise<void>;
  /** Copies object and metadata to `destKey`, replacing it. Resolves to `destKey`. */
  copy(sourceKey: string, destKey: string): Promise<string>;
}
