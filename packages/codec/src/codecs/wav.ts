/**
 * Owns the `wav` codec: the streaming WAV/RF64 encoder and the whole-file decoder.
 */
import { type SampleFormat, toFloat32 } from '@audex/pcm';
import { CodecError } from '../errors.js';
import type { Codec, DecodedAudio, Encoder, EncoderOptions, HeaderPatch } from '../types.js';
import { createWavDecoder, wavOutputFormat, wavSamplesToPcm } from './wav-decoder.js';
import { layoutWavHeader, parseWavHeader, type WavHeaderLayout, wavSizePatches } from './wav-header.js';

/** A decoded WAV file with its samples kept in their stored format (lossless). */
export interface WavAudio {
  /** Sample rate in Hz. */
  rate: number;
  /** Interleaved channels. */
  channels: number;
  /**
   * Format of `data`. 8-bit WAV (unsigned) is returned as signed `int8`; 64-bit float WAV is
   * narrowed to `float32`.
   */
  sampleFormat: SampleFormat;
  /** Frames per channel. */
  frames: number;
  /** Interleaved little-endian samples in `sampleFormat` (int24 packed as 3 bytes). */
  data: Uint8Array;
}

function wavError(code: 'INVALID_OPTIONS' | 'ENCODER_ENDED' | 'CORRUPT_INPUT', message: string): CodecError {
  return new CodecError(code, `WAV: ${message}`, { format: 'wav' });
}

/** Flips the sign bit: signed int8 ↔ WAV's unsigned 8-bit, into `out` (same length). */
function flipInt8(input: Uint8Array, out: Uint8Array, offset: number): void {
  for (let i = 0; i < input.length; i++) out[offset + i] = input[i]! ^ 0x80;
}

class WavEncoder implements Encoder {
  readonly #layout: WavHeaderLayout;
  readonly #sampleFormat: SampleFormat;
  readonly #channels: number;
  readonly #totalFrames: number | undefined;
  #written = 0;
  #headerSent = false;
  #ended = false;

  constructor(options: EncoderOptions) {
    const { rate, channels, sampleFormat, totalFrames } = options ?? ({} as EncoderOptions);
    this.#layout = layoutWavHeader({
      rate,
      channels,
      sampleFormat,
      ...(totalFrames === undefined ? {} : { frames: totalFrames }),
    });
    this.#sampleFormat = sampleFormat;
    this.#channels = channels;
    this.#totalFrames = totalFrames;
  }

  write(pcm: Uint8Array): Uint8Array {
    if (this.#ended) throw wavError('ENCODER_ENDED', 'encoder written after end()');
    const { blockAlign, header } = this.#layout;
    if (this.#totalFrames !== undefined && this.#written + pcm.length > this.#totalFrames * blockAlign) {
      throw wavError(
        'INVALID_OPTIONS',
        `more than the ${this.#totalFrames} frames declared by totalFrames were written (${(this.#written + pcm.length) / blockAlign})`,
      );
    }
    const offset = this.#headerSent ? 0 : header.length;
    const out = new Uint8Array(offset + pcm.length);
    if (!this.#headerSent) out.set(header);
    this.#headerSent = true;
    if (this.#sampleFormat === 'int8') flipInt8(pcm, out, offset);
    else out.set(pcm, offset);
    this.#written += pcm.length;
    return out;
  }

  end(): Uint8Array {
    if (this.#ended) throw wavError('ENCODER_ENDED', 'end() called twice');
    this.#ended = true;
    const { blockAlign, header } = this.#layout;
    const written = this.#written;
    if (written % blockAlign !== 0) {
      throw wavError(
        'INVALID_OPTIONS',
        `${written} bytes written is not a whole number of ${blockAlign}-byte frames (${this.#channels} × ${this.#sampleFormat})`,
      );
    }
    if (this.#totalFrames !== undefined && written !== this.#totalFrames * blockAlign) {
      throw wavError(
        'INVALID_OPTIONS',
        `${written / blockAlign} frames written but totalFrames declared ${this.#totalFrames}; the header is wrong`,
      );
    }
    // The word-alignment pad byte goes only where the header gives the data size: after a
    // streaming header a reader would take it for a sample (headerPatches() appends it).
    const pad = this.#totalFrames === undefined ? 0 : written % 2;
    const out = new Uint8Array((this.#headerSent ? 0 : header.length) + pad);
    if (!this.#headerSent) out.set(header);
    this.#headerSent = true;
    return out;
  }

  headerPatches(): HeaderPatch[] {
    if (!this.#ended) throw wavError('INVALID_OPTIONS', 'headerPatches() called before end()');
    if (this.#totalFrames !== undefined) return [];
    return wavSizePatches({ ...this.#layout, dataOffset: this.#layout.header.length }, this.#written);
  }
}

/**
 * Creates a streaming WAV encoder. The file's sample format follows `options.sampleFormat`
 * (8-bit unsigned PCM for `int8`, 16/24/32-bit PCM, 32-bit IEEE float; WAVE_FORMAT_EXTENSIBLE
 * above 16 bits or 2 channels; a `fact` chunk whenever the format is not plain PCM). Memory is
 * bounded: each `write()` returns its bytes at once (the header comes with the first).
 *
 * - With `options.totalFrames` the header carries exact sizes (RF64 beyond 4 GiB) and the pad
 *   byte of an odd data size comes from `end()`; writing a different number of frames is an error.
 * - Without it the header is a streaming one (sizes 0xFFFFFFFF, read as "to the end of the
 *   file"). After `end()`, `headerPatches()` gives the exact sizes, `fact` count, pad byte and,
 *   beyond 4 GiB, the RF64 rewrite: apply them to a file with {@link applyHeaderPatches}.
 * @throws {CodecError} `INVALID_OPTIONS` for a bad rate, channel count or sample format.
 */
export function createWavEncoder(options: EncoderOptions): Encoder {
  return new WavEncoder(options);
}

/**
 * Decodes a whole WAV or RF64 file, keeping the samples in their stored format.
 * A streaming header (size 0xFFFFFFFF) reads to the end of the file, dropping a final partial frame.
 * @throws {CodecError} `CORRUPT_INPUT` for a damaged header, an unsupported encoding or data cut
 * shorter than the header declares.
 */
export function decodeWav(file: Uint8Array): WavAudio {
  const info = parseWavHeader(file);
  const available = file.length - info.dataOffset;
  let dataBytes: number;
  if (info.dataBytes === null) {
    dataBytes = available - (available % info.blockAlign);
  } else {
    if (info.dataBytes > available) {
      throw wavError(
        'CORRUPT_INPUT',
        `data chunk declares ${info.dataBytes} bytes but only ${available} follow (file truncated)`,
      );
    }
    if (info.dataBytes % info.blockAlign !== 0) {
      throw wavError(
        'CORRUPT_INPUT',
        `data size ${info.dataBytes} is not a whole number of ${info.blockAlign}-byte frames`,
      );
    }
    dataBytes = info.dataBytes;
  }
  const raw = file.subarray(info.dataOffset, info.dataOffset + dataBytes);
  const frames = dataBytes / info.blockAlign;
  return {
    rate: info.rate,
    channels: info.channels,
    frames,
    sampleFormat: wavOutputFormat(info),
    data: wavSamplesToPcm(info, raw),
  };
}

/** The built-in `wav` codec: {@link createWavEncoder} and a decoder to float samples. */
export const wavCodec: Codec = {
  format: 'wav',
  mimeType: 'audio/wav',
  extension: 'wav',
  createEncoder: createWavEncoder,
  createDecoder: createWavDecoder,
  async decode(data: Uint8Array): Promise<DecodedAudio> {
    const wav = decodeWav(data);
    const samples = toFloat32(wav.data, wav.sampleFormat);
    return {
      rate: wav.rate,
      channels: wav.channels,
      frames: wav.frames,
      samples,
      sampleFormat: wav.sampleFormat,
    };
  },
};
