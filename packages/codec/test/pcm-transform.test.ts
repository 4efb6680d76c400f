import { concatBytes, fromFloat32, SAMPLE_FORMATS, toFloat32 } from '@audex/pcm';
import { describe, expect, it } from 'vitest';
import { resample } from '../src/dsp/resample.js';
import { createPcmTransform } from '../src/dsp/transform.js';

function tone(freq: number, rate: number, frames: number, channels: number): Float32Array {
  const x = new Float32Array(frames * channels);
  for (let i = 0; i < frames; i++)
    for (let c = 0; c < channels; c++) x[i * channels + c] = 0.4 * Math.sin((2 * Math.PI * freq * i) / rate);
  return x;
}

describe('PCM transform', () => {
  it.each(SAMPLE_FORMATS)(
    'converts %s 48 kHz stereo to int16 16 kHz mono, split at odd byte offsets',
    (format) => {
      const frames = 9_600;
      const input = fromFloat32(tone(440, 48_000, frames, 2), format);
      const t = createPcmTransform({
        from: { rate: 48_000, channels: 2, sampleFormat: format },
        to: { rate: 16_000, channels: 1, sampleFormat: 'int16' },
      });
      const parts: Uint8Array[] = [];
      for (let i = 0; i < input.length; i += 1001) parts.push(t.write(input.subarray(i, i + 1001)));
      parts.push(t.end());
      const out = concatBytes(parts);
      expect(out.length).toBe(3_200 * 2);
      const expected = tone(440, 16_000, 3_200, 1);
      const got = toFloat32(out, 'int16');
      for (let i = 100; i < 3_100; i++)
        expect(Math.abs(got[i]! - expected[i]!)).toBeLessThan(format === 'int8' ? 0.02 : 2e-4);
    },
  );

  it.each(SAMPLE_FORMATS)(
    'converts %s to every other sample format without changing rate or channels',
    (format) => {
      const x = fromFloat32(tone(1000, 16_000, 500, 1), format);
      for (const to of SAMPLE_FORMATS) {
        const t = createPcmTransform({
          from: { rate: 16_000, channels: 1, sampleFormat: format },
          to: { rate: 16_000, channels: 1, sampleFormat: to },
        });
        const out = concatBytes([t.write(x), t.end()]);
        expect(out).toEqual(fromFloat32(toFloat32(x, format), to));
      }
    },
  );

  it('upmixes mono to stereo after resampling and matches resample() exactly', () => {
    const x = tone(300, 16_000, 4_000, 1);
    const t = createPcmTransform({
      from: { rate: 16_000, channels: 1, sampleFormat: 'float32' },
      to: { rate: 48_000, channels: 2, sampleFormat: 'float32' },
    });
    const out = toFloat32(concatBytes([t.write(fromFloat32(x, 'float32')), t.end()]), 'float32');
    const r = resample(x, 16_000, 48_000, 1);
    expect(out.length).toBe(r.length * 2);
    for (let i = 0; i < r.length; i++) {
      expect(out[2 * i]).toBe(r[i]);
      expect(out[2 * i + 1]).toBe(r[i]);
    }
  });

  it('passes identical shapes through byte for byte', () => {
    const x = new Uint8Array([1, 2, 3, 4, 5, 6]);
    const t = createPcmTransform({
      from: { rate: 8_000, channels: 1, sampleFormat: 'int16' },
      to: { rate: 8_000, channels: 1, sampleFormat: 'int16' },
    });
    expect(concatBytes([t.write(x.subarray(0, 3)), t.write(x.subarray(3)), t.end()])).toEqual(x);
  });

  it('reports a trailing partial frame, use after end and bad shapes', () => {
    const t = createPcmTransform({
      from: { rate: 8_000, channels: 2, sampleFormat: 'int16' },
      to: { rate: 8_000, channels: 1, sampleFormat: 'int16' },
    });
    t.write(new Uint8Array(3));
    expect(() => t.end()).toThrow(expect.objectContaining({ code: 'CORRUPT_INPUT' }));
    expect(() => t.write(new Uint8Array(4))).toThrow(expect.objectContaining({ code: 'ENCODER_ENDED' }));
    expect(() =>
      createPcmTransform({
        from: { rate: 8_000, channels: 2, sampleFormat: 'int12' as 'int16' },
        to: { rate: 8_000, channels: 1, sampleFormat: 'int16' },
      }),
    ).toThrow(/int12/);
  });
});
