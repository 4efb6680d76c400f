/**
 * Owns `createPcmTransform`: sample format, channel count and rate converted in one streaming pass.
 */
import {
  bytesPerFrame,
  fromFloat32,
  type PcmShape,
  type SampleFormat,
  shapeProblem,
  toFloat32,
} from '@audex/pcm';
import { CodecError } from '../errors.js';
import { WholeFrames } from './_whole-frames.js';
import { type MixMatrix, mixChannels } from './mix.js';
import { createResampler, type Resampler, type ResamplerQuality } from './resample.js';

export type { PcmShape };

/** Options of {@link createPcmTransform}. */
export interface PcmTransformOptions {
  /** Shape of the bytes given to `write()`. */
  from: PcmShape;
  /** Shape of the bytes returned. */
  to: PcmShape;
  /** Resampler quality when the rates differ; default `'high'`. */
  quality?: ResamplerQuality;
  /** Channel mix matrix (`matrix[out][in]`); default {@link defaultMixMatrix}. */
  matrix?: MixMatrix;
}

/** A streaming PCM converter: sample format, channel count and rate in one pass. */
export interface PcmTransform {
  /**
   * Converts bytes in the `from` shape; returns bytes in the `to` shape ready so far. A partial
   * frame at the end is kept for the next call.
   * @throws {CodecError} `ENCODER_ENDED` after `end()`.
   */
  write(pcm: Uint8Array): Uint8Array;
  /**
   * Flushes the resampler and returns the last bytes; the total output is exactly
   * `round(inputFrames × to.rate / from.rate)` frames.
   * @throws {CodecError} `CORRUPT_INPUT` when a partial frame is left over.
   */
  end(): Uint8Array;
}

function checkShape(name: string, shape: PcmShape): void {
  const problem = shapeProblem(shape, `${name}.`);
  if (problem) throw new CodecError('INVALID_OPTIONS', problem.message);
}

/**
 * Creates a streaming converter: sample format → float → channel mix → resample → sample format.
 * When channels shrink they are mixed before resampling (less work), otherwise after.
 * Identical shapes pass bytes through (copied, partial frames still held back).
 * @throws {CodecError} `INVALID_OPTIONS` for a bad shape, quality or matrix.
 */
export function createPcmTransform(options: PcmTransformOptions): PcmTransform {
  const { from, to, matrix } = options;
  checkShape('from', from);
  checkShape('to', to);
  const frameBytes = bytesPerFrame(from.sampleFormat, from.channels);
  const resampler: Resampler | null =
    from.rate === to.rate
      ? null
      : createResampler({
          fromRate: from.rate,
          toRate: to.rate,
          channels: Math.min(from.channels, to.channels),
          ...(options.quality ? { quality: options.quality } : {}),
        });
  const mixFirst = to.channels < from.channels;
  const remixing = from.channels !== to.channels || matrix !== undefined;
  if (matrix) mixChannels(new Float32Array(from.channels), from.channels, to.channels, matrix);
  const identity = !resampler && !remixing && from.sampleFormat === to.sampleFormat;
  const wholeFrames = new WholeFrames(frameBytes);
  let ended = false;

  const convert = (floats: Float32Array): Uint8Array => {
    let x = floats;
    if (remixing && mixFirst) x = mixChannels(x, from.channels, to.channels, matrix);
    if (resampler) x = resampler.process(x);
    if (remixing && !mixFirst) x = mixChannels(x, from.channels, to.channels, matrix);
    return floatBytes(x, to.sampleFormat);
  };

  return {
    write(pcm) {
      if (ended) throw new CodecError('ENCODER_ENDED', 'PCM transform written after end()');
      const frames = wholeFrames.take(pcm);
      if (frames.length === 0) return new Uint8Array(0);
      if (identity) return new Uint8Array(frames);
      return convert(toFloat32(frames, from.sampleFormat));
    },
    end() {
      if (ended) throw new CodecError('ENCODER_ENDED', 'PCM transform ended twice');
      ended = true;
      if (wholeFrames.pendingBytes > 0) {
        throw new CodecError(
          'CORRUPT_INPUT',
          `PCM stream ended with ${wholeFrames.pendingBytes} bytes, not a whole ${frameBytes}-byte frame`,
        );
      }
      if (!resampler) return new Uint8Array(0);
      let x = resampler.flush();
      if (remixing && !mixFirst) x = mixChannels(x, from.channels, to.channels, matrix);
      return floatBytes(x, to.sampleFormat);
    },
  };
}

/** `x` (a fresh array this transform owns) as bytes in `format`: float32 is used in place. */
function floatBytes(x: Float32Array, format: SampleFormat): Uint8Array {
  if (format === 'float32') return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return fromFloat32(x, format);
}
