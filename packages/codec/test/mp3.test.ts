import { concatBytes, fromFloat32, SAMPLE_FORMATS, type SampleFormat } from '@audex/pcm';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeMp3, lameLayout, mp3Codec } from '../src/codecs/mp3.js';
import { parseFrameHeader, parseInfoFrame } from '../src/codecs/mp3-info-frame.js';
import { CodecError } from '../src/errors.js';
import { channel, dominantFrequency, ffmpegDecode, rms, runOnFile, snr, tone } from './lossy-helpers.js';

function encode(
  samples: Float32Array,
  options: { rate: number; channels: number; sampleFormat?: SampleFormat; bitrate?: number; known?: boolean },
  pieces = 1,
): Uint8Array {
  const sampleFormat = options.sampleFormat ?? 'float32';
  const frames = samples.length / options.channels;
  const encoder = mp3Codec.createEncoder({
    rate: options.rate,
    channels: options.channels,
    sampleFormat,
    ...(options.bitrate ? { bitrate: options.bitrate } : {}),
    ...(options.known === false ? {} : { totalFrames: frames }),
  });
  const out: Uint8Array[] = [];
  const step = Math.ceil(frames / pieces);
  for (let f = 0; f < frames; f += step) {
    const piece = samples.subarray(f * options.channels, Math.min(frames, f + step) * options.channels);
    out.push(encoder.write(fromFloat32(piece, sampleFormat)));
  }
  out.push(encoder.end());
  return concatBytes(out);
}

describe('mp3 encoder', () => {
  test.each(SAMPLE_FORMATS)(
    'encodes %s mono 16 kHz to exactly the input length (ffmpeg and our decoder)',
    async (fmt) => {
      const input = tone(16_000, 1, 16_000, [1000]);
      const mp3 = encode(input, { rate: 16_000, channels: 1, sampleFormat: fmt });
      const viaFfmpeg = ffmpegDecode(mp3);
      expect(viaFfmpeg.length).toBe(16_000);
      const ours = await decodeMp3(mp3);
      expect(ours).toMatchObject({ rate: 16_000, channels: 1, frames: 16_000 });
      const floor = fmt === 'int8' ? 18 : 25;
      expect(snr(input, viaFfmpeg, 200, 15_800)).toBeGreaterThan(floor);
      expect(snr(input, ours.samples, 200, 15_800)).toBeGreaterThan(floor);
      expect(Math.abs(dominantFrequency(ours.samples, 16_000) - 1000)).toBeLessThan(3);
    },
  );

  test('keeps stereo channels apart at 48 kHz (440 Hz left, 1 kHz right) with an exact length', async () => {
    const input = tone(48_000, 2, 48_000, [440, 1000]);
    const mp3 = encode(input, { rate: 48_000, channels: 2, sampleFormat: 'int16' }, 7);
    const decoded = ffmpegDecode(mp3);
    expect(decoded.length).toBe(96_000);
    expect(Math.abs(dominantFrequency(channel(decoded, 2, 0), 48_000) - 440)).toBeLessThan(3);
    expect(Math.abs(dominantFrequency(channel(decoded, 2, 1), 48_000) - 1000)).toBeLessThan(3);
    expect(snr(input, decoded, 1000, 95_000)).toBeGreaterThan(25);
    const ours = await decodeMp3(mp3);
    expect(ours).toMatchObject({ rate: 48_000, channels: 2, frames: 48_000 });
  });

  test('resamples rates MP3 lacks to the next MP3 rate up (96 kHz to 48 kHz, 20 kHz to 22.05 kHz)', async () => {
    const hi = encode(tone(96_000, 1, 96_000, [1000]), { rate: 96_000, channels: 1 });
    const a = await decodeMp3(hi);
    expect(a).toMatchObject({ rate: 48_000, frames: 48_000 });
    expect(Math.abs(dominantFrequency(a.samples, 48_000) - 1000)).toBeLessThan(3);
    expect(snr(tone(48_000, 1, 48_000, [1000]), a.samples, 500, 47_000)).toBeGreaterThan(25);
    const odd = encode(tone(20_000, 1, 20_000, [700]), { rate: 20_000, channels: 1 });
    const b = ffmpegDecode(odd);
    expect(b.length).toBe(22_050);
    expect(Math.abs(dominantFrequency(b, 22_050) - 700)).toBeLessThan(3);
  });

  test('mixes 6 channels (5.1) down to stereo', async () => {
    const mp3 = encode(tone(44_100, 6, 44_100, [500]), { rate: 44_100, channels: 6, sampleFormat: 'int24' });
    const decoded = await decodeMp3(mp3);
    expect(decoded).toMatchObject({ rate: 44_100, channels: 2, frames: 44_100 });
    expect(Math.abs(dominantFrequency(channel(decoded.samples, 2, 0), 44_100) - 500)).toBeLessThan(3);
  });

  test('writes a LAME Info frame that ffprobe accepts (valid tag CRC) with frame count, delay and padding', () => {
    const mp3 = encode(tone(16_000, 1, 12_345, [300]), { rate: 16_000, channels: 1 });
    const info = parseInfoFrame(mp3);
    expect(info).toEqual({ delay: 576, ...lameLayout(12_345, 16_000) });
    const probe = runOnFile(
      'ffprobe',
      ['-v', 'error', '-show_entries', 'stream_tags=encoder', '-of', 'csv=p=0'],
      mp3,
      'mp3',
    );
    expect(probe.output.trim()).toBe('LAME3.100');
  });

  test('honours the bitrate option (64 kbit/s gives half the bytes of 128 kbit/s)', () => {
    const input = tone(44_100, 2, 44_100 * 2, [440, 880]);
    const at128 = encode(input, { rate: 44_100, channels: 2 });
    const at64 = encode(input, { rate: 44_100, channels: 2, bitrate: 64_000 });
    expect(parseFrameHeader(at128.subarray(parseFrameHeader(at128)!.size))!.kbps).toBe(128);
    expect(parseFrameHeader(at64.subarray(parseFrameHeader(at64)!.size))!.kbps).toBe(64);
    expect(at64.length / at128.length).toBeCloseTo(0.5, 1);
  });

  test('a 60 s sine written as 60 pieces of 1 s through one encoder decodes (ffmpeg) continuous at every join', () => {
    const rate = 16_000;
    const freq = 440;
    const amp = 0.5;
    const input = tone(rate, 1, 60 * rate, [freq], amp);
    const mp3 = encode(input, { rate, channels: 1, sampleFormat: 'int16' }, 60);
    const decoded = ffmpegDecode(mp3);
    expect(decoded.length).toBe(60 * rate);
    const maxSlope = (2 * Math.PI * freq * amp) / rate;
    const residual = rms(
      input.map((v, i) => v - decoded[i]!),
      rate,
      59 * rate,
    );
    for (let s = 1; s < 60; s++) {
      const join = s * rate;
      let worst = 0;
      for (let i = join - 64; i < join + 64; i++)
        worst = Math.max(worst, Math.abs(decoded[i + 1]! - decoded[i]!));
      expect(worst, `slope at the join after ${s} s`).toBeLessThan(maxSlope * 1.3);
      const local = rms(
        input.map((v, i) => v - decoded[i]!),
        join - 256,
        join + 256,
      );
      expect(local, `error around the join after ${s} s`).toBeLessThan(residual * 3 + 1e-3);
    }
  });

  test('without totalFrames it writes no Info frame; decoders keep the documented 1105-sample delay and the padding', () => {
    const input = tone(16_000, 1, 16_000, [440]);
    const mp3 = encode(input, { rate: 16_000, channels: 1, known: false }, 10);
    expect(parseInfoFrame(mp3)).toBeUndefined();
    const decoded = ffmpegDecode(mp3);
    const { padding } = lameLayout(16_000, 16_000);
    expect(decoded.length).toBe(576 + 16_000 + padding);
    expect(snr(input, decoded.subarray(1105), 200, 15_800)).toBeGreaterThan(25);
  });

  test('rejects bad options, writes after end() and more frames than announced with CodecError', () => {
    const base = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const };
    expect(() => mp3Codec.createEncoder({ ...base, bitrate: 1000 })).toThrow(
      /bitrate must be 8000\.\.320000/,
    );
    expect(() => mp3Codec.createEncoder({ ...base, sampleFormat: 'int12' as SampleFormat })).toThrow(
      CodecError,
    );
    expect(() => mp3Codec.createEncoder({ ...base, channels: 0 })).toThrow(/channels must be/);
    const e = mp3Codec.createEncoder({ ...base, totalFrames: 10 });
    expect(() => e.write(new Uint8Array(40))).toThrow(/more than the 10 frames/);
    const f = mp3Codec.createEncoder(base);
    f.end();
    expect(() => f.write(new Uint8Array(2))).toThrow(expect.objectContaining({ code: 'ENCODER_ENDED' }));
  });
});

describe('mp3 decoder', () => {
  const valid = encode(tone(8000, 1, 4000, [440]), { rate: 8000, channels: 1, bitrate: 32_000 });

  test('rejects every truncation of a file with CORRUPT_INPUT', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: valid.length - 1 }), async (cut) => {
        await expect(decodeMp3(valid.subarray(0, cut))).rejects.toMatchObject({ code: 'CORRUPT_INPUT' });
      }),
      { numRuns: 60 },
    );
  });

  test('returns audio or a CodecError, never another error or a hang, for corrupted bytes and random data', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 4096 }),
          fc
            .array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), {
              minLength: 1,
              maxLength: 20,
            })
            .map((edits) => {
              const copy = valid.slice();
              for (const [at, byte] of edits) copy[at] = byte;
              return copy;
            }),
        ),
        async (data) => {
          try {
            const decoded = await decodeMp3(data);
            expect(decoded.samples.length).toBe(decoded.frames * decoded.channels);
          } catch (error) {
            expect(error).toBeInstanceOf(CodecError);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
