// Part of the output room: which codec and shape a stream()/segment() asks for (validated against
// the registry and the capture config), and the codec pipeline that makes it: one PCM conversion
// straight into the shape the codec encodes, then its encoder (@audex/codec createEncoderPipeline).
import {
  type Codec,
  createEncoderPipeline,
  createPcmTransform,
  type Encoder,
  type EncoderPipeline,
  getCodec,
  type PcmShape,
} from '@audex/codec';
import { type AudioConfig, shapeProblem } from '@audex/pcm';
import { describeValue, RecorderError } from './errors.js';
import type { OutputOptions } from './types.js';

/** A validated output: which codec, the PCM shape asked for, the bitrate. */
export interface OutputSpec {
  readonly codec: Codec;
  readonly shape: PcmShape;
  readonly bitrate: number | undefined;
}

/** A streaming converter from the capture shape to an output shape. */
export interface PcmConverter {
  write(pcm: Uint8Array): Uint8Array;
  end(): Uint8Array;
}

const EMPTY = new Uint8Array(0);

const passThrough: PcmConverter = { write: (pcm) => pcm, end: () => EMPTY };

/**
 * Validates `stream()`/`segment()` output options against the registry and the capture config.
 * @throws {RecorderError} `INVALID_OPTIONS` naming the bad value and what is allowed.
 */
export function resolveOutput(
  options: OutputOptions,
  capture: Readonly<AudioConfig>,
  defaultFormat: string,
): OutputSpec {
  const format = options.format ?? defaultFormat;
  if (typeof format !== 'string') {
    throw new RecorderError('INVALID_OPTIONS', `format must be a string, got ${describeValue(format)}`, {
      field: 'format',
    });
  }
  let codec: Codec;
  try {
    codec = getCodec(format);
  } catch (error) {
    throw new RecorderError('INVALID_OPTIONS', (error as Error).message.replace(/^\[audex\/codec\] /, ''), {
      field: 'format',
      cause: error,
    });
  }
  const channels = options.channels ?? capture.channels;
  const rate = options.rate ?? capture.rate;
  const sampleFormat = options.sampleFormat ?? capture.sampleFormat;
  const shape = shapeProblem({ rate, channels, sampleFormat });
  if (shape) throw new RecorderError('INVALID_OPTIONS', shape.message, { field: shape.field });
  const bitrate = options.bitrate;
  if (bitrate !== undefined && !(Number.isInteger(bitrate) && bitrate > 0)) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `bitrate must be a positive integer of bit/s, got ${describeValue(bitrate)}`,
      { field: 'bitrate' },
    );
  }
  return { codec, shape: { rate, channels, sampleFormat }, bitrate };
}

function rejected(spec: OutputSpec, error: unknown): RecorderError {
  return new RecorderError(
    'INVALID_OPTIONS',
    `codec "${spec.codec.format}" rejected ${spec.shape.rate} Hz, ${spec.shape.channels} channel(s), ${spec.shape.sampleFormat}: ${(error as Error).message}`,
    { field: 'format', cause: error },
  );
}

/**
 * The codec pipeline from the capture's PCM to `spec`: at most one conversion (format, channels,
 * rate) into the shape the codec encodes, then its encoder. With `totalFrames` (capture frames that
 * will be written) the output is exact up front (WAV sizes, MP3 Info frame).
 * @throws {RecorderError} `INVALID_OPTIONS` when the codec refuses the shape.
 */
export function createOutputPipeline(
  capture: Readonly<AudioConfig>,
  spec: OutputSpec,
  totalFrames?: number,
): EncoderPipeline {
  try {
    return createEncoderPipeline({
      from: { rate: capture.rate, channels: capture.channels, sampleFormat: capture.sampleFormat },
      format: spec.codec.format,
      ...spec.shape,
      ...(spec.bitrate === undefined ? {} : { bitrate: spec.bitrate }),
      ...(totalFrames === undefined ? {} : { totalFrames }),
    });
  } catch (error) {
    throw rejected(spec, error);
  }
}

/**
 * A continuous converter from the capture shape to `spec`'s shape (identity when they match), for
 * outputs made of standalone files (each `'wav'` stream chunk is its own file).
 */
export function createConverter(capture: Readonly<AudioConfig>, spec: OutputSpec): PcmConverter {
  const { shape } = spec;
  if (
    shape.rate === capture.rate &&
    shape.channels === capture.channels &&
    shape.sampleFormat === capture.sampleFormat
  ) {
    return passThrough;
  }
  return createPcmTransform({
    from: { rate: capture.rate, channels: capture.channels, sampleFormat: capture.sampleFormat },
    to: shape,
  });
}

/**
 * An encoder of `spec`'s codec for PCM already in `spec.shape` (a standalone file of
 * `totalFrames` frames).
 * @throws {RecorderError} `INVALID_OPTIONS` when the codec refuses the shape.
 */
export function createShapeEncoder(spec: OutputSpec, totalFrames: number): Encoder {
  try {
    return spec.codec.createEncoder({
      ...spec.shape,
      ...(spec.bitrate === undefined ? {} : { bitrate: spec.bitrate }),
      totalFrames,
    });
  } catch (error) {
    throw rejected(spec, error);
  }
}

/**
 * Runs one encoding step, turning a codec's (or the transform's) exception into a
 * `RecorderError` `ENCODE_FAILED` naming the format.
 */
export function encoding<T>(spec: OutputSpec, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof RecorderError) throw error;
    throw new RecorderError(
      'ENCODE_FAILED',
      `encoding to "${spec.codec.format}" (${spec.shape.rate} Hz, ${spec.shape.channels} ch, ${spec.shape.sampleFormat}) failed: ${(error as Error).message}`,
      { field: 'format', cause: error },
    );
  }
}
