// Owns the shape checks of PCM audio (sample rate, channel count, sample format, chunk length) and
// the one set of limits every audex package applies to them.
import { SAMPLE_FORMATS, type SampleFormat } from './types.js';

/** Lowest sample rate audex accepts, in Hz. */
export const MIN_RATE = 1;
/** Highest sample rate audex accepts, in Hz. */
export const MAX_RATE = 768_000;
/** Highest channel count audex accepts. */
export const MAX_CHANNELS = 64;
/** Longest chunk audex accepts, in seconds of audio at the chunk's rate. */
export const MAX_CHUNK_SECONDS = 10;

/** True when `value` is one of the five supported sample formats. */
export function isSampleFormat(value: unknown): value is SampleFormat {
  return typeof value === 'string' && (SAMPLE_FORMATS as readonly string[]).includes(value);
}

/** Describes a bad value for an error message: strings quoted, objects by type, never their contents. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
  if (Array.isArray(value)) return 'an array';
  return `a value of type ${typeof value}`;
}

/**
 * What is wrong with a sample rate, or `undefined` when it is an integer from {@link MIN_RATE} to
 * {@link MAX_RATE} Hz. The message names `name`, the bad value and what is allowed; callers throw it
 * with their own error class.
 */
export function rateProblem(value: unknown, name = 'rate'): string | undefined {
  if (Number.isInteger(value) && (value as number) >= MIN_RATE && (value as number) <= MAX_RATE)
    return undefined;
  return `${name} must be an integer number of Hz from ${MIN_RATE} to ${MAX_RATE}, got ${describeValue(value)}`;
}

/** What is wrong with a channel count, or `undefined` when it is an integer from 1 to {@link MAX_CHANNELS}. */
export function channelsProblem(value: unknown, name = 'channels'): string | undefined {
  if (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_CHANNELS)
    return undefined;
  return `${name} must be an integer from 1 to ${MAX_CHANNELS}, got ${describeValue(value)}`;
}

/** What is wrong with a sample format, or `undefined` when it is one of {@link SAMPLE_FORMATS}. */
export function sampleFormatProblem(value: unknown, name = 'sampleFormat'): string | undefined {
  if (isSampleFormat(value)) return undefined;
  return `${name} ${describeValue(value)} is not a supported sample format; allowed: ${SAMPLE_FORMATS.join(', ')}`;
}

/**
 * What is wrong with a chunk length in frames at `rate` Hz, or `undefined` when it is an integer from 1
 * to {@link MAX_CHUNK_SECONDS} seconds of audio.
 */
export function chunkFramesProblem(value: unknown, rate: number, name = 'chunk'): string | undefined {
  const max = rate * MAX_CHUNK_SECONDS;
  if (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max) return undefined;
  return `${name} must be an integer number of frames from 1 to ${max} (${MAX_CHUNK_SECONDS} s), got ${describeValue(value)}`;
}

/** The shape of interleaved PCM: what every encoder, decoder, resampler and buffer needs to know. */
export interface PcmShape {
  /** Frames per second, in Hz. */
  readonly rate: number;
  /** Interleaved channels. */
  readonly channels: number;
  /** Sample format of each sample. */
  readonly sampleFormat: SampleFormat;
}

/**
 * The first problem of a PCM shape, as `{ field, message }`, or `undefined` when rate, channels and
 * sample format are all valid. `prefix` is put before each field name in the message (e.g. `'input.'`).
 */
export function shapeProblem(
  shape:
    | { readonly rate?: unknown; readonly channels?: unknown; readonly sampleFormat?: unknown }
    | undefined,
  prefix = '',
): { field: 'rate' | 'channels' | 'sampleFormat'; message: string } | undefined {
  const s = shape ?? {};
  const sampleFormat = sampleFormatProblem(s.sampleFormat, `${prefix}sampleFormat`);
  if (sampleFormat) return { field: 'sampleFormat', message: sampleFormat };
  const rate = rateProblem(s.rate, `${prefix}rate`);
  if (rate) return { field: 'rate', message: rate };
  const channels = channelsProblem(s.channels, `${prefix}channels`);
  if (channels) return { field: 'channels', message: channels };
  return undefined;
}
