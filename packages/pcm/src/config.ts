import { PcmError } from './errors.js';
import { type AudioConfig, DEFAULT_AUDIO_CONFIG, SAMPLE_FORMATS, type SampleFormat } from './types.js';

/** Highest sample rate audex accepts, in Hz. */
export const MAX_RATE = 768_000;
/** Highest channel count audex accepts. */
export const MAX_CHANNELS = 64;

/** True when `value` is one of the five supported sample formats. */
export function isSampleFormat(value: unknown): value is SampleFormat {
  return typeof value === 'string' && (SAMPLE_FORMATS as readonly string[]).includes(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return `a value of type ${typeof value}`;
}

/**
 * Merges a partial config with {@link DEFAULT_AUDIO_CONFIG} and validates it once, at the edge.
 * Device indices are checked only for shape here; whether the device exists is the source's job.
 *
 * @throws {PcmError} `INVALID_CONFIG`, naming the bad value and what is allowed.
 */
export function resolveAudioConfig(partial: Partial<AudioConfig> = {}): Readonly<AudioConfig> {
  if (partial === null || typeof partial !== 'object') {
    throw new PcmError('INVALID_CONFIG', `config must be an object, got ${describe(partial)}`);
  }
  const config = { ...DEFAULT_AUDIO_CONFIG, ...stripUndefined(partial) };
  if (!isSampleFormat(config.format)) {
    throw new PcmError(
      'INVALID_CONFIG',
      `unsupported sample format ${describe(config.format)}; allowed: ${SAMPLE_FORMATS.join(', ')}`,
      { field: 'format' },
    );
  }
  if (!Number.isInteger(config.channels) || config.channels < 1 || config.channels > MAX_CHANNELS) {
    throw new PcmError(
      'INVALID_CONFIG',
      `channels must be an integer from 1 to ${MAX_CHANNELS}, got ${describe(config.channels)}`,
      { field: 'channels' },
    );
  }
  if (!Number.isInteger(config.rate) || config.rate < 1 || config.rate > MAX_RATE) {
    throw new PcmError(
      'INVALID_CONFIG',
      `rate must be an integer number of Hz from 1 to ${MAX_RATE}, got ${describe(config.rate)}`,
      { field: 'rate' },
    );
  }
  if (!Number.isInteger(config.chunk) || config.chunk < 1 || config.chunk > config.rate * 10) {
    throw new PcmError(
      'INVALID_CONFIG',
      `chunk must be an integer number of frames from 1 to ${config.rate * 10} (10 s), got ${describe(config.chunk)}`,
      { field: 'chunk' },
    );
  }
  if (
    config.inputDeviceIndex !== null &&
    (!Number.isInteger(config.inputDeviceIndex) || config.inputDeviceIndex < 0)
  ) {
    throw new PcmError(
      'INVALID_CONFIG',
      `inputDeviceIndex must be null (the default input) or a device index >= 0, got ${describe(config.inputDeviceIndex)}`,
      { field: 'inputDeviceIndex' },
    );
  }
  return Object.freeze(config);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
