import { describe, expect, it } from 'vitest';
import { DEFAULT_AUDIO_CONFIG, PcmError, resolveAudioConfig } from '../src/index.js';

describe('resolveAudioConfig', () => {
  it('fills the reference defaults: int16, mono, 16 kHz, 1024 frames, default device', () => {
    expect(resolveAudioConfig()).toEqual({
      sampleFormat: 'int16',
      channels: 1,
      rate: 16000,
      chunk: 1024,
      inputDeviceIndex: null,
    });
    expect(DEFAULT_AUDIO_CONFIG.rate).toBe(16000);
  });

  it('merges a partial config and freezes the result', () => {
    const config = resolveAudioConfig({ rate: 48000, channels: 2, inputDeviceIndex: 3, chunk: undefined });
    expect(config).toEqual({
      sampleFormat: 'int16',
      channels: 2,
      rate: 48000,
      chunk: 1024,
      inputDeviceIndex: 3,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [
      { sampleFormat: 'int12' },
      /sampleFormat "int12" is not a supported sample format; allowed: int8, int16, int24, int32, float32/,
      'sampleFormat',
    ],
    [
      { format: 'int12' },
      /format "int12" is not a supported sample format; allowed: int8, int16, int24, int32, float32/,
      'format',
    ],
    [
      { format: 'int16', sampleFormat: 'float32' },
      /format "int16" and sampleFormat "float32" disagree/,
      'sampleFormat',
    ],
    [
      { channel: 2 },
      /unknown config field "channel"; allowed: sampleFormat, channels, rate, chunk, inputDeviceIndex, format/,
      'channel',
    ],
    [{ rate: 800_000 }, /rate must be an integer number of Hz from 1 to 768000, got 800000/, 'rate'],
    [{ channels: 65 }, /channels must be an integer from 1 to 64, got 65/, 'channels'],
    [{ rate: 0 }, /rate must be an integer number of Hz from 1 to 768000, got 0/, 'rate'],
    [{ rate: 44100.5 }, /got 44100.5/, 'rate'],
    [{ channels: 0 }, /channels must be an integer from 1 to 64, got 0/, 'channels'],
    [{ chunk: 0 }, /chunk must be an integer number of frames from 1 to 160000 \(10 s\), got 0/, 'chunk'],
    [
      { inputDeviceIndex: -2 },
      /inputDeviceIndex must be null \(the default input\) or a device index >= 0, got -2/,
      'inputDeviceIndex',
    ],
  ])('rejects %o naming the value and what is allowed', (partial, message, field) => {
    const error = (() => {
      try {
        resolveAudioConfig(partial as never);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PcmError);
    expect((error as PcmError).code).toBe('INVALID_CONFIG');
    expect((error as PcmError).field).toBe(field);
    expect((error as Error).message).toMatch(/^\[audex\/pcm\] /);
    expect((error as Error).message).toMatch(message);
  });

  it("accepts the reference's spelling `format` as the sample format", () => {
    expect(resolveAudioConfig({ format: 'float32' }).sampleFormat).toBe('float32');
    expect(resolveAudioConfig({ format: 'int24', sampleFormat: 'int24' })).not.toHaveProperty('format');
  });
});
