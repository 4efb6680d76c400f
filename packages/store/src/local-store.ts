// Owns LocalStore, the Store on the local filesystem: atomic writes (temp file, fsync, rename or
// link), positional ranged reads, sorted listing of the key tree.

import { randomUUID } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import {
  copyFile,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
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
} from './_bytes.js';
import { classifyEntry, keyToParts, META_SUFFIX } from './_local-layout.js';
import { notFound, StoreError, type StoreErrorCode } from './errors.js';
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

/** Options of {@link LocalStore}. */
export interface LocalStoreOptions {
  /**
   * Directory holding the store; created on first write. A relative path is resolved against the
   * current directory once, at construction. The store only writes below `root/objects` and
   * `root/tmp`.
   */
  root: string;
  /** Builds keys for this store. Default `new KeyBuilder()`. */
  keyBuilder?: KeyBuilder;
  /**
   * Call `fsync` on each written file and its directory before an upload resolves, so a completed
   * upload survives a power loss. Default `true`; `false` trades that for speed (tests).
   */
  fsync?: boolean;
}

/** Longest file name most filesystems allow, in bytes. */
const NAME_MAX = 255;
const encoder = new TextEncoder();

/**
 * A `Store` on the local filesystem, the embedded default.
 *
 * Layout: `root/objects/` mirrors the keys, one directory per segment (`a/b/c.wav` is
 * `objects/a%/b%/c.wav`, metadata beside it in `c.wav%meta.json`); `root/tmp/` holds uploads in
 * progress. Writes are atomic: data and metadata go to temp files in `root/tmp`, are fsynced, and
 * are renamed into place (metadata first, the object last, so a visible object always has its
 * metadata), then the directory is fsynced. A reader never sees half an object. Writes to one key
 * from one process are serialised at the commit, so data and metadata come from the same writer.
 */
export class LocalStore implements Store {
  /** Builds keys for this store. */
  readonly keyBuilder: KeyBuilder;
  /** Absolute path of the store's directory. */
  readonly root: string;
  readonly #objects: string;
  readonly #tmp: string;
  readonly #fsync: boolean;
  readonly #locks = new Map<string, Promise<void>>();

  /**
   * @param options - root directory and optional key builder.
   * @throws StoreError `INVALID_OPTIONS` when `root` is not a non-empty string.
   */
  constructor(options: LocalStoreOptions) {
    if (typeof options?.root !== 'string' || options.root.length === 0 || options.root.includes('\0')) {
      throw new StoreError('INVALID_OPTIONS', `LocalStore root must be a non-empty directory path`);
    }
    this.root = resolve(options.root);
    this.keyBuilder = options.keyBuilder ?? new KeyBuilder();
    this.#objects = join(this.root, 'objects');
    this.#tmp = join(this.root, 'tmp');
    this.#fsync = options.fsync ?? true;
  }

  /** {@inheritDoc Store.upload} */
  async upload(
    data: Uint8Array | AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
    options: WriteOptions = {},
  ): Promise<string> {
    const paths = this.#paths(key);
    checkData(data, key);
    const meta = encodeMetadata(metadata, key);
    const overwrite = overwriteOption(options.overwrite, true, key);
    // Fail before reading the data; the commit checks again (atomically) at the end.
    if (!overwrite) await this.#refuseExisting(key, paths.object);
    await this.#write(key, paths, meta, overwrite, async (handle) => {
      if (data instanceof Uint8Array) {
        await writeAll(handle, data);
        return data.length;
      }
      let total = 0;
      for await (const chunk of data) {
        checkChunk(chunk, key);
        await writeAll(handle, chunk);
        total += chunk.length;
      }
      return total;
    });
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
    const { object, meta } = this.#paths(key);
    await this.#statObject(key, object);
    let text: string;
    try {
      text = await readFile(meta, 'utf8');
    } catch (cause) {
      if (errno(cause) === 'ENOENT') return {};
      throw fsError(cause, 'read metadata of', key);
    }
    return decodeMetadata(text, key);
  }

  /** The whole object, or `options.range` of it (a positional read); `NOT_FOUND` when missing. */
  download(key: string, options?: DownloadOptions): Promise<Uint8Array>;
  /** The object (or its range) in chunks of `chunkSize` bytes; errors surface on iteration. */
  download(key: string, options: DownloadStreamOptions): AsyncIterable<Uint8Array>;
  download(
    key: string,
    options?: DownloadOptions | DownloadStreamOptions,
  ): Promise<Uint8Array> | AsyncIterable<Uint8Array> {
    if (options?.stream) return this.#stream(key, options.chunkSize, options.range);
    return this.#read(key, options?.range);
  }

  /** Opens the object and resolves `range` against its size (fstat of the open descriptor). */
  async #openRange(key: string, range: unknown): Promise<{ handle: FileHandle; start: number; end: number }> {
    validateKey(key);
    const request = checkRange(range, key);
    const handle = await this.#openObject(key);
    try {
      const { size } = await handle.stat();
      return { handle, ...resolveRange(request, size, key) };
    } catch (cause) {
      await handle.close();
      throw toStoreError(cause, 'read', key);
    }
  }

  async #read(key: string, range: unknown): Promise<Uint8Array> {
    const { handle, start, end } = await this.#openRange(key, range);
    try {
      const out = new Uint8Array(end - start);
      let filled = 0;
      while (filled < out.length) {
        const { bytesRead } = await handle.read(out, filled, out.length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled < out.length) throw shrunk(key, start + filled, end);
      return out;
    } catch (cause) {
      throw toStoreError(cause, 'read', key);
    } finally {
      await handle.close();
    }
  }

  async *#stream(key: string, chunkSize: number | undefined, range: unknown): AsyncGenerator<Uint8Array> {
    const size = positiveInteger(chunkSize, 'chunkSize', DEFAULT_CHUNK_SIZE);
    // The open descriptor pins one version of the object: a concurrent overwrite renames a new
    // file into place and never changes what this stream reads.
    const { handle, start, end } = await this.#openRange(key, range);
    try {
      let position = start;
      while (position < end) {
        const buffer = new Uint8Array(Math.min(size, end - position));
        let filled = 0;
        while (filled < buffer.length) {
          const { bytesRead } = await handle
            .read(buffer, filled, buffer.length - filled, position + filled)
            .catch((cause: unknown) => {
              throw fsError(cause, 'read', key);
            });
          if (bytesRead === 0) throw shrunk(key, position + filled, end);
          filled += bytesRead;
        }
        position += filled;
        yield buffer;
      }
    } finally {
      await handle.close();
    }
  }

  /** {@inheritDoc Store.delete} */
  async delete(key: string): Promise<void> {
    const paths = this.#paths(key);
    await this.#locked(key, async () => {
      try {
        await unlink(paths.object);
      } catch (cause) {
        if (isMissing(cause)) throw notFound(key, cause);
        throw fsError(cause, 'delete', key);
      }
      await unlink(paths.meta).catch((cause: unknown) => {
        if (!isMissing(cause)) throw fsError(cause, 'delete metadata of', key);
      });
    });
    await this.#pruneDirs(paths.dirs);
  }

  /** {@inheritDoc Store.list} */
  async *list(prefix = '', options: ListOptions = {}): AsyncGenerator<string[]> {
    validatePrefix(prefix);
    const pageSize = positiveInteger(options.pageSize, 'pageSize', DEFAULT_PAGE_SIZE);
    let page: string[] = [];
    for await (const key of this.#walk(this.#objects, '', prefix)) {
      page.push(key);
      if (page.length === pageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  }

  /**
   * Yields the keys below `dir` (whose keys start with `keyPrefix`) that start with `prefix`, in
   * UTF-8 order. Sorting each directory's entries by segment (objects) or segment + '/'
   * (directories) gives the global key order, so nothing is buffered beyond one directory listing.
   */
  async *#walk(dir: string, keyPrefix: string, prefix: string): AsyncGenerator<string> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (cause) {
      if (isMissing(cause)) return;
      throw fsError(cause, 'list', keyPrefix || undefined);
    }
    const items: { sortKey: string; name: string; dir: boolean }[] = [];
    for (const entry of entries) {
      const kind = classifyEntry(entry.name, entry.isDirectory(), entry.isFile());
      if (kind.kind === 'object') {
        const key = keyPrefix + kind.segment;
        if (key.startsWith(prefix)) items.push({ sortKey: key, name: entry.name, dir: false });
      } else if (kind.kind === 'dir') {
        const below = `${keyPrefix + kind.segment}/`;
        if (below.startsWith(prefix) || prefix.startsWith(below)) {
          items.push({ sortKey: below, name: entry.name, dir: true });
        }
      }
    }
    items.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
    for (const item of items) {
      if (item.dir) yield* this.#walk(join(dir, item.name), item.sortKey, prefix);
      else yield item.sortKey;
    }
  }

  /** {@inheritDoc Store.exists} */
  async exists(key: string): Promise<boolean> {
    const { object } = this.#paths(key);
    try {
      return (await stat(object)).isFile();
    } catch (cause) {
      if (isMissing(cause)) return false;
      throw fsError(cause, 'check', key);
    }
  }

  /** {@inheritDoc Store.clear} */
  async clear(prefix = ''): Promise<void> {
    validatePrefix(prefix);
    for await (const page of this.list(prefix, { pageSize: 256 })) {
      await pool(page, 16, (key) =>
        this.delete(key).catch((error: unknown) => {
          if (!(error instanceof StoreError && error.code === 'NOT_FOUND')) throw error;
        }),
      );
    }
  }

  /** {@inheritDoc Store.copy} */
  async copy(sourceKey: string, destKey: string, options: WriteOptions = {}): Promise<string> {
    const source = this.#paths(sourceKey);
    const dest = this.#paths(destKey);
    const overwrite = overwriteOption(options.overwrite, false, destKey);
    if (sourceKey === destKey) {
      await this.#statObject(sourceKey, source.object);
      return destKey;
    }
    if (!overwrite) {
      await this.#statObject(sourceKey, source.object);
      await this.#refuseExisting(destKey, dest.object);
    }
    await this.#ensureDir(this.#tmp, destKey);
    const tmpObject = join(this.#tmp, `${randomUUID()}.obj`);
    const tmpMeta = join(this.#tmp, `${randomUUID()}.meta`);
    try {
      // Read data and metadata under the source's lock so they come from one version.
      await this.#locked(sourceKey, async () => {
        try {
          await copyFile(source.object, tmpObject);
        } catch (cause) {
          if (isMissing(cause)) throw notFound(sourceKey, cause);
          throw fsError(cause, 'copy', sourceKey);
        }
        try {
          await copyFile(source.meta, tmpMeta);
        } catch (cause) {
          if (!isMissing(cause)) throw fsError(cause, 'copy metadata of', sourceKey);
          await writeFileSynced(tmpMeta, '{}', false);
        }
      });
      if (this.#fsync) {
        await fsyncPath(tmpObject);
        await fsyncPath(tmpMeta);
      }
      await this.#commit(destKey, dest, tmpObject, tmpMeta, overwrite);
    } catch (error) {
      await removeQuietly(tmpObject, tmpMeta);
      throw toStoreError(error, 'copy to', destKey);
    }
    return destKey;
  }

  /** Validates `key` and returns its paths; nothing touches the disk before this succeeds. */
  #paths(key: string): { object: string; meta: string; parent: string; dirs: string[] } {
    validateKey(key);
    const { dirs, name } = keyToParts(key);
    for (const part of [...dirs, name + META_SUFFIX]) {
      if (encoder.encode(part).length > NAME_MAX) {
        throw new StoreError(
          'INVALID_KEY',
          `invalid key ${JSON.stringify(key)}: a segment is too long for a file name once escaped (${NAME_MAX} bytes)`,
          { key },
        );
      }
    }
    const parent = join(this.#objects, ...dirs);
    const object = join(parent, name);
    // Defence in depth: validateKey already rules out every way of leaving the root.
    if (!object.startsWith(this.#objects + sep) || !isAbsolute(object)) {
      throw new StoreError(
        'INVALID_KEY',
        `invalid key ${JSON.stringify(key)}: resolves outside the store root`,
        {
          key,
        },
      );
    }
    const dirPaths: string[] = [];
    for (let i = dirs.length; i > 0; i--) dirPaths.push(join(this.#objects, ...dirs.slice(0, i)));
    return { object, meta: object + META_SUFFIX, parent, dirs: dirPaths };
  }

  async #write(
    key: string,
    paths: { object: string; meta: string; parent: string },
    meta: string,
    overwrite: boolean,
    fill: (handle: FileHandle) => Promise<number>,
  ): Promise<void> {
    await this.#ensureDir(this.#tmp, key);
    const tmpObject = join(this.#tmp, `${randomUUID()}.obj`);
    const tmpMeta = join(this.#tmp, `${randomUUID()}.meta`);
    try {
      let handle: FileHandle;
      try {
        handle = await open(tmpObject, 'wx');
      } catch (cause) {
        throw fsError(cause, 'upload', key);
      }
      try {
        const written = await fill(handle).catch((cause: unknown) => {
          if (cause instanceof StoreError) throw cause;
          if (errno(cause) !== undefined) throw fsError(cause, 'upload', key);
          throw new StoreError(
            'UPLOAD_FAILED',
            `upload of ${JSON.stringify(key)} failed: the data stream threw`,
            {
              key,
              cause,
            },
          );
        });
        if (this.#fsync) await handle.sync();
        const { size } = await handle.stat();
        if (size !== written) {
          throw new StoreError(
            'INTEGRITY_ERROR',
            `upload of ${JSON.stringify(key)}: wrote ${written} bytes but the file holds ${size}`,
            { key },
          );
        }
      } finally {
        await handle.close();
      }
      await writeFileSynced(tmpMeta, meta, this.#fsync);
      await this.#commit(key, paths, tmpObject, tmpMeta, overwrite);
    } catch (error) {
      await removeQuietly(tmpObject, tmpMeta);
      throw toStoreError(error, 'upload', key);
    }
  }

  /**
   * Renames the temp files into place under the key's lock: metadata first, then the object. Without
   * `overwrite`, an existing object is `ALREADY_EXISTS` and the object is hard-linked into place
   * (`link` fails on an existing name, so even another process's object is never replaced).
   */
  async #commit(
    key: string,
    paths: { object: string; meta: string; parent: string },
    tmpObject: string,
    tmpMeta: string,
    overwrite: boolean,
  ): Promise<void> {
    await this.#locked(key, async () => {
      if (!overwrite) await this.#refuseExisting(key, paths.object);
      // A concurrent delete may prune the parent between mkdir and rename: retry a few times.
      for (let attempt = 0; ; attempt++) {
        await this.#ensureDir(paths.parent, key);
        try {
          await rename(tmpMeta, paths.meta);
          if (overwrite) {
            await rename(tmpObject, paths.object);
          } else {
            await link(tmpObject, paths.object);
            await unlink(tmpObject);
          }
          break;
        } catch (cause) {
          if (errno(cause) === 'EEXIST') throw alreadyExists(key);
          if (errno(cause) !== 'ENOENT' || attempt >= 5) throw fsError(cause, 'upload', key);
        }
      }
    });
    if (this.#fsync) await fsyncPath(paths.parent).catch(() => undefined);
  }

  /** `ALREADY_EXISTS` when an object is stored under `key`. */
  async #refuseExisting(key: string, object: string): Promise<void> {
    try {
      await stat(object);
    } catch (cause) {
      if (isMissing(cause)) return;
      throw fsError(cause, 'check for an existing object at', key);
    }
    throw alreadyExists(key);
  }

  async #ensureDir(dir: string, key: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (cause) {
      throw fsError(cause, 'create a directory for', key);
    }
  }

  /** Removes now-empty directories from the deepest up; a concurrent writer's mkdir wins. */
  async #pruneDirs(dirs: readonly string[]): Promise<void> {
    for (const dir of dirs) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
    }
  }

  async #statObject(key: string, object: string): Promise<void> {
    try {
      if ((await stat(object)).isFile()) return;
    } catch (cause) {
      if (isMissing(cause)) throw notFound(key, cause);
      throw fsError(cause, 'read', key);
    }
    throw notFound(key);
  }

  async #openObject(key: string): Promise<FileHandle> {
    const { object } = this.#paths(key);
    try {
      return await open(object, 'r');
    } catch (cause) {
      if (isMissing(cause) || errno(cause) === 'EISDIR') throw notFound(key, cause);
      throw fsError(cause, 'read', key);
    }
  }

  async #locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((r) => {
      release = r;
    });
    const tail = previous.then(() => current);
    this.#locks.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    }
  }
}

function alreadyExists(key: string): StoreError {
  return new StoreError(
    'ALREADY_EXISTS',
    `an object already exists under ${JSON.stringify(key)} and overwrite is false; nothing was replaced`,
    { key },
  );
}

/** The file ended before `end`: something outside the store truncated it. */
function shrunk(key: string, at: number, end: number): StoreError {
  return new StoreError(
    'INTEGRITY_ERROR',
    `the file of ${JSON.stringify(key)} ended at byte ${at}, before byte ${end}: it was truncated outside the store`,
    { key },
  );
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset, null);
    offset += bytesWritten;
  }
}

async function writeFileSynced(path: string, text: string, sync: boolean): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await writeAll(handle, encoder.encode(text));
    if (sync) await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeQuietly(...paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => unlink(p).catch(() => undefined)));
}

function errno(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isMissing(error: unknown): boolean {
  const code = errno(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

const FS_CODES: Record<string, [StoreErrorCode, string]> = {
  ENOSPC: ['NO_SPACE', 'the disk is full'],
  EDQUOT: ['NO_SPACE', 'the disk quota is exceeded'],
  EROFS: ['PERMISSION_DENIED', 'the filesystem is read-only'],
  EACCES: ['PERMISSION_DENIED', 'permission denied'],
  EPERM: ['PERMISSION_DENIED', 'operation not permitted'],
};

function fsError(cause: unknown, action: string, key: string | undefined): StoreError {
  if (cause instanceof StoreError) return cause;
  const code = errno(cause);
  const [storeCode, why] = (code !== undefined && FS_CODES[code]) || ['IO_ERROR', code ?? String(cause)];
  const what = key === undefined ? 'the store' : JSON.stringify(key);
  return new StoreError(storeCode, `could not ${action} ${what}: ${why} (${code ?? 'error'})`, {
    key,
    cause,
  });
}

function toStoreError(error: unknown, action: string, key: string): StoreError {
  return error instanceof StoreError ? error : fsError(error, action, key);
}

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}
