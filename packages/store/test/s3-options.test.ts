import { StoreError } from '@audex/store';
import { S3Store, type S3StoreOptions } from '@audex/store/s3';
import { describe, expect, it } from 'vitest';

function optionsError(options: Partial<S3StoreOptions> & Record<string, unknown>): StoreError {
  try {
    new S3Store({ bucket: 'b', ...options } as S3StoreOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error(`expected INVALID_OPTIONS for ${JSON.stringify(options)}`);
}

describe('S3Store options', () => {
  it('checks every option at construction, naming the value and what is allowed', () => {
    const cases: [Partial<S3StoreOptions> & Record<string, unknown>, string][] = [
      [{ bucket: '' }, 'needs a bucket name'],
      [
        { partBytes: 5 * 1024 * 1024 - 1 },
        'partBytes must be an integer from 5242880 (5 MiB) to 5368709120 (5 GiB), got 5242879',
      ],
      [{ partBytes: 5 * 1024 ** 3 + 1 }, 'got 5368709121'],
      [{ partBytes: 6e6 + 0.5 }, 'got 6000000.5'],
      [{ queueSize: 0 }, 'queueSize must be an integer from 1 to 64, got 0'],
      [{ queueSize: 65 }, 'got 65'],
      [{ integrity: 'sha256' as never }, `integrity must be 'auto', 'crc32c' or 'md5', got "sha256"`],
      [{ partSize: 8 * 1024 * 1024 }, 'replaced by partBytes'],
      [{ checksums: 'WHEN_SUPPORTED' }, 'replaced by partBytes and integrity'],
    ];
    for (const [options, text] of cases) {
      const error = optionsError(options);
      expect(error.code).toBe('INVALID_OPTIONS');
      expect(error.message).toContain(text);
      expect(error.message.startsWith('[audex/store] ')).toBe(true);
    }
  });

  it('accepts the limits', () => {
    for (const partBytes of [5 * 1024 * 1024, 5 * 1024 ** 3])
      expect(() => new S3Store({ bucket: 'b', partBytes })).not.toThrow();
    expect(() => new S3Store({ bucket: 'b', queueSize: 64, integrity: 'md5' })).not.toThrow();
  });
});

describe('isResumableStore', () => {
  it('tells S3Store (resumable) from LocalStore and MemoryStore', async () => {
    const { isResumableStore, LocalStore, MemoryStore } = await import('@audex/store');
    expect(isResumableStore(new S3Store({ bucket: 'b' }))).toBe(true);
    expect(isResumableStore(new MemoryStore())).toBe(false);
    expect(isResumableStore(new LocalStore({ root: '/tmp/audex-never-written' }))).toBe(false);
  });
});
