// The capture flags of `record` and `stream` (--device is resolved in audio-source.ts): parsed from
// text, checked with @audex/pcm's shape rules, turned into an AudioConfig.
import {
  type AudioConfig,
  MAX_RATE,
  resolveAudioConfig,
  type SampleFormat,
  sampleFormatProblem,
} from '@audex/pcm';
import { CliError } from './cli-error.js';
import { parseTimeOffset } from './time-value.js';

/** Capture flags shared by `record` and `stream`. */
export interface CaptureFlags {
  /** Device index or part of its name. */
  device?: string;
  /** Sample rate in Hz. */
  rate?: string;
  /** Channel count. */
  channels?: string;
  /** Capture sample format (`int16`, …). */
  sampleFormat?: string;
  /** Stop after this long (seconds or a clock value). */
  duration?: string;
}

function positiveInteger(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) {
    throw new CliError('USAGE', `${flag} "${value}" is not a positive whole number`);
  }
  return Number(value);
}

/** Lowest capture rate offered: below it no input device runs and the default chunk would exceed 10 s. */
const MIN_RATE = 8000;

function captureRate(value: string): number {
  const rate = positiveInteger(value, '--rate');
  if (rate < MIN_RATE || rate > MAX_RATE) {
    throw new CliError(
      'USAGE',
      `--rate ${rate} is out of range; use ${MIN_RATE} to ${MAX_RATE} Hz (e.g. 16000, 44100, 48000)`,
    );
  }
  return rate;
}

/** Builds and validates the capture config (device resolved separately). Throws CliError on a bad value. */
export function captureConfig(flags: CaptureFlags, inputDeviceIndex: number | null): AudioConfig {
  const sampleFormat = flags.sampleFormat;
  const problem =
    sampleFormat === undefined ? undefined : sampleFormatProblem(sampleFormat, '--sample-format');
  if (problem) throw new CliError('BAD_FORMAT', problem);
  const partial: Partial<AudioConfig> = {
    inputDeviceIndex,
    ...(sampleFormat !== undefined ? { sampleFormat: sampleFormat as SampleFormat } : {}),
    ...(flags.rate !== undefined ? { rate: captureRate(flags.rate) } : {}),
    ...(flags.channels !== undefined ? { channels: positiveInteger(flags.channels, '--channels') } : {}),
  };
  try {
    return resolveAudioConfig(partial);
  } catch (error) {
    throw new CliError('USAGE', error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** Parses `--duration` to milliseconds; `undefined` means "until Ctrl-C". */
export function durationMs(flags: CaptureFlags): number | undefined {
  if (flags.duration === undefined) return undefined;
  const seconds = parseTimeOffset(flags.duration, '--duration');
  if (seconds <= 0) throw new CliError('USAGE', `--duration "${flags.duration}" must be longer than 0`);
  return seconds * 1000;
}
