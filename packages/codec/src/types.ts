/**
 * Owns the codec plug point's types: Codec, Encoder, StreamDecoder and their options.
 */
import type { PcmShape, SampleFormat } from '@audex/pcm';

/** Options every encoder is created with. */
export interface EncoderOptions {
  /** Sample rate of the PCM given to `write()`, in Hz. */
  rate: number;
  /** Interleaved channels of the PCM given to `write()`. */
  channels: number;
  /** Sample format of the PCM given to `write()`. */
  sampleFormat: SampleFormat;
  /** Target bitrate in bit/s for lossy codecs (MP3 default 128 000, Opus default 64 000). */
  bitrate?: number;
  /**
   * Total frames that will be written, when known in advance (a segment, a stored recording).
   * Lets containers write exact lengths up front (WAV sizes, RF64) without seeking back.
   */
  totalFrames?: number;
}

/**
 * Bytes to write over an encoder's output once its last byte is out: a header field the encoder
 * could not know when it wrote the header (a size, a frame count, a checksum). A patch whose
 * offset is the output's length appends (e.g. WAV's pad byte).
 */
export interface HeaderPatch {
  /** Byte offset from the start of the output. */
  offset: number;
  /** The bytes to write there. */
  bytes: Uint8Array;
}

/**
 * A streaming encoder: one instance takes PCM piece by piece; the concatenation of everything
 * `write()` and `end()` return is one valid file, gapless at the joins.
 *
 * When the length was not known up front (no `totalFrames`), the file is a streaming one (e.g. a
 * WAV that reads "to the end of the file"); an output that can seek (a file) is made exact by
 * writing {@link Encoder.headerPatches} over it after `end()` ({@link applyHeaderPatches}).
 */
export interface Encoder {
  /** Encodes interleaved samples in `options.sampleFormat`; returns the bytes ready so far (may be empty). */
  write(pcm: Uint8Array): Uint8Array;
  /** Flushes and finalises; returns the last bytes. The encoder cannot be written after this. */
  end(): Uint8Array;
  /**
   * After `end()`: the patches that make a seekable output exact (sizes and counts a streaming
   * header left open, the pad byte it could not write). Empty when the header was exact from the
   * start (`totalFrames` given) or the format needs none. Optional for third-party codecs.
   * @throws {CodecError} `INVALID_OPTIONS` before `end()`.
   */
  headerPatches?(): HeaderPatch[];
}

/** Decoded audio: interleaved float32 samples in [-1, 1]. */
export interface DecodedAudio {
  /** Sample rate in Hz. */
  rate: number;
  /** Interleaved channel count. */
  channels: number;
  /** Interleaved samples, `frames × channels` long. */
  samples: Float32Array;
  /** Frames per channel. */
  frames: number;
  /** Sample format stored in the source, for lossless formats (PCM, WAV); absent for lossy ones. */
  sampleFormat?: SampleFormat;
}

/**
 * Hints for decoders of headerless formats (`pcm` needs all three); formats with a header
 * ignore them.
 */
export interface DecodeOptions {
  /** Sample rate in Hz. */
  rate?: number;
  /** Interleaved channels. */
  channels?: number;
  /** Sample format of the bytes. */
  sampleFormat?: SampleFormat;
}

/** A codec: a format name, its MIME type and extension, an encoder factory and (optionally) a decoder. */
export interface Codec {
  /** Registry key, e.g. `'mp3'`. */
  readonly format: string;
  /** MIME type, e.g. `'audio/mpeg'`. */
  readonly mimeType: string;
  /** File extension without the dot, e.g. `'mp3'`. */
  readonly extension: string;
  /** Creates a fresh streaming encoder. Throws `CodecError` on unsupported options. */
  createEncoder(options: EncoderOptions): Encoder;
  /**
   * The PCM shape this codec's encoder works in when asked for `options` (rate, channels and
   * sample format of the output): fed exactly this shape it converts nothing. Lossy codecs answer
   * float32 at the rate and channel count their library encodes (MP3 44.1 kHz for a 44.1 kHz
   * request, 48 kHz for 37.8 kHz); lossless ones answer `options`' own shape. Used by
   * {@link createEncoderPipeline} so a capture is converted once. Absent: `options`' shape.
   */
  nativeShape?(options: EncoderOptions): PcmShape;
  /** Decodes a whole file to PCM. Throws `CodecError` with code `CORRUPT_INPUT` on damaged input. */
  decode?(data: Uint8Array, options?: DecodeOptions): Promise<DecodedAudio>;
  /**
   * Creates a streaming decoder (bounded memory whatever the file's length). Codecs without one
   * are decoded whole by `transcode()`.
   */
  createDecoder?(options?: DecodeOptions): StreamDecoder;
}

/** What a {@link StreamDecoder} found in the header. */
export interface StreamInfo {
  /** Shape of the PCM the decoder returns. */
  shape: PcmShape;
  /** Frames in the file when the header says, else `undefined` (a live stream). */
  frames: number | undefined;
}

/**
 * A streaming decoder: bytes of a file in any pieces → interleaved PCM in `info.shape`. Holds
 * at most a header and one partial frame or block.
 */
export interface StreamDecoder {
  /** The header's facts, once it has been read (`null` before). Set before the first PCM is returned. */
  readonly info: StreamInfo | null;
  /**
   * Feeds the next bytes of the file; returns the PCM decoded so far (may be empty).
   * @throws {CodecError} `CORRUPT_INPUT` for damaged input; `ENCODER_ENDED` after `end()`.
   */
  write(bytes: Uint8Array): Uint8Array;
  /**
   * After the last bytes: the remaining PCM.
   * @throws {CodecError} `CORRUPT_INPUT` when the file was cut short (no header, or fewer frames than declared).
   */
  end(): Uint8Array;
}
