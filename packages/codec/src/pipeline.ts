/**
 * Owns the path from a capture's PCM to an encoded file: one PCM conversion (sample format,
 * channels and rate in one pass, at most one resampler) into the shape the codec encodes, then
 * the codec's encoder. The recorder's stream()/segment() output and transcode() use it.
 */
import { concatBytes, type PcmShape, type SampleFormat, shapeProblem } from '@audex/pcm';
import type { ResamplerQuality } from './dsp/resample.js';
import { createPcmTransform, type PcmTransform } from './dsp/transform.js';
import { CodecError } from './errors.js';
import { getCodec } from './registry.js';
import type { Codec, Encoder, HeaderPatch } from './types.js';

/** Options of {@link createEncoderPipeline}. */
export interface EncoderPipelineOptions {
  /** Shape of the PCM given to `write()` (a capture's `AudioConfig` fits). */
  from: PcmShape;
  /** Codec id of the output (`'wav'`, `'mp3'`, …), as registered. */
  format: string;
  /** Output rate in Hz; default `from.rate`. A codec that cannot encode it picks its own (MP3: the next legal rate up; Opus: 48 kHz). */
  rate?: number;
  /** Output channels; default `from.channels` (lossy codecs mix more than 2 down to stereo). */
  channels?: number;
  /** Output sample format for lossless codecs; default `from.sampleFormat`. Lossy codecs ignore it. */
  sampleFormat?: SampleFormat;
  /** Bitrate in bit/s for lossy codecs (codec default when absent). */
  bitrate?: number;
  /** Frames of `from` that will be written, when known: exact headers up front (WAV sizes, MP3 Info frame, FLAC STREAMINFO). */
  totalFrames?: number;
  /** Resampler quality when the rate changes; default `'high'`. */
  quality?: ResamplerQuality;
}

/** An {@link Encoder} fed in the capture's shape, plus what it produces. */
export interface EncoderPipeline extends Encoder {
  /** The codec encoding the output. */
  readonly codec: Codec;
  /** The shape the codec encodes (after the one conversion). */
  readonly shape: PcmShape;
  /** Frames the output holds when `totalFrames` was given (at `shape.rate`). */
  readonly outputFrames: number | undefined;
  /** Exactly as the codec's: patches for a streaming header after `end()`, `[]` when none. */
  headerPatches(): HeaderPatch[];
}

function sameShape(a: PcmShape, b: PcmShape): boolean {
  return a.rate === b.rate && a.channels === b.channels && a.sampleFormat === b.sampleFormat;
}

/**
 * Builds the pipeline `from` → one conversion → `format`'s encoder. The conversion goes straight
 * to the shape the codec encodes ({@link Codec.nativeShape}): a 48 kHz int16 capture streamed as
 * MP3 at 44.1 kHz is converted once to float32 at 44.1 kHz (one resampler) and handed to LAME
 * as is; a capture already in that shape is not touched.
 * @throws {CodecError} `UNKNOWN_FORMAT`, or `INVALID_OPTIONS` naming the bad value.
 */
export function createEncoderPipeline(options: EncoderPipelineOptions): EncoderPipeline {
  const { from, format, bitrate, totalFrames, quality } = options ?? ({} as EncoderPipelineOptions);
  const fromProblem = shapeProblem(from ?? ({} as PcmShape));
  if (fromProblem) throw new CodecError('INVALID_OPTIONS', `pipeline input: ${fromProblem.message}`);
  const codec = getCodec(format);
  const requested: PcmShape = {
    rate: options.rate ?? from.rate,
    channels: options.channels ?? from.channels,
    sampleFormat: options.sampleFormat ?? from.sampleFormat,
  };
  const problem = shapeProblem(requested);
  if (problem) throw new CodecError('INVALID_OPTIONS', `${format} output: ${problem.message}`, { format });
  if (totalFrames !== undefined && (!Number.isSafeInteger(totalFrames) || totalFrames < 0)) {
    throw new CodecError(
      'INVALID_OPTIONS',
      `totalFrames must be a non-negative integer, got ${totalFrames}`,
      {
        format,
      },
    );
  }
  const withBitrate = bitrate === undefined ? requested : { ...requested, bitrate };
  const shape = codec.nativeShape?.(withBitrate) ?? requested;
  // The transform's output is exactly round(frames × to / from) frames long.
  const outputFrames =
    totalFrames === undefined ? undefined : Math.round((totalFrames * shape.rate) / from.rate);
  const encoder = codec.createEncoder({
    ...shape,
    ...(bitrate === undefined ? {} : { bitrate }),
    ...(outputFrames === undefined ? {} : { totalFrames: outputFrames }),
  });
  const transform: PcmTransform | null = sameShape(from, shape)
    ? null
    : createPcmTransform({ from, to: shape, ...(quality ? { quality } : {}) });
  return {
    codec,
    shape,
    outputFrames,
    write: (pcm) => encoder.write(transform ? transform.write(pcm) : pcm),
    end() {
      if (!transform) return encoder.end();
      const tail = encoder.write(transform.end());
      return concatBytes([tail, encoder.end()]);
    },
    headerPatches: () => encoder.headerPatches?.() ?? [],
  };
}
