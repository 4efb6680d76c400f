import { MemoryStore } from '@audex/store';
import { describe, expect, test } from 'vitest';
import { HttpError } from '../src/server/http-error.js';
import { parseRange, requireFormat, requireKey } from '../src/server/request-params.js';

const store = new MemoryStore();

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof HttpError ? error.status : -1;
  }
  return undefined;
}

describe('request validation', () => {
  test.each([
    null,
    '',
    '../secret',
    'audex/../../etc/passwd',
    '/etc/passwd',
    'audex\\..\\x',
    'audex/a\u0000b.wav',
    'elsewhere/x.wav',
    `audex/${'a'.repeat(2000)}`,
  ])('key %j is a 400', (key) => {
    expect(statusOf(() => requireKey(store, key))).toBe(400);
  });

  test('a key under the store prefix passes', () => {
    expect(requireKey(store, 'audex/web/abc.wav')).toBe('audex/web/abc.wav');
  });

  test('formats: wav by default, the offered ones pass, anything else is a 400 listing them', () => {
    expect(requireFormat(null)).toBe('wav');
    expect(requireFormat('opus')).toBe('opus');
    expect(requireFormat('flac')).toBe('flac');
    expect(() => requireFormat('aac')).toThrowError(/unknown format "aac"; use one of wav, flac, mp3, opus/);
    expect(statusOf(() => requireFormat('pcm'))).toBe(400);
  });

  test.each([
    ['2', '1'],
    ['1', '1'],
    ['-1', '2'],
    ['1e3', null],
    ['NaN', null],
    [null, 'Infinity'],
    ['0x10', null],
    ['1.', null],
    ['1234567890', null],
  ])('range from=%s to=%s is a 400', (from, to) => {
    expect(statusOf(() => parseRange(from, to))).toBe(400);
  });
});
