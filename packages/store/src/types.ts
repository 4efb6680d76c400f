// Owns the Store interface and the option types of its operations (downloads, ranges, writes, lists).

import type { KeyBuilder } from './key-builder.js';

/** User metadata of an object: a JSON object; values keep their JSON types through every backend. */
export type StoreMetadata = Record<string, unknown>;

/**
 * A byte range of an object, JS-slice style: `start` inclusive, `end` exclusive, both in bytes
 * from the start of the object. `{ start: 0, end: 100 }` is the first 100 bytes; `end` omitted means
 * "to the end of the object"; `start === end` is an empty range. Every backend checks the range
 * against the object's size: `0 <= start <= end <= size`, else `StoreError` `INVALID_ARGUMENT`
 * naming the range and the size.
 */
export interface ByteRange {
  /** First byte to read (inclusive), an integer from 0 to the object's size. */
  start: number;
  /** Byte after the last one to read (exclusive), an integer from `start` to the object's size. Default: the object's size. */
  end?: number;
}

/** Options of {@link Store.download} returning bytes. */
export interface DownloadOptions {
  /** Not streaming (the default). */
  stream?: false;
  /** Read only these bytes (S3: a Range GET; files: a positional read). Default: the whole object. */
  range?: ByteRange;
}

/** Options of {@link Store.download} when streaming. */
export interface DownloadStreamOptions {
  /** Stream the object instead of returning it whole. */
  stream: true;
  /**
   * Size of each yielded chunk in bytes (the last one may be shorter). Default 65 536. Must be a
   * positive integer, else `StoreError` `INVALID_ARGUMENT`.
   */
  chunkSize?: number;
  /** Stream only these bytes. Default: the whole object. */
  range?: ByteRange;
}

/** Options of writes ({@link Store.upload}, {@link Store.uploadMultipart}, {@link Store.copy}). */
export interface WriteOptions {
  /**
   * Replace an object already under the key. Default `true` for `upload` and `uploadMultipart`
   * (last writer wins), `false` for `copy`. When `false` and an object exists, the write fails with
   * `StoreError` `ALREADY_EXISTS` and nothing is replaced (S3: `If-None-Match: *` plus a check
   * before writing, for servers that ignore the header).
   */
  overwrite?: boolean;
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
   * `key` with `metadata`, replacing any previous object unless `options.overwrite` is `false`; the
   * object appears whole or not at all. Resolves to the key.
   */
  upload(
    data: Uint8Array | AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
    options?: WriteOptions,
  ): Promise<string>;
  /**
   * Stores the concatenation of `parts` under `key`, streaming (S3: a multipart upload, aborted on
   * failure). Resolves to the key.
   */
  uploadMultipart(
    parts: AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
    options?: WriteOptions,
  ): Promise<string>;
  /** The metadata given at upload, JSON types kept (`{}` when none was given). */
  getMetadata(key: string): Promise<StoreMetadata>;
  /** The whole object, or the bytes of `options.range`. */
  download(key: string, options?: DownloadOptions): Promise<Uint8Array>;
  /**
   * The object (or `options.range` of it) as chunks of `chunkSize` bytes; errors (e.g.
   * `NOT_FOUND`, a bad range) surface on iteration.
   */
  download(key: string, options: DownloadStreamOptions): AsyncIterable<Uint8Array>;
  /** Removes the object and its metadata; `NOT_FOUND` when it does not exist. */
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix` (plain string prefix), in pages, sorted by UTF-8 bytes. */
  list(prefix?: string, options?: ListOptions): AsyncIterable<string[]>;
  /** True when an object exists under `key`. */
  exists(key: string): Promise<boolean>;
  /** Removes every object whose key starts with `prefix` (everything when omitted or `''`). */
  clear(prefix?: string): Promise<void>;
  /**
   * Copies object and metadata to `destKey`. An existing `destKey` is `ALREADY_EXISTS` unless
   * `options.overwrite` is `true` (then it is replaced). Copying a key onto itself changes nothing.
   * Resolves to `destKey`.
   */
  copy(sourceKey: string, destKey: string, options?: WriteOptions): Promise<string>;
}
