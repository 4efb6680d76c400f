/**
 * Owns `@audex/codec/testing`: the conformance suite any codec can run (`testCodec`) and the
 * measuring helpers it uses (test tone, SNR, ffmpeg decode).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Codec, CodecError, type DecodeOptions, type EncoderOptions } from '@audex/codec';
import { concatBytes, fromFloat32, SAMPLE_FORMATS, type SampleFormat } from '@audex/pcm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** Options of {@link testCodec}. */
export interface TestCodecOptions {
  /** Sample rate of the test signal in Hz. Default 48 000. */
  rate?: number;
  /** Channels of the test signal. Default 2. */
  channels?: number;
  /** Sample formats fed to the encoder, one case each. Default every sample format of `@audex/pcm` (`SAMPLE_FORMATS`). */
  sampleFormats?: readonly SampleFormat[];
  /** Extra encoder options (e.g. `bitrate`). */
  encoderOptions?: Partial<EncoderOptions>;
  /**
   * ffmpeg arguments placed before `-i` to read the format, for headerless formats (e.g.
   * `['-f', 's16le', '-ar', '48000', '-ac', '2']`). Default none: ffmpeg probes the file.
   * Called with the encoder options of each case.
   */
  ffmpegInputArgs?: (options: EncoderOptions) => string[];
  /** Options passed to `codec.decode`, for headerless formats. */
  decodeOptions?: (options: EncoderOptions) => DecodeOptions;
  /** Decoded length may differ from the input by this many frames (codec delay). Default 0. */
  lengthTolerance?: number;
  /** Minimum signal-to-noise ratio in dB of the decoded tone. Default 40 (lossless codecs reach far more). */
  minSnrDb?: number;
  /**
   * Whether encoding in pieces gives the same bytes as encoding in one write. Default `true`;
   * set `false` for codecs whose output legitimately depends on write sizes.
   */
  piecewiseIdentical?: boolean;
  /** Per-test timeout in ms. Default 60 000. */
  timeout?: number;
}

/** Interleaved sine test signal: channel `c` at `440 × (c + 1)` Hz, amplitude 0.5. */
export function testTone(rate: number, channels: number, frames: number): Float32Array {
  const out = new Float32Array(frames * channels);
  for (let c = 0; c < channels; c++) {
    const w = (2 * Math.PI * 440 * (c + 1)) / rate;
    for (let i = 0; i < frames; i++) out[i * channels + c] = 0.5 * Math.sin(w * i);
  }
  return out;
}

/**
 * Signal-to-noise ratio in dB of channel `c` of `samples` against a sine at `freq` Hz, with
 * amplitude and phase fitted by least squares (so codec delay does not matter). `skip` frames at
 * each edge are ignored.
 */
export function toneSnrDb(
  samples: Float32Array,
  channels: number,
  c: number,
  freq: number,
  rate: number,
  skip = 0,
): number {
  const frames = samples.length / channels;
  let ss = 0;
  let cc = 0;
  let sc = 0;
  let ys = 0;
  let yc = 0;
  let yy = 0;
  for (let i = skip; i < frames - skip; i++) {
    const s = Math.sin((2 * Math.PI * freq * i) / rate);
    const k = Math.cos((2 * Math.PI * freq * i) / rate);
    const y = samples[i * channels + c]!;
    ss += s * s;
    cc += k * k;
    sc += s * k;
    ys += y * s;
    yc += y * k;
    yy += y * y;
  }
  // Solve the 2×2 normal equations for y ≈ a·sin + b·cos.
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det;
  const b = (yc * ss - ys * sc) / det;
  const signal = a * a * ss + 2 * a * b * sc + b * b * cc;
  const noise = Math.max(yy - signal, 1e-30);
  return 10 * Math.log10(signal / noise);
}

/**
 * Decodes a file with the ffmpeg CLI. Output is raw little-endian samples in `outputFormat`
 * (an ffmpeg raw format such as `f32le`, `s16le`, `u8`; default `f32le`).
 * @throws when ffmpeg fails (its stderr in the message).
 */
export function ffmpegDecode(
  data: Uint8Array,
  options: { inputArgs?: readonly string[]; outputFormat?: string; extension?: string } = {},
): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'audex-codec-'));
  const file = join(dir, `in.${options.extension ?? 'bin'}`);
  try {
    writeFileSync(file, data);
    const format = options.outputFormat ?? 'f32le';
    const codec = format === 'u8' ? 'pcm_u8' : format === 's8' ? 'pcm_s8' : `pcm_${format}`;
    const out = execFileSync(
      'ffmpeg',
      ['-v', 'error', ...(options.inputArgs ?? []), '-i', file, '-c:a', codec, '-f', format, 'pipe:1'],
      { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Encodes `pcm` by writing it in pieces of the given frame counts (cycled), then `end()`. */
function encodePieces(
  codec: Codec,
  options: EncoderOptions,
  pcm: Uint8Array,
  pieceFrames: readonly number[],
): Uint8Array {
  const frameBytes = pcm.length / (options.totalFrames ?? 1);
  const encoder = codec.createEncoder(options);
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; offset < pcm.length; i++) {
    const size = pieceFrames[i % pieceFrames.length]! * frameBytes;
    parts.push(encoder.write(pcm.subarray(offset, offset + size)));
    offset += size;
  }
  parts.push(encoder.end());
  return concatBytes(parts);
}

/**
 * Registers a vitest suite every codec must pass: encoding in pieces equals one file, ffmpeg
 * (and the codec's own decoder, if any) decodes it to the right length and tone, every sample
 * format is accepted, an ended encoder throws `ENCODER_ENDED`, and corrupt or truncated input
 * to the decoder gives a `CodecError`, never a crash or a hang. Call it inside a test file;
 * needs ffmpeg on the PATH.
 */
export function testCodec(codec: Codec, options: TestCodecOptions = {}): void {
  const rate = options.rate ?? 48_000;
  const channels = options.channels ?? 2;
  const formats = options.sampleFormats ?? SAMPLE_FORMATS;
  const tolerance = options.lengthTolerance ?? 0;
  const minSnr = options.minSnrDb ?? 40;
  const timeout = options.timeout ?? 60_000;
  const frames = rate * 2;
  const signal = testTone(rate, channels, frames);
  const optionsFor = (sampleFormat: SampleFormat, totalFrames?: number): EncoderOptions => ({
    rate,
    channels,
    sampleFormat,
    ...options.encoderOptions,
    ...(totalFrames === undefined ? {} : { totalFrames }),
  });
  const encodeAll = (sampleFormat: SampleFormat): Uint8Array =>
    encodePieces(codec, optionsFor(sampleFormat, frames), fromFloat32(signal, sampleFormat), [frames]);
  const checkTone = (decoded: Float32Array, what: string): void => {
    const got = decoded.length / channels;
    expect(Math.abs(got - frames), `${what}: ${got} frames decoded, ${frames} encoded`).toBeLessThanOrEqual(
      tolerance,
    );
    for (let c = 0; c < channels; c++) {
      const snr = toneSnrDb(decoded, channels, c, 440 * (c + 1), rate, Math.min(2_000, frames / 4));
      expect(snr, `${what}: channel ${c} SNR`).toBeGreaterThanOrEqual(minSnr);
    }
  };

  describe(`codec conformance: ${codec.format}`, () => {
    it('names its format, MIME type and extension', () => {
      expect(codec.format).toMatch(/^[a-z0-9][a-z0-9._-]*$/i);
      expect(codec.mimeType).toMatch(/^[a-z]+\/[a-z0-9.+-]+(; *[a-z0-9-]+=[a-z0-9.+-]+)*$/i);
      expect(codec.extension).toMatch(/^[a-z0-9]+$/i);
    });

    it(
      'gives the same file when written in uneven pieces as in one write',
      () => {
        const sampleFormat = formats.includes('int16') ? 'int16' : formats[0]!;
        const pcm = fromFloat32(signal, sampleFormat);
        const whole = encodeAll(sampleFormat);
        const pieces = encodePieces(
          codec,
          optionsFor(sampleFormat, frames),
          pcm,
          [1, 479, 4_800, 97, 12_001],
        );
        if (options.piecewiseIdentical ?? true) expect(pieces).toEqual(whole);
        else checkTone(new Float32Array(ffmpegFloat(pieces, optionsFor(sampleFormat))), 'pieces');
      },
      timeout,
    );

    it.each(formats)(
      'encodes %s input that ffmpeg decodes to the right length and tone',
      (sampleFormat) => {
        const file = encodeAll(sampleFormat);
        checkTone(ffmpegFloat(file, optionsFor(sampleFormat)), `ffmpeg, ${sampleFormat} in`);
      },
      timeout,
    );

    if (codec.decode) {
      const decode = codec.decode.bind(codec);
      it.each(formats)(
        'decodes its own %s output to the right length and tone',
        async (sampleFormat) => {
          const decoded = await decode(
            encodeAll(sampleFormat),
            options.decodeOptions?.(optionsFor(sampleFormat)),
          );
          expect(decoded.rate).toBe(rate);
          expect(decoded.channels).toBe(channels);
          expect(decoded.frames * channels).toBe(decoded.samples.length);
          checkTone(decoded.samples, `own decoder, ${sampleFormat} in`);
        },
        timeout,
      );

      it(
        'rejects corrupt or truncated input with a CodecError, never a crash or a hang',
        async () => {
          const file = encodeAll(formats[0]!);
          const decodeOptions = options.decodeOptions?.(optionsFor(formats[0]!));
          await fc.assert(
            fc.asyncProperty(
              fc.nat({ max: file.length }),
              fc.array(fc.tuple(fc.nat({ max: Math.max(0, file.length - 1) }), fc.nat({ max: 255 })), {
                maxLength: 8,
              }),
              async (cut, flips) => {
                const damaged = file.slice(0, cut);
                for (const [at, value] of flips) if (at < damaged.length) damaged[at] = value;
                try {
                  const out = await decode(damaged, decodeOptions);
                  expect(out.samples.length).toBe(out.frames * out.channels);
                } catch (error) {
                  expect(error).toBeInstanceOf(CodecError);
                }
              },
            ),
            { numRuns: 60 },
          );
        },
        timeout,
      );
    }

    it('throws ENCODER_ENDED when written or ended after end()', () => {
      const encoder = codec.createEncoder(optionsFor(formats[0]!));
      encoder.end();
      expect(() => encoder.write(new Uint8Array(0))).toThrow(
        expect.objectContaining({ code: 'ENCODER_ENDED' }),
      );
      expect(() => encoder.end()).toThrow(expect.objectContaining({ code: 'ENCODER_ENDED' }));
    });
  });

  function ffmpegFloat(file: Uint8Array, encoderOptions: EncoderOptions): Float32Array {
    const raw = ffmpegDecode(file, {
      inputArgs: options.ffmpegInputArgs?.(encoderOptions) ?? [],
      extension: codec.extension,
    });
    return new Float32Array(raw.slice().buffer);
  }
}
