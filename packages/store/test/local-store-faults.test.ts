import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStore, StoreError } from '@audex/store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** Which filesystem call fails next, with which errno (fault injection only). */
const fault: { op?: 'open' | 'write' | 'sync' | 'rename' | 'mkdir'; code?: string; afterBytes?: number } = {};

function fsFailure(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof FsPromises>();
  const wrapHandle = (handle: FsPromises.FileHandle): FsPromises.FileHandle => {
    let written = 0;
    return new Proxy(handle, {
      get(target, prop, receiver) {
        if (prop === 'write' && fault.op === 'write') {
          return async (data: Uint8Array, offset: number, length: number, position: null) => {
            if (written + length > (fault.afterBytes ?? 0)) throw fsFailure(fault.code!);
            written += length;
            return target.write(data, offset, length, position);
          };
        }
        if (prop === 'sync' && fault.op === 'sync') return async () => Promise.reject(fsFailure(fault.code!));
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  return {
    ...real,
    open: async (path: string, flags: string) => {
      if (fault.op === 'open' && flags === 'wx') throw fsFailure(fault.code!);
      return wrapHandle(await real.open(path, flags));
    },
    rename: async (from: string, to: string) => {
      if (fault.op === 'rename' && !to.endsWith('%meta.json')) throw fsFailure(fault.code!);
      return real.rename(from, to);
    },
    mkdir: async (path: string, options: { recursive: boolean }) => {
      if (fault.op === 'mkdir') throw fsFailure(fault.code!);
      return real.mkdir(path, options);
    },
  };
});

describe('LocalStore faults', () => {
  let root: string;
  let store: LocalStore;
  const key = 'audex/session/take.wav';

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'audex-local-faults-'));
    store = new LocalStore({ root });
    await store.upload(new Uint8Array([1, 2, 3]), key, { version: 'old' });
  });
  afterEach(() => {
    delete fault.op;
    rmSync(root, { recursive: true, force: true });
  });

  async function expectClean(code: string, message: RegExp, upload: () => Promise<unknown>): Promise<void> {
    const error = await upload().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe(code);
    expect((error as StoreError).message).toMatch(message);
    expect((error as StoreError).key).toBe(key);
    delete fault.op;
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect([...(await store.download(key))]).toEqual([1, 2, 3]);
    expect(await store.getMetadata(key)).toEqual({ version: 'old' });
  }

  async function* slowStream(total: number): AsyncGenerator<Uint8Array> {
    for (let sent = 0; sent < total; sent += 64 * 1024) yield randomBytes(64 * 1024);
  }

  it('reports a full disk mid-stream as NO_SPACE and leaves no temp file', async () => {
    Object.assign(fault, { op: 'write', code: 'ENOSPC', afterBytes: 1024 * 1024 });
    await expectClean('NO_SPACE', /disk is full \(ENOSPC\)/, () =>
      store.upload(slowStream(4 * 1024 * 1024), key, { version: 'new' }),
    );
  });

  it('reports a full disk when writing whole bytes as NO_SPACE', async () => {
    Object.assign(fault, { op: 'write', code: 'ENOSPC', afterBytes: 0 });
    await expectClean('NO_SPACE', /disk is full/, () =>
      store.upload(randomBytes(1000), key, { version: 'new' }),
    );
  });

  it('reports a quota exceeded at fsync as NO_SPACE', async () => {
    Object.assign(fault, { op: 'sync', code: 'EDQUOT' });
    await expectClean('NO_SPACE', /quota/, () => store.upload(randomBytes(1000), key, { version: 'new' }));
  });

  it('reports a read-only filesystem as PERMISSION_DENIED', async () => {
    Object.assign(fault, { op: 'open', code: 'EROFS' });
    await expectClean('PERMISSION_DENIED', /read-only \(EROFS\)/, () =>
      store.upload(randomBytes(1000), key, { version: 'new' }),
    );
  });

  it('reports an unwritable directory as PERMISSION_DENIED', async () => {
    Object.assign(fault, { op: 'mkdir', code: 'EACCES' });
    await expectClean('PERMISSION_DENIED', /permission denied \(EACCES\)/, () =>
      store.upload(randomBytes(1000), key, { version: 'new' }),
    );
  });

  it('reports a failed rename as IO_ERROR and leaves no temp file', async () => {
    Object.assign(fault, { op: 'rename', code: 'EIO' });
    const error = await store.upload(randomBytes(10), 'audex/new-key').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'IO_ERROR' });
    delete fault.op;
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect(await store.exists('audex/new-key')).toBe(false);
  });

  it('fails copy on a full disk without touching the destination', async () => {
    await store.upload(new Uint8Array([9]), 'audex/dest', { d: 1 });
    Object.assign(fault, { op: 'sync', code: 'ENOSPC' });
    await expect(store.copy(key, 'audex/dest', { overwrite: true })).rejects.toMatchObject({
      code: 'NO_SPACE',
    });
    delete fault.op;
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    expect([...(await store.download('audex/dest'))]).toEqual([9]);
  });
});
