import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodecError, decodeAudio, getCodec, listFormats } from '@audex/codec';
import { describe, expect, it } from 'vitest';

describe('built-in codecs', () => {
  it('are registered by importing the package', () => {
    expect(listFormats()).toEqual(expect.arrayContaining(['pcm', 'wav']));
    expect(getCodec('wav')).toMatchObject({ format: 'wav', mimeType: 'audio/wav', extension: 'wav' });
    expect(getCodec('pcm')).toMatchObject({ format: 'pcm', extension: 'pcm' });
  });

  it('answer an unknown format with an error listing the registered ones', () => {
    expect(() => getCodec('aac')).toThrow(CodecError);
    expect(() => getCodec('aac')).toThrow(new RegExp(`registered formats: ${listFormats().join(', ')}`));
  });

  it('decode raw PCM only when told its shape', async () => {
    await expect(decodeAudio(new Uint8Array(4), 'pcm')).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    const decoded = await decodeAudio(new Uint8Array([0, 0x40, 0, 0xc0]), 'pcm', {
      rate: 8_000,
      channels: 2,
      sampleFormat: 'int16',
    });
    expect([...decoded.samples]).toEqual([0.5, -0.5]);
    await expect(
      decodeAudio(new Uint8Array(3), 'pcm', { rate: 8_000, channels: 1, sampleFormat: 'int16' }),
    ).rejects.toMatchObject({ code: 'CORRUPT_INPUT' });
  });

  // The meta-test (after unstorage's driver-dependencies test): a codec shipped without a test
  // that runs the conformance suite on it fails here.
  it.each(listFormats())('%s has a test file running the conformance suite on it', (format) => {
    const dir = join(import.meta.dirname, '.');
    const sources = readdirSync(dir)
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => readFileSync(join(dir, f), 'utf8'));
    // Either `testCodec(getCodec('mp3'), …)` or `testCodec(mp3Codec, …)`.
    const call = new RegExp(`testCodec\\(\\s*(getCodec\\(\\s*['"]${format}['"]\\s*\\)|${format}Codec\\b)`);
    expect(sources.some((s) => call.test(s))).toBe(true);
  });
});
