import { isValidKey, KeyBuilder, keyProblem, StoreError, validateKey, validatePrefix } from '@audex/store';
import { INVALID_KEYS } from '@audex/store/testing';
import { describe, expect, it } from 'vitest';

describe('KeyBuilder', () => {
  it('builds keys under the default prefix audex with "/"', () => {
    expect(new KeyBuilder().build('session-1', 'segment', 'abc.wav')).toBe('audex/session-1/segment/abc.wav');
  });

  it('uses a custom prefix and separator', () => {
    const kb = new KeyBuilder({ prefix: 'rec', separator: ':' });
    expect(kb.build('a', 'b')).toBe('rec:a:b');
    expect(kb.validate('rec:a')).toBe(true);
    expect(kb.validate('rec/a')).toBe(false);
  });

  it('validates keys by prefix plus separator', () => {
    const kb = new KeyBuilder();
    expect(kb.validate('audex/x.wav')).toBe(true);
    expect(kb.validate('audex')).toBe(false);
    expect(kb.validate('audex/')).toBe(false);
    expect(kb.validate('audexx/x')).toBe(false);
    expect(kb.validate('other/audex/x')).toBe(false);
  });

  it('leaves an empty prefix out', () => {
    expect(new KeyBuilder({ prefix: '' }).build('a', 'b')).toBe('a/b');
  });

  it('rejects parts that would make an invalid key', () => {
    const kb = new KeyBuilder();
    for (const parts of [[''], ['..'], ['a', '.'], ['a\\b'], ['a\0']]) {
      expect(() => kb.build(...parts)).toThrowError(expect.objectContaining({ code: 'INVALID_KEY' }));
    }
  });

  it('rejects an empty separator or a prefix holding the separator', () => {
    expect(() => new KeyBuilder({ separator: '' })).toThrow(StoreError);
    expect(() => new KeyBuilder({ prefix: 'a/b' })).toThrow(/prefix "a\/b"/);
  });
});

describe('validateKey', () => {
  it.each(INVALID_KEYS.map((k) => [JSON.stringify(k).slice(0, 40), k]))('rejects %s', (_, key) => {
    expect(isValidKey(key)).toBe(false);
    expect(() => validateKey(key)).toThrowError(expect.objectContaining({ code: 'INVALID_KEY' }));
  });

  it('names the key and the broken rule', () => {
    expect(keyProblem('a/../b')).toContain('".."');
    expect(() => validateKey('a/../b')).toThrow(
      '[audex/store] invalid key "a/../b": a key must not contain a ".." segment',
    );
  });

  it('accepts ordinary, dotted, unicode and maximal keys', () => {
    for (const key of [
      'a',
      'audex/s/x.wav',
      '.hidden',
      'a..b',
      '...',
      'ü/🎙',
      'a b',
      `${'x'.repeat(200)}/y`,
      'a'.repeat(200),
    ]) {
      expect(keyProblem(key)).toBeUndefined();
    }
  });

  it('rejects non-strings', () => {
    expect(() => validateKey(42)).toThrowError(expect.objectContaining({ code: 'INVALID_KEY' }));
  });
});

describe('validatePrefix', () => {
  it('accepts empty and partial-segment prefixes', () => {
    for (const p of ['', 'a', 'a/', 'a/.', 'audex/sess']) expect(() => validatePrefix(p)).not.toThrow();
  });
  it('rejects prefixes with control characters, backslashes or a leading slash', () => {
    for (const p of ['/a', 'a\\', 'a\0', 'a\n']) {
      expect(() => validatePrefix(p)).toThrowError(expect.objectContaining({ code: 'INVALID_KEY' }));
    }
  });
});
