import { concatBytes, fromFloat32, SAMPLE_FORMATS, type SampleFormat } from '@audex/pcm';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { OGG_BOS, OGG_EOS, OggPageWriter, oggCrc32, readOggPackets } from '../src/codecs/ogg.js';
import { decodeOggOpus, opusCodec } from '../src/codecs/opus.js';
import { CodecError } from '../src/errors.js';
import { channel, dominantFrequency, ffmpegDecode, rms, runOnFile, snr, tone } from './lossy-helpers.js';

function encodePieces(
  samples: Float32Array,
  options: { rate: number; channels: number; sampleFormat?: SampleFormat; bitrate?: number },
  pieces = 1,
): { file: Uint8Array; chunks: Uint8Array[] } {
  const sampleFormat = options.sampleFormat ?? 'float32';
  const frames = samples.length / options.channels;
  const encoder = opusCodec.createEncoder({ ...options, sampleFormat });
  const chunks: Uint8Array[] = [];
  const step = Math.ceil(frames / pieces);
  for (let f = 0; f < frames; f += step) {
    const piece = samples.subarray(f * options.channels, Math.min(frames, f + step) * options.channels);
    chunks.push(encoder.write(fromFloat32(piece, sampleFormat)));
  }
  chunks.push(encoder.end());
  return { file: concatBytes(chunks), chunks };
}

function opusinfo(file: Uint8Array): string {
  const { output, status } = runOnFile('opusinfo', [], file, 'opus');
  expect(status).toBe(0);
  expect(output).not.toMatch(/error|warning/i);
  return output;
}

/** ffmpeg decodes Ogg Opus at 48 kHz; compare with the input resampled by ratio (native rates only). */
function upsampledTone(rate: number, frames: number, freq: number): Float32Array {
  return tone(48_000, 1, Math.round((frames * 48_000) / rate), [freq]);
}

describe('ogg page writer', () => {
  test('computes the Ogg CRC-32 (poly 0x04C11DB7) of a known page', () => {
    // "OggS" capture pattern alone, checked against a bit-by-bit reference.
    let crc = 0;
    for (const byte of new TextEncoder().encode('OggS')) {
      crc ^= byte << 24;
      for (let k = 0; k < 8; k++) crc = crc & 0x80000000 ? ((crc << 1) ^ 0x04c11db7) >>> 0 : (crc << 1) >>> 0;
    }
    expect(oggCrc32(new TextEncoder().encode('OggS'))).toBe(crc >>> 0);
  });

  test('writes pages the reader reads back, packets of 0, 255 and 1000 bytes included', () => {
    const writer = new OggPageWriter(1234);
    const packets = [new Uint8Array(0), new Uint8Array(255).fill(1), new Uint8Array(1000).fill(2)];
    const data = concatBytes([
      writer.page([new Uint8Array([9])], 0n, OGG_BOS),
      ...writer.pages(packets, [1n, 2n, 3n], 2, OGG_EOS),
    ]);
    const read = readOggPackets(data);
    expect(read.map((p) => p.data.length)).toEqual([1, 0, 255, 1000]);
    expect(read.at(-1)).toMatchObject({ granule: 3n, eos: true });
  });
});

describe('ogg opus encoder', () => {
  test.each(SAMPLE_FORMATS)(
    'encodes %s mono 16 kHz to a file opusinfo accepts, exact length in ffmpeg and ours',
    async (fmt) => {
      const input = tone(16_000, 1, 16_000, [1000]);
      const { file } = encodePieces(input, { rate: 16_000, channels: 1, sampleFormat: fmt }, 3);
      const info = opusinfo(file);
      expect(info).toMatch(/Original sample rate: 16000 Hz/);
      expect(info).toMatch(/Playback length: 0m:01\.000s/);
      const viaFfmpeg = ffmpegDecode(file);
      expect(viaFfmpeg.length).toBe(48_000);
      expect(snr(upsampledTone(16_000, 16_000, 1000), viaFfmpeg, 1000, 47_000)).toBeGreaterThan(15);
      const ours = await decodeOggOpus(file);
      expect(ours).toMatchObject({ rate: 16_000, channels: 1, frames: 16_000 });
      expect(snr(input, ours.samples, 300, 15_700)).toBeGreaterThan(15);
      expect(Math.abs(dominantFrequency(ours.samples, 16_000) - 1000)).toBeLessThan(3);
    },
  );

  test('keeps stereo channels apart at 48 kHz (440 Hz left, 1 kHz right)', async () => {
    const input = tone(48_000, 2, 48_000, [440, 1000]);
    const { file } = encodePieces(input, { rate: 48_000, channels: 2, sampleFormat: 'int16' }, 5);
    opusinfo(file);
    const decoded = ffmpegDecode(file);
    expect(decoded.length).toBe(96_000);
    expect(Math.abs(dominantFrequency(channel(decoded, 2, 0), 48_000) - 440)).toBeLessThan(3);
    expect(Math.abs(dominantFrequency(channel(decoded, 2, 1), 48_000) - 1000)).toBeLessThan(3);
    expect(snr(input, decoded, 2000, 94_000)).toBeGreaterThan(15);
    expect(await decodeOggOpus(file)).toMatchObject({ rate: 48_000, channels: 2, frames: 48_000 });
  });

  test('resamples 44.1 kHz to 48 kHz transparently and declares 44100 Hz in OpusHead', async () => {
    const { file } = encodePieces(tone(44_100, 1, 44_100, [1000]), { rate: 44_100, channels: 1 }, 4);
    expect(opusinfo(file)).toMatch(/Original sample rate: 44100 Hz/);
    const decoded = ffmpegDecode(file);
    expect(decoded.length).toBe(48_000);
    expect(Math.abs(dominantFrequency(decoded, 48_000) - 1000)).toBeLessThan(3);
    expect(snr(tone(48_000, 1, 48_000, [1000]), decoded, 1000, 47_000)).toBeGreaterThan(15);
    expect(await decodeOggOpus(file)).toMatchObject({ rate: 48_000, frames: 48_000 });
  });

  test('mixes 6 channels down to stereo', async () => {
    const { file } = encodePieces(tone(48_000, 6, 9600, [600]), {
      rate: 48_000,
      channels: 6,
      sampleFormat: 'int32',
    });
    expect(await decodeOggOpus(file)).toMatchObject({ channels: 2, frames: 9600 });
  });

  test('every chunk is whole Ogg pages, headers first, so a listener can start on the first chunk', () => {
    const { chunks } = encodePieces(tone(16_000, 1, 16_000, [440]), { rate: 16_000, channels: 1 }, 10);
    for (const chunk of chunks) expect(new TextDecoder().decode(chunk.subarray(0, 4))).toBe('OggS');
    const first = chunks[0]!;
    expect(first[5]! & OGG_BOS).toBe(OGG_BOS);
    expect(new TextDecoder().decode(first.subarray(28, 36))).toBe('OpusHead');
    // Every prefix of whole chunks ends on a page boundary: ffmpeg plays it as it arrives.
    const prefix = concatBytes(chunks.slice(0, 4));
    expect(ffmpegDecode(prefix).length).toBeGreaterThan(0);
  });

  test('a 60 s sine written as 60 pieces of 1 s through one encoder decodes (ffmpeg) continuous at every join', () => {
    const rate = 48_000;
    const freq = 440;
    const amp = 0.5;
    const input = tone(rate, 1, 60 * rate, [freq], amp);
    const { file } = encodePieces(input, { rate, channels: 1, sampleFormat: 'int16' }, 60);
    opusinfo(file);
    const decoded = ffmpegDecode(file);
    expect(decoded.length).toBe(60 * rate);
    const maxSlope = (2 * Math.PI * freq * amp) / rate;
    const error = input.map((v, i) => v - decoded[i]!);
    const residual = rms(error, rate, 59 * rate);
    for (let s = 1; s < 60; s++) {
      const join = s * rate;
      let worst = 0;
      for (let i = join - 96; i < join + 96; i++)
        worst = Math.max(worst, Math.abs(decoded[i + 1]! - decoded[i]!));
      expect(worst, `slope at the join after ${s} s`).toBeLessThan(maxSlope * 1.5);
      expect(rms(error, join - 960, join + 960), `error around the join after ${s} s`).toBeLessThan(
        residual * 3 + 1e-3,
      );
    }
  });

  test('honours the bitrate option and rejects bad options and misuse with CodecError', () => {
    const input = tone(48_000, 1, 48_000 * 2, [440]);
    const at64 = encodePieces(input, { rate: 48_000, channels: 1 }).file;
    const at32 = encodePieces(input, { rate: 48_000, channels: 1, bitrate: 32_000 }).file;
    expect(at32.length / at64.length).toBeLessThan(0.7);
    const base = { rate: 48_000, channels: 1, sampleFormat: 'int16' as const };
    expect(() => opusCodec.createEncoder({ ...base, bitrate: 100 })).toThrow(
      /bitrate must be 6000\.\.510000/,
    );
    expect(() => opusCodec.createEncoder({ ...base, rate: 0 })).toThrow(CodecError);
    const e = opusCodec.createEncoder(base);
    e.end();
    expect(() => e.end()).toThrow(expect.objectContaining({ code: 'ENCODER_ENDED' }));
  });
});

describe('ogg opus decoder', () => {
  const valid = encodePieces(tone(16_000, 1, 8000, [440]), { rate: 16_000, channels: 1 }, 4).file;

  test('rejects every truncation of a file with CORRUPT_INPUT', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: valid.length - 1 }), async (cut) => {
        await expect(decodeOggOpus(valid.subarray(0, cut))).rejects.toMatchObject({ code: 'CORRUPT_INPUT' });
      }),
      { numRuns: 60 },
    );
  });

  test('rejects corrupted bytes (caught by the page CRC) and random data with CORRUPT_INPUT', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 4096 }),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, flip]) => {
            const copy = valid.slice();
            copy[at]! ^= flip;
            return copy;
          }),
        ),
        async (data) => {
          await expect(decodeOggOpus(data)).rejects.toSatisfy(
            (e: unknown) => e instanceof CodecError && e.code === 'CORRUPT_INPUT',
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
