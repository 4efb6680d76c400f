/**
 * Owns the `opus` codec: Ogg Opus encoding with libopus (pre-skip, final granule) and whole-file
 * decoding.
 */
import { concatBytes } from '@audex/pcm';
import { Decoder as OpusDecoder, Encoder as OpusEncoder } from '@evan/opus';
import { CodecError } from '../errors.js';
import type { Codec, DecodedAudio, Encoder, EncoderOptions } from '../types.js';
import { type EncoderInput, encoderInput } from './_lossy-input.js';
import { OGG_BOS, OGG_EOS, OggPageWriter, readOggPackets } from './ogg.js';

/** Default Opus bitrate, bit/s (the reference's 64 kbit/s). */
export const OPUS_DEFAULT_BITRATE = 64_000;
/** The rates libopus runs at; others are resampled to 48 kHz. */
export const OPUS_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

/** 20 ms frames: the Opus default and what `opusenc` uses. */
const FRAME_MS = 20;
/** Granule positions always count 48 kHz samples. */
const GRANULE_RATE = 48_000;
/** At most 1 s of audio per Ogg page (opusenc's default `--max-delay`). */
const MAX_PACKETS_PER_PAGE = 1000 / FRAME_MS;

function opusHead(channels: number, preSkip: number, inputRate: number): Uint8Array {
  const head = new Uint8Array(19);
  const view = new DataView(head.buffer);
  head.set(new TextEncoder().encode('OpusHead'));
  head[8] = 1; // version
  head[9] = channels;
  view.setUint16(10, preSkip, true);
  view.setUint32(12, inputRate, true); // the ORIGINAL rate, as opusenc declares it
  view.setInt16(16, 0, true); // output gain
  head[18] = 0; // channel mapping family 0: mono or stereo
  return head;
}

function opusTags(): Uint8Array {
  const vendor = new TextEncoder().encode('@audex/codec (libopus)');
  const tags = new Uint8Array(8 + 4 + vendor.length + 4);
  const view = new DataView(tags.buffer);
  tags.set(new TextEncoder().encode('OpusTags'));
  view.setUint32(8, vendor.length, true);
  tags.set(vendor, 12);
  view.setUint32(12 + vendor.length, 0, true); // no user comments
  return tags;
}

class OggOpusEncoder implements Encoder {
  readonly #input: EncoderInput;
  readonly #opus: OpusEncoder;
  readonly #ogg: OggPageWriter;
  readonly #frame: Int16Array;
  readonly #frameBytes: Uint8Array;
  /** 48 kHz samples per packet. */
  readonly #packetGranules: bigint;
  readonly #head: Uint8Array;
  readonly #preSkip: number;
  #fill = 0;
  /** Frames (at the encoder rate) given to libopus, not counting end padding. */
  #fed = 0;
  #granule = 0n;
  #headersWritten = false;
  #ended = false;

  constructor(options: EncoderOptions) {
    const bitrate = options?.bitrate ?? OPUS_DEFAULT_BITRATE;
    if (!Number.isFinite(bitrate) || bitrate < 6_000 || bitrate > 510_000) {
      throw new CodecError('INVALID_OPTIONS', `opus bitrate must be 6000..510000 bit/s, got ${bitrate}`, {
        format: 'opus',
      });
    }
    const native = OPUS_RATES.includes(options?.rate) ? options.rate : GRANULE_RATE;
    this.#input = encoderInput(options, 'opus', native, 2);
    const { rate, channels } = this.#input;
    this.#opus = new OpusEncoder({
      channels: channels as 1 | 2,
      sample_rate: rate as 48000,
      application: 'audio',
    });
    this.#opus.bitrate = Math.round(bitrate);
    const frameSize = (rate * FRAME_MS) / 1000;
    this.#frame = new Int16Array(frameSize * channels);
    this.#frameBytes = new Uint8Array(this.#frame.buffer);
    this.#packetGranules = BigInt((GRANULE_RATE * FRAME_MS) / 1000);
    // OPUS_GET_LOOKAHEAD is in samples at the encoder rate; pre-skip is in 48 kHz samples.
    const lookahead = this.#opus.ctl(4027);
    this.#preSkip = (lookahead * GRANULE_RATE) / rate;
    this.#head = opusHead(channels, this.#preSkip, options.rate);
    this.#ogg = new OggPageWriter((Math.random() * 0x1_0000_0000) >>> 0);
  }

  write(pcm: Uint8Array): Uint8Array {
    if (this.#ended)
      throw new CodecError('ENCODER_ENDED', 'opus encoder written after end()', { format: 'opus' });
    const packets: Uint8Array[] = [];
    const granules: bigint[] = [];
    this.#push(this.#input.write(pcm), packets, granules);
    return this.#emit(packets, granules, 0);
  }

  end(): Uint8Array {
    if (this.#ended) throw new CodecError('ENCODER_ENDED', 'opus encoder ended twice', { format: 'opus' });
    this.#ended = true;
    const packets: Uint8Array[] = [];
    const granules: bigint[] = [];
    this.#push(this.#input.end(), packets, granules);
    const ratio = BigInt(GRANULE_RATE / this.#input.rate);
    const finalGranule = BigInt(this.#preSkip) + BigInt(this.#fed) * ratio;
    // Feed silence until every real sample has come out of the encoder's look-ahead; the final
    // granule position then tells decoders where the real audio ends.
    while (this.#granule < finalGranule || packets.length === 0) {
      this.#frame.fill(0, this.#fill);
      this.#fill = this.#frame.length;
      this.#encodeFrame(packets, granules);
    }
    granules[granules.length - 1] = finalGranule;
    return this.#emit(packets, granules, OGG_EOS);
  }

  #push(samples: Float32Array, packets: Uint8Array[], granules: bigint[]): void {
    const frame = this.#frame;
    this.#fed += samples.length / this.#input.channels;
    let i = 0;
    while (i < samples.length) {
      const n = Math.min(frame.length - this.#fill, samples.length - i);
      for (let k = 0; k < n; k++) {
        const s = samples[i + k]! * 32768;
        frame[this.#fill + k] = s >= 32767 ? 32767 : s <= -32768 ? -32768 : Math.round(s);
      }
      this.#fill += n;
      i += n;
      if (this.#fill === frame.length) this.#encodeFrame(packets, granules);
    }
  }

  #encodeFrame(packets: Uint8Array[], granules: bigint[]): void {
    // The native binding returns a fresh copy of the packet.
    packets.push(this.#opus.encode(this.#frameBytes));
    this.#granule += this.#packetGranules;
    granules.push(this.#granule);
    this.#fill = 0;
  }

  #emit(packets: Uint8Array[], granules: bigint[], lastFlags: number): Uint8Array {
    const pages: Uint8Array[] = [];
    if (!this.#headersWritten) {
      this.#headersWritten = true;
      // OpusHead alone on the first page, OpusTags on its own page: RFC 7845 section 3.
      pages.push(this.#ogg.page([this.#head], 0n, OGG_BOS), this.#ogg.page([opusTags()], 0n));
    }
    pages.push(...this.#ogg.pages(packets, granules, MAX_PACKETS_PER_PAGE, lastFlags));
    return concatBytes(pages);
  }
}

function corrupt(message: string, cause?: unknown): CodecError {
  return new CodecError('CORRUPT_INPUT', `opus: ${message}`, { format: 'opus', cause });
}

/**
 * Decodes a whole Ogg Opus file with libopus (`@evan/opus`), honouring pre-skip and the final
 * granule position. The output rate is the input rate declared in OpusHead when libopus can
 * decode at it (8/12/16/24/48 kHz), else 48 kHz.
 * @throws {CodecError} `CORRUPT_INPUT` for a damaged or truncated stream (Ogg CRC, missing
 * pages, no end-of-stream page, bad headers, packets libopus rejects); channel mapping
 * families other than 0 are also reported as `CORRUPT_INPUT` (unsupported).
 */
export async function decodeOggOpus(data: Uint8Array): Promise<DecodedAudio> {
  const packets = readOggPackets(data, 'opus');
  const head = packets[0]?.data;
  if (!head || head.length < 19 || new TextDecoder().decode(head.subarray(0, 8)) !== 'OpusHead') {
    throw corrupt('the first packet is not an OpusHead header');
  }
  if (head[8]! >> 4 !== 0) throw corrupt(`unsupported OpusHead version ${head[8]}`);
  const channels = head[9]!;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const preSkip = view.getUint16(10, true);
  const inputRate = view.getUint32(12, true);
  if (head[18] !== 0 || channels < 1 || channels > 2) {
    throw corrupt(
      `channel mapping family ${head[18]} with ${channels} channels is not supported (family 0, 1–2 channels)`,
    );
  }
  const tags = packets[1]?.data;
  if (!tags || new TextDecoder().decode(tags.subarray(0, 8)) !== 'OpusTags') {
    throw corrupt('the second packet is not an OpusTags header');
  }
  const rate = OPUS_RATES.includes(inputRate) ? inputRate : GRANULE_RATE;
  const scale = GRANULE_RATE / rate;
  const lastGranule = packets[packets.length - 1]!.granule;
  const total = Number(lastGranule) - preSkip;
  if (packets.length < 3 || total < 0) throw corrupt('the stream holds no audio packets');
  const decoder = new OpusDecoder({ channels: channels as 1 | 2, sample_rate: rate as 48000 });
  const chunks: Int16Array[] = [];
  let decoded = 0;
  try {
    for (let i = 2; i < packets.length; i++) {
      const pcm = decoder.decode(packets[i]!.data);
      const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2);
      chunks.push(samples);
      decoded += samples.length / channels;
    }
  } catch (error) {
    throw corrupt('libopus rejected a packet', error);
  }
  const skip = Math.round(preSkip / scale);
  const frames = Math.floor(total / scale);
  if (skip + frames > decoded) {
    throw corrupt(
      `the final granule position promises ${frames} frames after pre-skip, the packets hold ${decoded - skip}`,
    );
  }
  const samples = new Float32Array(frames * channels);
  let position = 0; // interleaved samples seen so far
  const from = skip * channels;
  const to = from + samples.length;
  for (const chunk of chunks) {
    const start = Math.max(from, position);
    const stop = Math.min(to, position + chunk.length);
    for (let k = start; k < stop; k++) samples[k - from] = chunk[k - position]! / 32768;
    position += chunk.length;
    if (position >= to) break;
  }
  return { rate, channels, samples, frames };
}

/**
 * The Ogg Opus codec (`audio/ogg; codecs=opus`): libopus through `@evan/opus` (native binary,
 * WASM fallback), 20 ms frames, 64 kbit/s by default, with its own Ogg page writer.
 * - Any sample format in; more than 2 channels are mixed down to stereo (no mapping family 1).
 * - 8/12/16/24/48 kHz are encoded as they are; other rates are resampled to 48 kHz, and OpusHead
 *   declares the original rate, as `opusenc` does.
 * - Pre-skip is the encoder look-ahead; the final granule position trims the end padding, so
 *   decoders return exactly the samples written (at 48 kHz, or at the native rate for ours).
 * - Each `write()` returns whole Ogg pages (the headers first), at most 1 s of audio per page,
 *   so streamed chunks are playable as they arrive.
 * - Bitrate: 6 000–510 000 bit/s.
 */
export const opusCodec: Codec = {
  format: 'opus',
  mimeType: 'audio/ogg; codecs=opus',
  extension: 'opus',
  createEncoder: (options) => new OggOpusEncoder(options),
  nativeShape: (options) => ({
    rate: OPUS_RATES.includes(options.rate) ? options.rate : GRANULE_RATE,
    channels: Math.min(options.channels, 2),
    sampleFormat: 'float32',
  }),
  decode: decodeOggOpus,
};
