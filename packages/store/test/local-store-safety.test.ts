import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { LocalStore, StoreError } from '@audex/store';
import { INVALID_KEYS } from '@audex/store/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** Every file and directory below `dir`, relative to it. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      out.push(relative(dir, join(d, e.name)) + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(dir);
  return out.sort();
}

const MALICIOUS = [
  ...INVALID_KEYS,
  '../../../../../../tmp/audex-pwned',
  'audex/../../outside',
  'audex/%2e%2e/../x',
  '..%2f..%2fescape/..',
  '/tmp/audex-pwned',
  'a/b/../../..',
  '\\\\?\\C:\\pwned',
  'a\u2028b\u0085c',
];

describe('LocalStore key safety', () => {
  let sandbox: string;
  let root: string;
  beforeEach(() => {
    sandbox = mkdtempSync(join(tmpdir(), 'audex-local-safety-'));
    root = join(sandbox, 'root');
    mkdirSync(root);
  });
  afterEach(() => rmSync(sandbox, { recursive: true, force: true }));

  it(`rejects ${MALICIOUS.length} malicious keys from every operation, writing nothing anywhere`, async () => {
    const store = new LocalStore({ root });
    const rejected: string[] = [];
    for (const key of MALICIOUS) {
      const attempts: Promise<unknown>[] = [
        store.upload(randomBytes(10), key, { evil: true }),
        store.uploadMultipart(
          (async function* () {
            yield randomBytes(10);
          })(),
          key,
        ),
        store.download(key),
        store.getMetadata(key),
        store.delete(key),
        store.exists(key),
        store.copy(key, 'audex/ok'),
        store.copy('audex/ok', key),
      ];
      for (const attempt of attempts) {
        const error = await attempt.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, JSON.stringify(key)).toBeInstanceOf(StoreError);
        expect(
          (error as StoreError).code === 'INVALID_KEY' || (error as StoreError).code === 'NOT_FOUND',
        ).toBe(true);
      }
      // copy('audex/ok', key) may be NOT_FOUND only because 'audex/ok' is missing; check the key itself:
      await expect(store.upload(new Uint8Array(1), key)).rejects.toMatchObject({ code: 'INVALID_KEY' });
      rejected.push(key);
    }
    expect(rejected.length).toBeGreaterThanOrEqual(20);
    expect(tree(sandbox)).toEqual(['root/']);
  });

  it('keeps every object below root/objects and cleans up temp files', async () => {
    const store = new LocalStore({ root });
    await store.upload(new Uint8Array([1]), 'audex/s/a.wav', { a: 1 });
    await store.upload(new Uint8Array([2]), 'audex/s/a.wav/b', { b: 1 });
    await store.upload(new Uint8Array([3]), 'we:ird%/x?');
    expect(tree(sandbox)).toEqual([
      'root/',
      'root/objects/',
      'root/objects/audex%/',
      'root/objects/audex%/s%/',
      'root/objects/audex%/s%/a.wav',
      'root/objects/audex%/s%/a.wav%/',
      'root/objects/audex%/s%/a.wav%/b',
      'root/objects/audex%/s%/a.wav%/b%meta.json',
      'root/objects/audex%/s%/a.wav%meta.json',
      'root/objects/we%3Aird%25%/',
      'root/objects/we%3Aird%25%/x%3F',
      'root/objects/we%3Aird%25%/x%3F%meta.json',
      'root/tmp/',
    ]);
    await store.clear();
    expect(tree(sandbox)).toEqual(['root/', 'root/objects/', 'root/tmp/']);
  });

  it('ignores foreign files inside root/objects when listing', async () => {
    const store = new LocalStore({ root });
    await store.upload(new Uint8Array([1]), 'audex/x');
    mkdirSync(join(root, 'objects', 'plain-dir'));
    mkdirSync(join(root, 'objects', 'bad%zz%'));
    const keys: string[] = [];
    for await (const page of store.list()) keys.push(...page);
    expect(keys).toEqual(['audex/x']);
  });

  it('rejects a segment too long for a file name once escaped', async () => {
    const store = new LocalStore({ root });
    await expect(store.upload(new Uint8Array(1), `audex/${'%'.repeat(100)}`)).rejects.toMatchObject({
      code: 'INVALID_KEY',
    });
    expect(tree(sandbox)).toEqual(['root/']);
  });

  it('never lets a reader see half an object while it is overwritten', async () => {
    const store = new LocalStore({ root });
    const key = 'audex/atomic.bin';
    const a = Buffer.alloc(2 * 1024 * 1024, 0xaa);
    const b = Buffer.alloc(3 * 1024 * 1024, 0xbb);
    await store.upload(a, key);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 6; i++) {
        const d = i % 2 ? a : b;
        await store.upload(
          (async function* () {
            for (let o = 0; o < d.length; o += 256 * 1024) yield d.subarray(o, o + 256 * 1024);
          })(),
          key,
        );
      }
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const got = Buffer.from(await store.download(key));
      expect(got.equals(a) || got.equals(b)).toBe(true);
      reads++;
    }
    await writer;
    expect(reads).toBeGreaterThan(0);
  });

  it('rejects a missing or empty root', () => {
    expect(() => new LocalStore({ root: '' })).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(() => new LocalStore({} as { root: string })).toThrow(StoreError);
  });
});
