/**
 * Owns the `mp3` codec: LAME encoding with a LAME/Info frame for exact length, and whole-file
 * decoding with mpg123.
 */
import { concatBytes } from '@audex/pcm';
import { CodecError } from '../errors.js';
import type { Codec, DecodedAudio, Encoder, EncoderOptions } from '../types.js';
import { type EncoderInput, encoderInput } from './_lossy-input.js';
import {
  buildInfoFrame,
  MP3_RATES,
  type Mp3GaplessInfo,
  parseFrameHeader,
  parseInfoFrame,
} from './mp3-info-frame.js';
import { LameEncoder } from './mp3-lame.js';

/** Default MP3 bitrate, bit/s (the reference's 128 kbit/s). */
export const MP3_DEFAULT_BITRATE = 128_000;

/** libmp3lame's encoder delay in samples when it does not resample (`lame_get_encoder_delay`). */
const LAME_DELAY = 576;
/** Frames fed to LAME per call: bounds the WASM input and output buffers. */
const BLOCK = 16_384;

/** The MP3 rate a given input rate is encoded at: itself when legal, else the next legal rate up (48 kHz at most). */
export function mp3RateFor(rate: number): number {
  return MP3_RATES.find((r) => r >= rate) ?? 48_000;
}

/**
 * Frames and end padding LAME produces for `frames` input frames (derived from
 * `lame_encode_flush`: it pads to whole frames plus at least 576 samples so the last granule
 * decodes completely). Verified against ffmpeg and mpg123 in the tests.
 */
export function lameLayout(frames: number, rate: number): { frames: number; padding: number } {
  const perFrame = rate >= 32_000 ? 1152 : 576;
  let padding = perFrame - ((LAME_DELAY + frames) % perFrame);
  if (padding < 576) padding += perFrame;
  return { frames: (LAME_DELAY + frames + padding) / perFrame, padding };
}

class Mp3Encoder implements Encoder {
  readonly #input: EncoderInput;
  readonly #lame: LameEncoder;
  readonly #channels: number;
  readonly #expected: number | undefined;
  readonly #info: Mp3GaplessInfo | undefined;
  #fed = 0;
  #infoWritten = false;
  #ended = false;

  constructor(options: EncoderOptions) {
    const bitrate = options.bitrate ?? MP3_DEFAULT_BITRATE;
    if (!Number.isFinite(bitrate) || bitrate < 8_000 || bitrate > 320_000) {
      throw new CodecError('INVALID_OPTIONS', `mp3 bitrate must be 8000..320000 bit/s, got ${bitrate}`, {
        format: 'mp3',
      });
    }
    this.#input = encoderInput(options, 'mp3', mp3RateFor(options.rate), 2);
    const { rate, channels, expectedFrames } = this.#input;
    this.#channels = channels;
    this.#expected = expectedFrames;
    this.#lame = new LameEncoder({ channels: channels as 1 | 2, rate, kbps: Math.round(bitrate / 1000) });
    // Length unknown (a live stream): no Info frame. One without a frame count is not recognised
    // by ffmpeg (it decodes it as a silent frame and then trims 1105 samples: 47 samples off), and
    // earlier bytes cannot be rewritten at end().
    if (expectedFrames !== undefined) {
      const layout = lameLayout(expectedFrames, rate);
      this.#info = { frames: layout.frames, delay: LAME_DELAY, padding: layout.padding };
    }
  }

  write(pcm: Uint8Array): Uint8Array {
    if (this.#ended)
      throw new CodecError('ENCODER_ENDED', 'mp3 encoder written after end()', { format: 'mp3' });
    return this.#encode(this.#input.write(pcm));
  }

  end(): Uint8Array {
    if (this.#ended) throw new CodecError('ENCODER_ENDED', 'mp3 encoder ended twice', { format: 'mp3' });
    this.#ended = true;
    const parts = [this.#encode(this.#input.end())];
    if (this.#expected !== undefined && this.#fed < this.#expected) {
      // Fewer frames than promised: the Info frame is already out, so pad with silence to match it.
      parts.push(this.#encode(new Float32Array((this.#expected - this.#fed) * this.#channels)));
    }
    parts.push(this.#withInfo(this.#lame.flush()));
    return concatBytes(parts);
  }

  #encode(samples: Float32Array): Uint8Array {
    const channels = this.#channels;
    const frames = samples.length / channels;
    if (frames === 0) return new Uint8Array(0);
    if (this.#expected !== undefined && this.#fed + frames > this.#expected) {
      throw new CodecError(
        'INVALID_OPTIONS',
        `mp3 encoder got more than the ${this.#expected} frames announced by totalFrames`,
        { format: 'mp3' },
      );
    }
    this.#fed += frames;
    const parts: Uint8Array[] = [];
    for (let start = 0; start < frames; start += BLOCK) {
      const n = Math.min(BLOCK, frames - start);
      const planes = this.#lame.input(n);
      if (channels === 1) {
        planes[0]!.set(samples.subarray(start, start + n));
      } else {
        const left = planes[0]!;
        const right = planes[1]!;
        for (let i = 0, j = start * 2; i < n; i++, j += 2) {
          left[i] = samples[j]!;
          right[i] = samples[j + 1]!;
        }
      }
      const out = this.#lame.encode(n);
      if (out.length > 0) parts.push(this.#withInfo(out));
    }
    return concatBytes(parts);
  }

  /** Puts the Info frame in front of the first bytes LAME produces (it copies their header). */
  #withInfo(out: Uint8Array): Uint8Array {
    if (this.#infoWritten || out.length === 0 || !this.#info) return out;
    this.#infoWritten = true;
    return concatBytes([buildInfoFrame(out, this.#info), out]);
  }
}

function corrupt(message: string, cause?: unknown): CodecError {
  return new CodecError('CORRUPT_INPUT', `mp3: ${message}`, { format: 'mp3', cause });
}

/** Bytes taken by a leading ID3v2 tag, 0 when there is none. */
function id3v2Size(data: Uint8Array): number {
  if (data.length < 10 || data[0] !== 0x49 || data[1] !== 0x44 || data[2] !== 0x33) return 0;
  const size =
    ((data[6]! & 0x7f) << 21) | ((data[7]! & 0x7f) << 14) | ((data[8]! & 0x7f) << 7) | (data[9]! & 0x7f);
  return 10 + size + (data[5]! & 0x10 ? 10 : 0);
}

/**
 * Walks every frame so damage is found before decoding: each frame must start where the last
 * one ended and fit in the file (a truncated last frame is an error); only an ID3v1 tag may follow.
 */
function checkStructure(data: Uint8Array): {
  frames: number;
  channels: number;
  info: Mp3GaplessInfo | undefined;
} {
  const start = id3v2Size(data);
  let offset = start;
  let frames = 0;
  let first: ReturnType<typeof parseFrameHeader>;
  while (offset < data.length) {
    if (
      data.length - offset === 128 &&
      data[offset] === 0x54 &&
      data[offset + 1] === 0x41 &&
      data[offset + 2] === 0x47
    ) {
      break; // ID3v1 "TAG"
    }
    const header = parseFrameHeader(data, offset);
    if (!header) throw corrupt(`no MPEG Layer III frame header at byte ${offset}`);
    if (first && (header.rate !== first.rate || header.channels !== first.channels)) {
      throw corrupt(`frame at byte ${offset} changes the stream from ${first.rate} Hz/${first.channels} ch`);
    }
    first ??= header;
    if (offset + header.size > data.length) {
      throw corrupt(
        `truncated: the frame at byte ${offset} needs ${header.size} bytes, ${data.length - offset} left`,
      );
    }
    offset += header.size;
    frames++;
  }
  if (frames === 0 || !first) throw corrupt(`no audio frames in ${data.length} bytes`);
  const info = start < data.length ? parseInfoFrame(data, start) : undefined;
  const audioFrames = info ? frames - 1 : frames;
  if (info?.frames !== undefined && info.frames !== audioFrames) {
    throw corrupt(
      `the Info frame announces ${info.frames} frames but the file holds ${audioFrames} (truncated?)`,
    );
  }
  return { frames: audioFrames, channels: first!.channels, info };
}

/**
 * Decodes a whole MP3 file with mpg123 (WASM, `mpg123-decoder`), trimming encoder delay and
 * padding when the file has a LAME/Info tag.
 * @throws {CodecError} `CORRUPT_INPUT` when the frame structure is damaged or truncated, or the
 * decoder reports errors.
 */
export async function decodeMp3(data: Uint8Array): Promise<DecodedAudio> {
  const structure = checkStructure(data);
  if (structure.frames === 0) throw corrupt('the file holds an Info frame but no audio');
  const { MPEGDecoder } = await import('mpg123-decoder');
  const decoder = new MPEGDecoder({ enableGapless: true });
  try {
    await decoder.ready;
    const result = decoder.decode(data);
    if (result.errors.length > 0) {
      const e = result.errors[0]!;
      throw corrupt(`${e.message} at frame ${e.frameNumber}, byte ${e.inputBytes}`);
    }
    // mpg123-decoder always returns two planes; a mono file's second one is a copy.
    const channels = Math.min(structure.channels, result.channelData.length);
    const frames = result.samplesDecoded;
    if (channels === 0 || frames === 0) throw corrupt('the decoder produced no audio');
    const samples = new Float32Array(frames * channels);
    for (let c = 0; c < channels; c++) {
      const plane = result.channelData[c]!;
      for (let i = 0, j = c; i < frames; i++, j += channels) samples[j] = plane[i]!;
    }
    return { rate: result.sampleRate, channels, samples, frames };
  } catch (error) {
    if (error instanceof CodecError) throw error;
    throw corrupt('the decoder failed', error);
  } finally {
    decoder.free();
  }
}

/**
 * The MP3 codec (`audio/mpeg`): libmp3lame (WASM) at constant bitrate, 128 kbit/s by default.
 * - Any sample format in; more than 2 channels are mixed down to stereo.
 * - Rates: 8, 11.025, 12, 16, 22.05, 24, 32, 44.1 and 48 kHz are encoded as they are; other
 *   rates are resampled to the next MP3 rate up (48 kHz at most).
 * - With `totalFrames` the first bytes are a LAME/Info frame with the frame count, encoder delay
 *   (576) and end padding, so decoders (ffmpeg, mpg123, browsers) return exactly the samples
 *   written. Without it (a live stream) there is none: decoders then return 1105 samples of
 *   delay (576 encoder + 529 decoder) first and up to 1 728 samples of padding last.
 * - Bitrate: 8 000–320 000 bit/s; LAME uses the nearest legal MPEG bitrate for the rate (at most
 *   160 kbit/s at 24 kHz and below).
 */
export const mp3Codec: Codec = {
  format: 'mp3',
  mimeType: 'audio/mpeg',
  extension: 'mp3',
  createEncoder: (options) => new Mp3Encoder(options),
  nativeShape: (options) => ({
    rate: mp3RateFor(options.rate),
    channels: Math.min(options.channels, 2),
    sampleFormat: 'float32',
  }),
  decode: decodeMp3,
};
