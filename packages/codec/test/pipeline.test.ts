import { concatBytes, fromFloat32 } from '@audex/pcm';
import { describe, expect, it } from 'vitest';
import { decodeMp3 } from '../src/codecs/mp3.js';
import { decodeWav } from '../src/codecs/wav.js';
import { createPcmTransform } from '../src/dsp/transform.js';
import '../src/builtins.js';
import { createEncoderPipeline } from '../src/pipeline.js';
import { registerCodec, unregisterCodec } from '../src/registry.js';
import type { EncoderOptions } from '../src/types.js';
import { dominantFrequency, tone } from './lossy-helpers.js';

function run(pipeline: ReturnType<typeof createEncoderPipeline>, pcm: Uint8Array, piece = 4_801): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < pcm.length; i += piece) parts.push(pipeline.write(pcm.subarray(i, i + piece)));
  parts.push(pipeline.end());
  return concatBytes(parts);
}

describe('encoder pipeline: capture PCM to a file with one conversion', () => {
  it('feeds LAME float32 at 44.1 kHz straight from a 48 kHz int16 capture (one resampler)', async () => {
    const from = { rate: 48_000, channels: 2, sampleFormat: 'int16' as const };
    const frames = 48_000;
    const pipeline = createEncoderPipeline({ from, format: 'mp3', rate: 44_100, totalFrames: frames });
    expect(pipeline.shape).toEqual({ rate: 44_100, channels: 2, sampleFormat: 'float32' });
    expect(pipeline.outputFrames).toBe(44_100);
    const file = run(pipeline, fromFloat32(tone(48_000, 2, frames, [1_000, 3_000]), 'int16'));
    const audio = await decodeMp3(file);
    expect(audio.rate).toBe(44_100);
    expect(audio.frames).toBe(44_100);
    const left = audio.samples.filter((_, i) => i % 2 === 0);
    expect(Math.abs(dominantFrequency(left, 44_100) - 1_000)).toBeLessThan(20);
  });

  it('resamples once, straight to the rate MP3 encodes, for a rate MP3 does not support', async () => {
    const from = { rate: 48_000, channels: 1, sampleFormat: 'int16' as const };
    const pipeline = createEncoderPipeline({ from, format: 'mp3', rate: 37_800, totalFrames: 24_000 });
    // Not 48 → 37.8 → 44.1 kHz: 48 → 44.1 kHz directly.
    expect(pipeline.shape).toEqual({ rate: 44_100, channels: 1, sampleFormat: 'float32' });
    const file = run(pipeline, fromFloat32(tone(48_000, 1, 24_000, [2_000]), 'int16'));
    const audio = await decodeMp3(file);
    expect(audio.frames).toBe(22_050);
    expect(Math.abs(dominantFrequency(audio.samples, 44_100) - 2_000)).toBeLessThan(20);
  });

  it('hands the encoder the capture bytes untouched when the shape already fits', () => {
    const seen: Uint8Array[] = [];
    registerCodec({
      format: 'probe',
      mimeType: 'application/x-probe',
      extension: 'probe',
      createEncoder: (_options: EncoderOptions) => ({
        write(pcm) {
          seen.push(pcm);
          return pcm;
        },
        end: () => new Uint8Array(0),
      }),
    });
    try {
      const pcm = fromFloat32(tone(16_000, 1, 160, [440]), 'int16');
      const pipeline = createEncoderPipeline({
        from: { rate: 16_000, channels: 1, sampleFormat: 'int16' },
        format: 'probe',
      });
      pipeline.write(pcm);
      expect(seen[0]).toBe(pcm);
      expect(pipeline.headerPatches()).toEqual([]);
    } finally {
      unregisterCodec('probe');
    }
  });

  it('converts lossless output like createPcmTransform (sample format, channels, rate in one pass)', () => {
    const from = { rate: 48_000, channels: 2, sampleFormat: 'float32' as const };
    const to = { rate: 16_000, channels: 1, sampleFormat: 'int24' as const };
    const pcm = fromFloat32(tone(48_000, 2, 9_600, [440, 440]), 'float32');
    const pipeline = createEncoderPipeline({ from, format: 'wav', ...to, totalFrames: 9_600 });
    const wav = decodeWav(run(pipeline, pcm));
    const t = createPcmTransform({ from, to });
    const expected = concatBytes([t.write(pcm), t.end()]);
    expect(wav).toMatchObject({ rate: 16_000, channels: 1, sampleFormat: 'int24', frames: 3_200 });
    expect(Buffer.from(wav.data).equals(Buffer.from(expected))).toBe(true);
  });

  it('rejects bad shapes and unknown formats naming the value', () => {
    const from = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const };
    expect(() => createEncoderPipeline({ from, format: 'nope' })).toThrow(/unknown format "nope"/);
    expect(() => createEncoderPipeline({ from, format: 'wav', rate: 0 })).toThrow(/rate/);
    expect(() => createEncoderPipeline({ from: { ...from, channels: 0 }, format: 'wav' })).toThrow(
      /channels/,
    );
    expect(() => createEncoderPipeline({ from, format: 'wav', totalFrames: -1 })).toThrow(/totalFrames/);
  });
});
