import { execFileSync } from 'node:child_process';
import {
  closeSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BYTES_PER_SAMPLE,
  concatBytes,
  convertSampleFormat,
  fromFloat32,
  SAMPLE_FORMATS,
  type SampleFormat,
} from '@audex/pcm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import { createWavEncoder, decodeWav, wavCodec } from '../src/codecs/wav.js';
import { finalizeWavFile } from '../src/codecs/wav-file.js';
import { encodeWavHeader, parseWavHeader, RIFF_MAX } from '../src/codecs/wav-header.js';
import { CodecError } from '../src/errors.js';
import { ffmpegDecode, testTone } from '../src/testing.js';

const dir = mkdtempSync(join(tmpdir(), 'audex-wav-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** ffmpeg's raw output format holding each sample format as WAV stores it. */
const FFMPEG_RAW: Record<SampleFormat, string> = {
  int8: 'u8',
  int16: 's16le',
  int24: 's24le',
  int32: 's32le',
  float32: 'f32le',
};

/** A test signal with full-scale extremes so clipping or rounding shows up. */
function signal(format: SampleFormat, channels: number, frames: number): Uint8Array {
  const x = testTone(16_000, channels, frames);
  x[0] = 1;
  x[1] = -1;
  return fromFloat32(x, format);
}

function encode(
  format: SampleFormat,
  channels: number,
  pcm: Uint8Array,
  totalFrames?: number,
  piece = 1_001,
): Uint8Array {
  const enc = createWavEncoder({
    rate: 16_000,
    channels,
    sampleFormat: format,
    ...(totalFrames === undefined ? {} : { totalFrames }),
  });
  const parts: Uint8Array[] = [];
  for (let i = 0; i < pcm.length; i += piece) parts.push(enc.write(pcm.subarray(i, i + piece)));
  parts.push(enc.end());
  return concatBytes(parts);
}

const LAYOUTS = SAMPLE_FORMATS.flatMap((format) => [1, 2, 6].map((channels) => [format, channels] as const));

describe('WAV write and read', () => {
  it.each(LAYOUTS)('round-trips %s with %i channels bit-exactly through our decoder', (format, channels) => {
    const pcm = signal(format, channels, 1_601);
    for (const total of [1_601, undefined]) {
      const wav = decodeWav(encode(format, channels, pcm, total));
      expect(wav).toMatchObject({ rate: 16_000, channels, sampleFormat: format, frames: 1_601 });
      expect(wav.data).toEqual(pcm);
    }
  });

  it.each(LAYOUTS)('writes %s with %i channels that ffmpeg decodes bit-exactly', (format, channels) => {
    const pcm = signal(format, channels, 1_601);
    const expected = format === 'int8' ? pcm.map((b) => b ^ 0x80) : pcm;
    for (const total of [1_601, undefined]) {
      const file = encode(format, channels, pcm, total);
      expect(ffmpegDecode(file, { outputFormat: FFMPEG_RAW[format], extension: 'wav' })).toEqual(expected);
    }
  });

  it.each(SAMPLE_FORMATS)('writes %s that wavefile reads to the same samples', (format) => {
    const pcm = signal(format, 2, 500);
    const wf = new wavefile.WaveFile(encode(format, 2, pcm, 500));
    const got = wf.getSamples(true, Float64Array) as unknown as Float64Array;
    const ours = decodeWav(encode(format, 2, pcm, 500));
    expect(got.length).toBe(1_000);
    const view =
      format === 'float32'
        ? new Float32Array(ours.data.buffer)
        : format === 'int16'
          ? new Int16Array(ours.data.buffer)
          : format === 'int32'
            ? new Int32Array(ours.data.buffer)
            : null;
    for (let i = 0; i < 1_000; i++) {
      const expected =
        format === 'int8'
          ? ((ours.data[i]! << 24) >> 24) + 128 // wavefile reports 8-bit WAV as unsigned
          : format === 'int24'
            ? ((ours.data[3 * i]! | (ours.data[3 * i + 1]! << 8) | (ours.data[3 * i + 2]! << 16)) << 8) >> 8
            : view![i]!;
      expect(got[i]).toBe(expected);
    }
  });

  it.each(SAMPLE_FORMATS)(
    'converts a %s WAV to every other sample format like @audex/pcm does',
    async (from) => {
      const pcm = signal(from, 2, 800);
      const file = encode(from, 2, pcm, 800);
      for (const to of SAMPLE_FORMATS) {
        const decoded = decodeWav(file);
        const converted = convertSampleFormat(decoded.data, decoded.sampleFormat, to);
        const again = decodeWav(encode(to, 2, converted, 800));
        expect(again.sampleFormat).toBe(to);
        expect(again.data).toEqual(convertSampleFormat(pcm, from, to));
      }
    },
  );

  it.each(SAMPLE_FORMATS)('reads %s WAV files written by ffmpeg', (format) => {
    const file = join(dir, `ffmpeg-${format}.wav`);
    const codec = {
      int8: 'pcm_u8',
      int16: 'pcm_s16le',
      int24: 'pcm_s24le',
      int32: 'pcm_s32le',
      float32: 'pcm_f32le',
    }[format];
    const gen = ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=22050:duration=0.5'];
    execFileSync('ffmpeg', [...gen, '-ac', '2', '-c:a', codec, '-y', file]);
    const raw = execFileSync('ffmpeg', [
      ...gen,
      '-ac',
      '2',
      '-c:a',
      codec,
      '-f',
      FFMPEG_RAW[format],
      'pipe:1',
    ]);
    const wav = decodeWav(readFileSync(file));
    expect(wav).toMatchObject({ rate: 22_050, channels: 2, sampleFormat: format, frames: 11_025 });
    const expected = format === 'int8' ? new Uint8Array(raw).map((b) => b ^ 0x80) : new Uint8Array(raw);
    expect(wav.data).toEqual(expected);
  });

  it('reads a 64-bit float WAV, narrowing to float32', () => {
    const header = new Uint8Array(44);
    const v = new DataView(header.buffer);
    header.set(new TextEncoder().encode('RIFF'), 0);
    v.setUint32(4, 36 + 16, true);
    header.set(new TextEncoder().encode('WAVEfmt '), 8);
    v.setUint32(16, 16, true);
    v.setUint16(20, 3, true);
    v.setUint16(22, 1, true);
    v.setUint32(24, 8_000, true);
    v.setUint32(28, 64_000, true);
    v.setUint16(32, 8, true);
    v.setUint16(34, 64, true);
    header.set(new TextEncoder().encode('data'), 36);
    v.setUint32(40, 16, true);
    const wav = decodeWav(concatBytes([header, new Uint8Array(Float64Array.of(0.25, -0.5).buffer)]));
    expect(wav.sampleFormat).toBe('float32');
    expect([...new Float32Array(wav.data.buffer)]).toEqual([0.25, -0.5]);
  });

  it('uses plain PCM for 8/16-bit mono and stereo and WAVE_FORMAT_EXTENSIBLE otherwise', () => {
    const tag = (format: SampleFormat, channels: number): number =>
      new DataView(
        encodeWavHeader({ rate: 8_000, channels, sampleFormat: format, frames: 1 }).buffer,
      ).getUint16(20, true);
    expect(tag('int8', 1)).toBe(1);
    expect(tag('int16', 2)).toBe(1);
    expect(tag('int16', 6)).toBe(0xfffe);
    expect(tag('int24', 1)).toBe(0xfffe);
    expect(tag('int32', 2)).toBe(0xfffe);
    expect(tag('float32', 2)).toBe(3);
    expect(tag('float32', 6)).toBe(0xfffe);
  });

  it('pads an odd-length data chunk with one byte and counts it in the RIFF size', () => {
    const file = encode('int8', 1, new Uint8Array(3), 3);
    expect(file.length).toBe(44 + 4);
    expect(new DataView(file.buffer).getUint32(4, true)).toBe(file.length - 8);
    expect(new DataView(file.buffer).getUint32(40, true)).toBe(3);
  });
});

describe('WAV sizes: exact, streaming and RF64', () => {
  it('writes exact RIFF and data sizes when totalFrames is known', () => {
    const file = encode('int16', 2, signal('int16', 2, 100), 100);
    const v = new DataView(file.buffer);
    expect(v.getUint32(4, true)).toBe(file.length - 8);
    expect(parseWavHeader(file)).toMatchObject({
      container: 'RIFF',
      dataBytes: 400,
      dataOffset: 44,
      ds64Offset: null,
    });
  });

  it('writes an RF64 header with ds64 sizes for a data chunk beyond 4 GiB, without writing the data', () => {
    const frames = 2 ** 30 + 5; // stereo int24: 6 bytes a frame, about 6 GiB
    const header = encodeWavHeader({ rate: 48_000, channels: 2, sampleFormat: 'int24', frames });
    const v = new DataView(header.buffer);
    const text = (o: number) => new TextDecoder().decode(header.subarray(o, o + 4));
    expect(text(0)).toBe('RF64');
    expect(v.getUint32(4, true)).toBe(RIFF_MAX);
    expect(text(12)).toBe('ds64');
    expect(v.getUint32(16, true)).toBe(28);
    const u64 = (o: number) => v.getUint32(o, true) + v.getUint32(o + 4, true) * 2 ** 32;
    const dataBytes = frames * 6;
    expect(u64(28)).toBe(dataBytes);
    expect(u64(36)).toBe(frames);
    expect(u64(20)).toBe(header.length - 8 + dataBytes);
    expect(v.getUint32(header.length - 4, true)).toBe(RIFF_MAX);
    expect(text(header.length - 8)).toBe('data');
    expect(parseWavHeader(header)).toMatchObject({
      container: 'RF64',
      dataBytes,
      blockAlign: 6,
      dataOffset: header.length,
      sampleFormat: 'int24',
    });
  });

  it('switches to RF64 exactly when the RIFF size would pass 0xFFFFFFFF', () => {
    // Mono int8 with the 44-byte header: RIFF size = 36 + data (+ pad).
    const last = RIFF_MAX - 37; // even: RIFF size RIFF_MAX - 1; one more byte needs a pad byte too
    const fits = encodeWavHeader({ rate: 8_000, channels: 1, sampleFormat: 'int8', frames: last });
    expect(new TextDecoder().decode(fits.subarray(0, 4))).toBe('RIFF');
    expect(new DataView(fits.buffer).getUint32(4, true)).toBe(RIFF_MAX - 1);
    expect(new DataView(fits.buffer).getUint32(40, true)).toBe(last);
    const over = encodeWavHeader({ rate: 8_000, channels: 1, sampleFormat: 'int8', frames: last + 1 });
    expect(new TextDecoder().decode(over.subarray(0, 4))).toBe('RF64');
  });

  it('writes a streaming header that decoders read to the end, and finalizeWavFile patches it', async () => {
    const pcm = signal('int24', 2, 1_000);
    const file = encode('int24', 2, pcm);
    const info = parseWavHeader(file);
    expect(info).toMatchObject({ container: 'RIFF', dataBytes: null, ds64Offset: 12 });
    expect(new DataView(file.buffer).getUint32(4, true)).toBe(RIFF_MAX);
    expect(ffmpegDecode(file, { outputFormat: 's24le', extension: 'wav' })).toEqual(pcm);
    const path = join(dir, 'streamed.wav');
    writeFileSync(path, file);
    await expect(finalizeWavFile(path)).resolves.toEqual({
      container: 'RIFF',
      frames: 1_000,
      dataBytes: 6_000,
    });
    const patched = readFileSync(path);
    expect(new DataView(patched.buffer, patched.byteOffset).getUint32(4, true)).toBe(patched.length - 8);
    expect(parseWavHeader(patched).dataBytes).toBe(6_000);
    const wf = new wavefile.WaveFile(patched);
    expect((wf.getSamples(true) as unknown as Float64Array).length).toBe(2_000);
    // Idempotent.
    await expect(finalizeWavFile(path)).resolves.toEqual({
      container: 'RIFF',
      frames: 1_000,
      dataBytes: 6_000,
    });
  });

  it('finalizeWavFile turns a streamed file beyond 4 GiB into RF64 (sparse file, no 4 GiB written)', async () => {
    const path = join(dir, 'huge.wav');
    const header = encodeWavHeader({ rate: 48_000, channels: 2, sampleFormat: 'int16' });
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, header);
      ftruncateSync(fd, header.length + 2 ** 32 + 4 * 10 + 3); // 3 bytes of a partial frame at the end
    } finally {
      closeSync(fd);
    }
    const frames = (2 ** 32 + 40) / 4;
    await expect(finalizeWavFile(path)).resolves.toEqual({
      container: 'RF64',
      frames,
      dataBytes: 2 ** 32 + 40,
    });
    const fd2 = openSync(path, 'r');
    const head = new Uint8Array(header.length);
    try {
      const { readSync } = await import('node:fs');
      readSync(fd2, head, 0, head.length, 0);
    } finally {
      closeSync(fd2);
    }
    expect(parseWavHeader(head)).toMatchObject({
      container: 'RF64',
      dataBytes: 2 ** 32 + 40,
      dataOffset: header.length,
    });
    rmSync(path);
  });

  it('rejects writing more or fewer frames than totalFrames declared', () => {
    const more = createWavEncoder({ rate: 8_000, channels: 1, sampleFormat: 'int16', totalFrames: 2 });
    expect(() => more.write(new Uint8Array(6))).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    const fewer = createWavEncoder({ rate: 8_000, channels: 1, sampleFormat: 'int16', totalFrames: 2 });
    fewer.write(new Uint8Array(2));
    expect(() => fewer.end()).toThrow(/totalFrames/);
  });

  it('rejects a partial frame at the end and bad options', () => {
    const enc = createWavEncoder({ rate: 8_000, channels: 2, sampleFormat: 'int16' });
    enc.write(new Uint8Array(6));
    expect(() => enc.end()).toThrow(/whole number/);
    expect(() => createWavEncoder({ rate: 0, channels: 1, sampleFormat: 'int16' })).toThrow(CodecError);
    expect(() => createWavEncoder({ rate: 8_000, channels: 0, sampleFormat: 'int16' })).toThrow(/channels/);
    expect(() => createWavEncoder({ rate: 8_000, channels: 1, sampleFormat: 'int12' as 'int16' })).toThrow(
      /int12/,
    );
  });
});

describe('WAV decoder on damaged input', () => {
  const good = encode('int16', 2, signal('int16', 2, 300), 300);

  it('reports a file cut inside the data chunk as truncated', () => {
    expect(() => decodeWav(good.subarray(0, good.length - 10))).toThrow(
      expect.objectContaining({ code: 'CORRUPT_INPUT', message: expect.stringContaining('truncated') }),
    );
  });

  it.each([
    ['empty input', new Uint8Array(0)],
    ['not RIFF', new TextEncoder().encode('OggS0000WAVEfmt ')],
    ['header only', good.subarray(0, 30)],
  ])('rejects %s with CORRUPT_INPUT', (_name, bytes) => {
    expect(() => decodeWav(bytes)).toThrow(expect.objectContaining({ code: 'CORRUPT_INPUT' }));
  });

  it('rejects a non-PCM format tag (0x55, MP3-in-WAV) naming it', () => {
    const bad = good.slice();
    new DataView(bad.buffer).setUint16(20, 0x55, true);
    expect(() => decodeWav(bad)).toThrow(/0x55/);
  });

  it('never crashes or hangs on fuzzed bytes: a CodecError or a consistent result', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc
            .tuple(
              fc.nat({ max: good.length }),
              fc.array(fc.tuple(fc.nat({ max: 80 }), fc.nat({ max: 255 })), { maxLength: 6 }),
            )
            .map(([cut, flips]) => {
              const b = good.slice(0, cut);
              for (const [at, v] of flips) if (at < b.length) b[at] = v;
              return b;
            }),
        ),
        (bytes) => {
          try {
            const wav = decodeWav(bytes);
            expect(wav.data.length).toBe(wav.frames * wav.channels * BYTES_PER_SAMPLE[wav.sampleFormat]);
          } catch (error) {
            expect(error).toBeInstanceOf(CodecError);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('decodes to float samples through the codec object', async () => {
    const decoded = await wavCodec.decode!(good);
    expect(decoded).toMatchObject({ rate: 16_000, channels: 2, frames: 300, sampleFormat: 'int16' });
    expect(decoded.samples[0]).toBeCloseTo(32767 / 32768, 6);
  });
});
