// The `@audex/store/testing` entry: testStore, the conformance suite every Store backend passes.

import { randomBytes, randomUUID } from 'node:crypto';
// The published entry imports the main entry by name, so StoreError has one identity.
import { type Store, StoreError, type StoreErrorCode, type StoreMetadata } from '@audex/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Options of {@link testStore}. */
export interface TestStoreOptions {
  /** Keys created for the "clear of many keys" case. Default 2000. */
  manyKeys?: number;
  /** Size in bytes of the large streamed upload case. Default 12 MiB (three S3 parts of 5 MiB). */
  largeObjectBytes?: number;
  /** Called after the suite, e.g. to close the store or stop a server. */
  teardown?: (store: Store) => void | Promise<void>;
  /** Per-test timeout in ms. Default 60 000. */
  timeout?: number;
  /**
   * The backend refuses `overwrite: false` writes atomically, so exactly one of several concurrent
   * writers to a free key wins. Default `true`; `false` for servers that ignore `If-None-Match`
   * (s3rver), where the check before writing leaves a window and only "at least one wins, the object
   * is whole" is checked.
   */
  atomicNoOverwrite?: boolean;
}

/**
 * Keys every store must reject with `INVALID_KEY` before touching its storage: empty, absolute,
 * `.`/`..` segments, backslashes, NUL and control characters, empty segments, a trailing `/`, drive
 * letters, lone surrogates, over-long keys and segments.
 */
export const INVALID_KEYS: readonly string[] = [
  '',
  '/',
  '/etc/passwd',
  '//server/share',
  '..',
  '.',
  '../escape',
  'a/../../escape',
  'a/..',
  './a',
  'a/./b',
  'a/.',
  'a\\b',
  '..\\..\\escape',
  'C:\\Windows',
  'C:/Windows',
  'a\0b',
  'a/b\0',
  'a\nb',
  'a\rb',
  'a\tb',
  'a\u001bb',
  'a\u007fb',
  'a//b',
  'a/',
  'a/b/',
  '\ud800',
  'a'.repeat(1025),
  `a/${'b'.repeat(201)}`,
];

/**
 * Runs the `Store` conformance suite (a vitest `describe` block named `name`) against the store
 * made by `factory`. Every case works under its own random key prefix, so the store may hold other
 * data; the suite clears what it wrote. Call it from a vitest test file:
 *
 * ```ts
 * import { testStore } from '@audex/store/testing';
 * testStore('MyStore', () => new MyStore(...));
 * ```
 */
export function testStore(
  name: string,
  factory: () => Store | Promise<Store>,
  options: TestStoreOptions = {},
): void {
  const manyKeys = options.manyKeys ?? 2000;
  const largeBytes = options.largeObjectBytes ?? 12 * 1024 * 1024;
  const timeout = options.timeout ?? 60_000;
  const run = randomUUID().slice(0, 8);

  describe(name, { timeout }, () => {
    let store: Store;
    let n = 0;
    /** A fresh key prefix (ending in '/') for one case. */
    const space = (): string => `${store.keyBuilder.build('conformance', run, `case-${++n}`)}/`;

    beforeAll(async () => {
      store = await factory();
    });
    afterAll(async () => {
      if (store === undefined) return;
      await store.clear(store.keyBuilder.build('conformance', run));
      await options.teardown?.(store);
    });

    it('round-trips bytes through upload and download, resolving to the key', async () => {
      const key = `${space()}bytes.bin`;
      const data = randomBytes(100_000);
      await expect(store.upload(data, key)).resolves.toBe(key);
      expect(Buffer.from(await store.download(key)).equals(data)).toBe(true);
    });

    it('keeps an empty object', async () => {
      const key = `${space()}empty`;
      await store.upload(new Uint8Array(0), key, { empty: true });
      expect((await store.download(key)).length).toBe(0);
      expect(await store.exists(key)).toBe(true);
      expect(await store.getMetadata(key)).toEqual({ empty: true });
    });

    it('stores a copy: changing the caller buffer after upload changes nothing', async () => {
      const key = `${space()}copy-semantics`;
      const data = new Uint8Array([1, 2, 3]);
      await store.upload(data, key);
      data[0] = 9;
      expect([...(await store.download(key))]).toEqual([1, 2, 3]);
    });

    it('uploads an async iterable of chunks and uploadMultipart parts', async () => {
      const base = space();
      const parts = [randomBytes(1000), randomBytes(1), randomBytes(0), randomBytes(70_000)];
      const whole = Buffer.concat(parts);
      await store.upload(iterate(parts), `${base}iter`, { via: 'upload' });
      await store.uploadMultipart(iterate(parts), `${base}multi`, { via: 'multipart' });
      expect(Buffer.from(await store.download(`${base}iter`)).equals(whole)).toBe(true);
      expect(Buffer.from(await store.download(`${base}multi`)).equals(whole)).toBe(true);
      expect(await store.getMetadata(`${base}multi`)).toEqual({ via: 'multipart' });
    });

    it(`streams a large object (${largeBytes} bytes) in and out with uploadMultipart`, async () => {
      const key = `${space()}large.wav`;
      const piece = randomBytes(256 * 1024);
      const count = Math.ceil(largeBytes / piece.length);
      async function* source(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < count; i++) {
          const chunk = Buffer.from(piece);
          chunk.writeUInt32LE(i, 0);
          yield chunk;
        }
      }
      await store.uploadMultipart(source(), key, { parts: count });
      let received = 0;
      let index = 0;
      for await (const chunk of store.download(key, { stream: true, chunkSize: piece.length })) {
        expect(chunk.length).toBe(piece.length);
        expect(Buffer.from(chunk.buffer, chunk.byteOffset, 4).readUInt32LE(0)).toBe(index);
        expect(Buffer.from(chunk).subarray(4).equals(piece.subarray(4))).toBe(true);
        received += chunk.length;
        index++;
      }
      expect(received).toBe(count * piece.length);
      // A range straddling the first 5 MiB part boundary, whole and streamed.
      const boundary = Math.min(5 * 1024 * 1024, count * piece.length - 1);
      const at = (offset: number): number => {
        const i = Math.floor(offset / piece.length);
        const within = offset % piece.length;
        return within < 4 ? (i >>> (8 * within)) & 0xff : piece[within]!;
      };
      const range = { start: boundary - 1000, end: boundary + 1 };
      const expected = Uint8Array.from({ length: range.end - range.start }, (_, i) => at(range.start + i));
      expect(Buffer.from(await store.download(key, { range })).equals(expected)).toBe(true);
      const streamed: Uint8Array[] = [];
      for await (const chunk of store.download(key, { stream: true, chunkSize: 300, range }))
        streamed.push(chunk);
      expect(streamed.map((c) => c.length)).toEqual([300, 300, 300, 101]);
      expect(Buffer.concat(streamed).equals(expected)).toBe(true);
    });

    it('reads byte ranges (start inclusive, end exclusive), whole and streamed', async () => {
      const key = `${space()}ranged.bin`;
      const data = randomBytes(100_000);
      await store.upload(data, key);
      const ranges = [
        { start: 0, end: 0 },
        { start: 0, end: 1 },
        { start: 1, end: 2 },
        { start: 0, end: 100_000 },
        { start: 99_999, end: 100_000 },
        { start: 100_000, end: 100_000 },
        { start: 5000, end: 70_001 },
        { start: 42 },
        { start: 100_000 },
        { start: 0 },
      ];
      for (const range of ranges) {
        const expected = data.subarray(range.start, range.end);
        const label = JSON.stringify(range);
        expect(Buffer.from(await store.download(key, { range })).equals(expected), label).toBe(true);
        const chunks: Uint8Array[] = [];
        for await (const chunk of store.download(key, { stream: true, chunkSize: 4096, range }))
          chunks.push(chunk);
        expect(Buffer.concat(chunks).equals(expected), label).toBe(true);
        expect(
          chunks.every((c, i) => c.length === (i < chunks.length - 1 ? 4096 : c.length) && c.length > 0),
          label,
        ).toBe(true);
        expect(chunks.length, label).toBe(Math.ceil(expected.length / 4096));
      }
    });

    it('rejects bad ranges with INVALID_ARGUMENT naming the range and the size', async () => {
      const key = `${space()}ranged.bin`;
      await store.upload(randomBytes(1000), key);
      const malformed: unknown[] = [
        { start: -1 },
        { start: 1.5 },
        { start: Number.NaN },
        { start: '0' },
        { start: 5, end: 4 },
        { start: 0, end: -1 },
        { start: 0, end: 2.5 },
        {},
        null,
        'bytes=0-10',
      ];
      for (const range of malformed) {
        const bad = range as { start: number };
        await expectCode(store.download(key, { range: bad }), 'INVALID_ARGUMENT');
        await expectCode(collect(store.download(key, { stream: true, range: bad })), 'INVALID_ARGUMENT');
      }
      for (const range of [
        { start: 0, end: 1001 },
        { start: 1001 },
        { start: 1001, end: 1001 },
        { start: 999, end: 5000 },
        { start: 2000, end: 3000 },
      ]) {
        const attempts = [
          () => store.download(key, { range }),
          () => collect(store.download(key, { stream: true, range })),
        ];
        for (const attempt of attempts) {
          const error = await attempt().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error, JSON.stringify(range)).toBeInstanceOf(StoreError);
          expect((error as StoreError).code).toBe('INVALID_ARGUMENT');
          expect((error as StoreError).message).toContain('1000-byte object');
          expect((error as StoreError).message).toContain(`start: ${range.start}`);
        }
      }
      await expectCode(store.download(`${key}.missing`, { range: { start: 0, end: 1 } }), 'NOT_FOUND');
      await expectCode(
        collect(store.download(`${key}.missing`, { stream: true, range: { start: 0 } })),
        'NOT_FOUND',
      );
      await expectCode(store.download(`${key}.missing`, { range: { start: 0, end: 0 } }), 'NOT_FOUND');
    });

    it('replaces data and metadata on a second upload to the same key', async () => {
      const key = `${space()}replace`;
      await store.upload(new Uint8Array([1]), key, { version: 1, old: true });
      await store.upload(new Uint8Array([2, 2]), key, { version: 2 });
      expect([...(await store.download(key))]).toEqual([2, 2]);
      expect(await store.getMetadata(key)).toEqual({ version: 2 });
    });

    it('returns metadata exactly as given: JSON types, unicode, nested values', async () => {
      const key = `${space()}meta`;
      const metadata: StoreMetadata = {
        content_type: 'audio/wav',
        duration_ms: 1234.5,
        sample_rate: 16_000,
        channels: 1,
        started_at: '2026-11-24T10:00:00.000Z',
        frame_count: 19_752,
        negative: -0.25,
        big: 2 ** 53 - 1,
        yes: true,
        no: false,
        nothing: null,
        empty: '',
        title: 'Grüße, 世界 🎙️ — «quoted» "double" \'single\'',
        'ключ с пробелами': 'значение',
        nested: { a: [1, 'two', { three: [null, false] }], deep: { deeper: { deepest: '∞' } } },
        list: [],
        object: {},
        numericString: '42',
      };
      await store.upload(new Uint8Array([0]), key, metadata);
      const back = await store.getMetadata(key);
      expect(back).toStrictEqual(metadata);
      expect(typeof back.sample_rate).toBe('number');
      expect(typeof back.numericString).toBe('string');
    });

    it('returns {} as metadata when none was given', async () => {
      const key = `${space()}no-meta`;
      await store.upload(new Uint8Array([0]), key);
      expect(await store.getMetadata(key)).toStrictEqual({});
    });

    it('rejects metadata JSON cannot keep, writing nothing', async () => {
      const key = `${space()}bad-meta`;
      const bad: unknown[] = [
        { when: new Date() },
        { missing: undefined },
        { nan: Number.NaN },
        { inf: Number.POSITIVE_INFINITY },
        { big: 1n },
        { fn: () => 1 },
        { map: new Map() },
        [1, 2],
        'text',
      ];
      for (const metadata of bad) {
        await expectCode(
          store.upload(new Uint8Array([1]), key, metadata as StoreMetadata),
          'INVALID_METADATA',
        );
      }
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expectCode(store.upload(new Uint8Array([1]), key, cyclic), 'INVALID_METADATA');
      expect(await store.exists(key)).toBe(false);
    });

    it.each([1, 7, 1000, 4096, 65_536, 200_000])(
      'streams a download in chunks of exactly %i bytes',
      async (chunkSize) => {
        const key = `${space()}chunks`;
        const data = randomBytes(chunkSize < 100 ? 10_003 : 100_003);
        await store.upload(data, key);
        const chunks: Uint8Array[] = [];
        for await (const chunk of store.download(key, { stream: true, chunkSize })) chunks.push(chunk);
        for (const chunk of chunks.slice(0, -1)) expect(chunk.length).toBe(chunkSize);
        expect(chunks.at(-1)!.length).toBe(data.length % chunkSize || Math.min(chunkSize, data.length));
        expect(Buffer.concat(chunks).equals(data)).toBe(true);
      },
    );

    it('streams with the default chunk size and yields nothing for an empty object', async () => {
      const base = space();
      await store.upload(randomBytes(200_000), `${base}default`);
      let total = 0;
      for await (const chunk of store.download(`${base}default`, { stream: true })) {
        expect(chunk.length).toBeGreaterThan(0);
        total += chunk.length;
      }
      expect(total).toBe(200_000);
      await store.upload(new Uint8Array(0), `${base}empty`);
      const chunks: Uint8Array[] = [];
      for await (const chunk of store.download(`${base}empty`, { stream: true, chunkSize: 10 }))
        chunks.push(chunk);
      expect(chunks.reduce((s, c) => s + c.length, 0)).toBe(0);
    });

    it('rejects a chunkSize that is not a positive integer', async () => {
      const key = `${space()}x`;
      await store.upload(new Uint8Array(3), key);
      for (const chunkSize of [0, -1, 1.5, Number.NaN]) {
        await expectCode(collect(store.download(key, { stream: true, chunkSize })), 'INVALID_ARGUMENT');
      }
    });

    it('gives NOT_FOUND from every operation that needs a missing object', async () => {
      const key = `${space()}missing.wav`;
      await expectCode(store.download(key), 'NOT_FOUND');
      await expectCode(collect(store.download(key, { stream: true })), 'NOT_FOUND');
      await expectCode(store.getMetadata(key), 'NOT_FOUND');
      await expectCode(store.delete(key), 'NOT_FOUND');
      await expectCode(store.copy(key, `${key}.copy`), 'NOT_FOUND');
      expect(await store.exists(key)).toBe(false);
      expect(await store.exists(`${key}.copy`)).toBe(false);
      const error = await store.download(key).catch((e: unknown) => e);
      expect((error as StoreError).key).toBe(key);
      expect((error as StoreError).message).toContain(key);
    });

    it(`rejects ${INVALID_KEYS.length} invalid keys with INVALID_KEY from every operation`, async () => {
      const good = `${space()}good`;
      await store.upload(new Uint8Array([1]), good);
      for (const bad of INVALID_KEYS) {
        await expectCode(store.upload(new Uint8Array([1]), bad), 'INVALID_KEY');
        await expectCode(store.upload(iterate([new Uint8Array([1])]), bad), 'INVALID_KEY');
        await expectCode(store.uploadMultipart(iterate([new Uint8Array([1])]), bad), 'INVALID_KEY');
        await expectCode(store.download(bad), 'INVALID_KEY');
        await expectCode(collect(store.download(bad, { stream: true })), 'INVALID_KEY');
        await expectCode(store.getMetadata(bad), 'INVALID_KEY');
        await expectCode(store.delete(bad), 'INVALID_KEY');
        await expectCode(store.exists(bad), 'INVALID_KEY');
        await expectCode(store.copy(good, bad), 'INVALID_KEY');
        await expectCode(store.copy(bad, good), 'INVALID_KEY');
      }
      expect([...(await store.download(good))]).toEqual([1]);
    });

    it('lets keys a and a/b (and a/b/c) exist side by side', async () => {
      const base = space();
      await store.upload(new Uint8Array([1]), `${base}a`, { k: 'a' });
      await store.upload(new Uint8Array([2]), `${base}a/b`, { k: 'a/b' });
      await store.upload(new Uint8Array([3]), `${base}a/b/c`, { k: 'a/b/c' });
      expect([...(await store.download(`${base}a`))]).toEqual([1]);
      expect([...(await store.download(`${base}a/b`))]).toEqual([2]);
      expect(await store.getMetadata(`${base}a/b/c`)).toEqual({ k: 'a/b/c' });
      expect(await listAll(store, base)).toEqual([`${base}a`, `${base}a/b`, `${base}a/b/c`]);
      await store.delete(`${base}a/b`);
      expect(await store.exists(`${base}a`)).toBe(true);
      expect(await store.exists(`${base}a/b`)).toBe(false);
      expect(await store.exists(`${base}a/b/c`)).toBe(true);
      await store.delete(`${base}a`);
      expect(await listAll(store, base)).toEqual([`${base}a/b/c`]);
    });

    it('keeps keys that look like file suffixes, dot files and unicode apart', async () => {
      const base = space();
      const keys = [
        'a.obj',
        'a.meta.json',
        'a.d',
        'a.d/x',
        'a.obj/x',
        '.hidden',
        '..dots',
        'a..b',
        '~tmp',
        'x.tmp',
        'ü',
        'u\u0308',
        '🎙',
        'sp ace',
        'a:b',
        '*?<>|"',
      ];
      for (const [i, k] of keys.entries()) await store.upload(new Uint8Array([i]), base + k, { i });
      for (const [i, k] of keys.entries()) {
        expect([...(await store.download(base + k))]).toEqual([i]);
        expect(await store.getMetadata(base + k)).toEqual({ i });
      }
      const expected = keys
        .map((k) => base + k)
        .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(await listAll(store, base)).toEqual(expected);
    });

    it('lists nothing for an empty prefix range', async () => {
      const base = space();
      const pages: string[][] = [];
      for await (const page of store.list(base)) pages.push(page);
      expect(pages.flat()).toEqual([]);
      expect(pages.every((p) => p.length > 0)).toBe(true);
    });

    it('lists exactly one full page, page size 1, and pages of any size in key order', async () => {
      const base = space();
      const names = Array.from({ length: 10 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      for (const name of [...names].reverse()) await store.upload(new Uint8Array([1]), base + name);
      const sizes = async (pageSize: number): Promise<number[]> => {
        const out: number[] = [];
        const keys: string[] = [];
        for await (const page of store.list(base, { pageSize })) {
          out.push(page.length);
          keys.push(...page);
        }
        expect(keys).toEqual(names.map((x) => base + x));
        return out;
      };
      expect(await sizes(10)).toEqual([10]);
      expect(await sizes(1)).toEqual(Array(10).fill(1));
      expect(await sizes(3)).toEqual([3, 3, 3, 1]);
      expect(await sizes(1000)).toEqual([10]);
      await expectCode(collect(store.list(base, { pageSize: 0 })), 'INVALID_ARGUMENT');
    });

    it('matches list prefixes as plain string prefixes, not whole segments', async () => {
      const base = space();
      for (const k of ['session-1/a', 'session-10/a', 'session-2/a', 'session', 'other/session-1']) {
        await store.upload(new Uint8Array([1]), base + k);
      }
      expect(await listAll(store, `${base}session-1`)).toEqual([`${base}session-1/a`, `${base}session-10/a`]);
      expect(await listAll(store, `${base}session-1/`)).toEqual([`${base}session-1/a`]);
      expect(await listAll(store, `${base}sess`)).toHaveLength(4);
      expect(await listAll(store, `${base}session-1/a`)).toEqual([`${base}session-1/a`]);
      expect(await listAll(store, `${base}session-1/ab`)).toEqual([]);
    });

    it('clears only the keys under a prefix', async () => {
      const base = space();
      for (const k of ['keep/1', 'drop/1', 'drop/2/3', 'drop', 'dropped'])
        await store.upload(new Uint8Array([1]), base + k);
      await store.clear(`${base}drop/`);
      expect(await listAll(store, base)).toEqual([`${base}drop`, `${base}dropped`, `${base}keep/1`]);
      await store.clear(`${base}drop`);
      expect(await listAll(store, base)).toEqual([`${base}keep/1`]);
      await store.clear(`${base}nothing-here/`);
      expect(await listAll(store, base)).toEqual([`${base}keep/1`]);
    });

    it(`clears ${manyKeys} keys`, async () => {
      const base = space();
      const keys = Array.from({ length: manyKeys }, (_, i) => `${base}${i % 7}/${i}`);
      await pool(keys, 16, (key) => store.upload(new Uint8Array([1]), key));
      let listed = 0;
      for await (const page of store.list(base, { pageSize: 500 })) {
        expect(page.length).toBeLessThanOrEqual(500);
        listed += page.length;
      }
      expect(listed).toBe(manyKeys);
      await store.clear(base);
      expect(await listAll(store, base)).toEqual([]);
      expect(await store.exists(keys[0]!)).toBe(false);
    });

    it('copies data and metadata; the copy is independent of the source', async () => {
      const base = space();
      await store.upload(new Uint8Array([1, 2, 3]), `${base}src`, { n: 1, tags: ['a'] });
      await expect(store.copy(`${base}src`, `${base}dst`)).resolves.toBe(`${base}dst`);
      expect([...(await store.download(`${base}dst`))]).toEqual([1, 2, 3]);
      expect(await store.getMetadata(`${base}dst`)).toEqual({ n: 1, tags: ['a'] });
      await store.upload(new Uint8Array([4]), `${base}src`, { n: 2 });
      expect([...(await store.download(`${base}dst`))]).toEqual([1, 2, 3]);
      await store.copy(`${base}src`, `${base}deep/er/copy`);
      expect(await store.getMetadata(`${base}deep/er/copy`)).toEqual({ n: 2 });
      await expect(store.copy(`${base}src`, `${base}src`)).resolves.toBe(`${base}src`);
      expect([...(await store.download(`${base}src`))]).toEqual([4]);
    });

    it('never lets copy replace an object by accident: ALREADY_EXISTS unless overwrite is true', async () => {
      const base = space();
      await store.upload(new Uint8Array([1, 2, 3]), `${base}src`, { n: 1 });
      await store.upload(new Uint8Array([9]), `${base}dst`, { old: true });
      await expectCode(store.copy(`${base}src`, `${base}dst`), 'ALREADY_EXISTS');
      await expectCode(store.copy(`${base}src`, `${base}dst`, { overwrite: false }), 'ALREADY_EXISTS');
      expect([...(await store.download(`${base}dst`))]).toEqual([9]);
      expect(await store.getMetadata(`${base}dst`)).toEqual({ old: true });
      await expect(store.copy(`${base}src`, `${base}dst`, { overwrite: true })).resolves.toBe(`${base}dst`);
      expect([...(await store.download(`${base}dst`))]).toEqual([1, 2, 3]);
      expect(await store.getMetadata(`${base}dst`)).toEqual({ n: 1 });
      await expectCode(store.copy(`${base}missing`, `${base}dst`), 'NOT_FOUND');
      await expectCode(
        store.copy(`${base}src`, `${base}x`, { overwrite: 'yes' as unknown as boolean }),
        'INVALID_ARGUMENT',
      );
      expect(await store.exists(`${base}x`)).toBe(false);
    });

    it('uploads with overwrite: false only to a free key, whole or streamed', async () => {
      const base = space();
      await expect(
        store.upload(new Uint8Array([1]), `${base}a`, { v: 1 }, { overwrite: false }),
      ).resolves.toBe(`${base}a`);
      await expectCode(
        store.upload(new Uint8Array([2]), `${base}a`, { v: 2 }, { overwrite: false }),
        'ALREADY_EXISTS',
      );
      await expectCode(
        store.uploadMultipart(
          iterate([randomBytes(1000), randomBytes(2000)]),
          `${base}a`,
          { v: 3 },
          { overwrite: false },
        ),
        'ALREADY_EXISTS',
      );
      expect([...(await store.download(`${base}a`))]).toEqual([1]);
      expect(await store.getMetadata(`${base}a`)).toEqual({ v: 1 });
      await store.uploadMultipart(
        iterate([new Uint8Array([5, 6])]),
        `${base}b`,
        { v: 4 },
        { overwrite: false },
      );
      expect([...(await store.download(`${base}b`))]).toEqual([5, 6]);
      await store.upload(new Uint8Array([7]), `${base}a`, { v: 5 }, { overwrite: true });
      expect(await store.getMetadata(`${base}a`)).toEqual({ v: 5 });
      await expectCode(
        store.upload(new Uint8Array([7]), `${base}c`, {}, { overwrite: 1 as unknown as boolean }),
        'INVALID_ARGUMENT',
      );
      expect(await store.exists(`${base}c`)).toBe(false);
    });

    it(`lets ${(options.atomicNoOverwrite ?? true) ? 'exactly' : 'at least'} one of 10 concurrent overwrite: false uploads to a free key win`, async () => {
      const key = `${space()}race`;
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          store.upload(Buffer.alloc(1000 + i, i), key, { writer: i }, { overwrite: false }),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (options.atomicNoOverwrite ?? true) expect(won).toHaveLength(1);
      else expect(won.length).toBeGreaterThanOrEqual(1);
      for (const r of lost) expect((r.reason as StoreError).code).toBe('ALREADY_EXISTS');
      const got = Buffer.from(await store.download(key));
      const writer = got[0]!;
      expect(got.equals(Buffer.alloc(1000 + writer, writer))).toBe(true);
      expect(await store.getMetadata(key)).toEqual({ writer });
    });

    it('reports existence and deletes object and metadata', async () => {
      const key = `${space()}del/x`;
      expect(await store.exists(key)).toBe(false);
      await store.upload(new Uint8Array([1]), key, { a: 1 });
      expect(await store.exists(key)).toBe(true);
      await store.delete(key);
      expect(await store.exists(key)).toBe(false);
      await expectCode(store.getMetadata(key), 'NOT_FOUND');
      await store.upload(new Uint8Array([2]), key);
      expect(await store.getMetadata(key)).toEqual({});
    });

    it('runs 50 concurrent uploads to different keys', async () => {
      const base = space();
      const datas = Array.from({ length: 50 }, (_, i) => randomBytes(10_000 + i * 997));
      await Promise.all(
        datas.map((d, i) =>
          i % 2 ? store.upload(d, `${base}${i}`, { i }) : store.upload(iterate([d]), `${base}${i}`, { i }),
        ),
      );
      for (const [i, d] of datas.entries()) {
        expect(Buffer.from(await store.download(`${base}${i}`)).equals(d)).toBe(true);
        expect(await store.getMetadata(`${base}${i}`)).toEqual({ i });
      }
      expect(await listAll(store, base)).toHaveLength(50);
    });

    it('runs 50 concurrent uploads to one key: one writer wins whole, data and metadata', async () => {
      const key = `${space()}contended`;
      const datas = Array.from({ length: 50 }, (_, i) => Buffer.alloc(50_000 + i * 1000, i));
      const slowly = async function* (d: Uint8Array): AsyncGenerator<Uint8Array> {
        for (let o = 0; o < d.length; o += 8192) {
          yield d.subarray(o, o + 8192);
          await new Promise((r) => setImmediate(r));
        }
      };
      await Promise.all(datas.map((d, i) => store.upload(i % 2 ? d : slowly(d), key, { writer: i })));
      const got = Buffer.from(await store.download(key));
      const writer = got[0]!;
      expect(got.equals(datas[writer]!)).toBe(true);
      expect(await store.getMetadata(key)).toEqual({ writer });
    });

    it('fails an upload whose data stream throws, leaving the previous object intact', async () => {
      const key = `${space()}failing`;
      await store.upload(new Uint8Array([7]), key, { v: 'old' });
      async function* broken(): AsyncGenerator<Uint8Array> {
        yield randomBytes(10_000);
        throw new Error('source broke');
      }
      await expect(store.upload(broken(), key, { v: 'new' })).rejects.toBeInstanceOf(StoreError);
      await expect(store.uploadMultipart(broken(), key, { v: 'new' })).rejects.toBeInstanceOf(StoreError);
      expect([...(await store.download(key))]).toEqual([7]);
      expect(await store.getMetadata(key)).toEqual({ v: 'old' });
      const fresh = `${key}-fresh`;
      await expect(store.upload(broken(), fresh)).rejects.toBeInstanceOf(StoreError);
      expect(await store.exists(fresh)).toBe(false);
    });

    it('rejects upload data that is not bytes', async () => {
      const key = `${space()}bad-data`;
      await expectCode(store.upload('text' as unknown as Uint8Array, key), 'INVALID_ARGUMENT');
      await expectCode(store.upload(iterate(['text' as unknown as Uint8Array]), key), 'INVALID_ARGUMENT');
      expect(await store.exists(key)).toBe(false);
    });
  });
}

async function expectCode(promise: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected StoreError ${code}`).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  expect((error as StoreError).message.startsWith('[audex/store] ')).toBe(true);
}

async function* iterate(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

async function collect(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

async function listAll(store: Store, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of store.list(prefix)) out.push(...page);
  return out;
}

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: width }, worker));
}
