/**
 * Owns the input side of the lossy encoders (MP3, Opus): option checks and the conversion of
 * written PCM to float32 at the rate and channel count their library takes.
 */
import { bytesPerFrame, shapeProblem, toFloat32 } from '@audex/pcm';
import { WholeFrames } from '../dsp/_whole-frames.js';
import { createPcmTransform, type PcmTransform } from '../dsp/transform.js';
import { CodecError } from '../errors.js';
import type { EncoderOptions } from '../types.js';

/**
 * The input side of the lossy encoders (MP3, Opus): validates the options once, then turns
 * written bytes of any sample format, rate and channel count into interleaved float32 at the
 * rate and channel count the encoder library accepts (band-limited resampling, default mix).
 */
export interface EncoderInput {
  /** Rate fed to the encoder library, Hz. */
  readonly rate: number;
  /** Channels fed to the encoder library (1 or 2). */
  readonly channels: number;
  /** Frames the encoder library will get in total, when `totalFrames` was given. */
  readonly expectedFrames: number | undefined;
  /** Converts bytes; returns the float frames ready so far (partial frames are held back). */
  write(pcm: Uint8Array): Float32Array;
  /** Flushes the resampler; returns the last frames. */
  end(): Float32Array;
}

const EMPTY = new Float32Array(0);

function floats(bytes: Uint8Array): Float32Array {
  if (bytes.length === 0) return EMPTY;
  // Fresh output of the transform starts at offset 0 of its buffer, so it is aligned.
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return new Float32Array(new Uint8Array(bytes).buffer);
}

/**
 * Validates `options` for `format` and builds its input converter.
 * @param targetRate the rate the library will be fed.
 * @param maxChannels more input channels than this are mixed down to it.
 * @throws {CodecError} `INVALID_OPTIONS` naming the bad value.
 */
export function encoderInput(
  options: EncoderOptions,
  format: string,
  targetRate: number,
  maxChannels: number,
): EncoderInput {
  const { rate, channels, sampleFormat, totalFrames } = options ?? {};
  const problem = shapeProblem({ rate, channels, sampleFormat });
  if (problem) throw new CodecError('INVALID_OPTIONS', `${format} ${problem.message}`, { format });
  if (totalFrames !== undefined && (!Number.isSafeInteger(totalFrames) || totalFrames < 0)) {
    throw new CodecError(
      'INVALID_OPTIONS',
      `${format} totalFrames must be a non-negative integer, got ${totalFrames}`,
      { format },
    );
  }
  const outChannels = Math.min(channels, maxChannels);
  const expectedFrames =
    totalFrames === undefined ? undefined : Math.round((totalFrames * targetRate) / rate);
  if (rate === targetRate && channels === outChannels) {
    // Nothing to mix or resample: one conversion straight to float (measured: the general
    // transform's float→bytes→float round trip cost MP3 at 48 kHz stereo ~10% of its speed).
    const frameBytes = bytesPerFrame(sampleFormat, channels);
    const frames = new WholeFrames(frameBytes);
    return {
      rate,
      channels,
      expectedFrames,
      write(pcm) {
        const whole = frames.take(pcm);
        if (whole.length === 0) return EMPTY;
        // Float input is used in place: the encoders copy each sample out before write() returns.
        return sampleFormat === 'float32' ? floats(whole) : toFloat32(whole, sampleFormat);
      },
      end() {
        if (frames.pendingBytes > 0) {
          throw new CodecError(
            'CORRUPT_INPUT',
            `${format} input ended with ${frames.pendingBytes} bytes, not a whole ${frameBytes}-byte frame`,
            { format },
          );
        }
        return EMPTY;
      },
    };
  }
  const transform: PcmTransform = createPcmTransform({
    from: { rate, channels, sampleFormat },
    to: { rate: targetRate, channels: outChannels, sampleFormat: 'float32' },
  });
  return {
    rate: targetRate,
    channels: outChannels,
    expectedFrames,
    write: (pcm) => floats(transform.write(pcm)),
    end: () => floats(transform.end()),
  };
}
