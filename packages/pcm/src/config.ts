// Owns AudioConfig resolution: the reference defaults merged with a partial config, validated once.
import { PcmError } from './errors.js';
import { chunkFramesProblem, describeValue, shapeProblem } from './shape.js';
import { type AudioConfig, type AudioConfigInput, DEFAULT_AUDIO_CONFIG } from './types.js';

/**
 * Merges a partial config with {@link DEFAULT_AUDIO_CONFIG} and validates it once, at the edge.
 * The reference's spelling `format` is accepted for the sample format (it must agree with
 * `sampleFormat` when both are given); the result only has `sampleFormat`.
 * Device indices are checked only for shape here; whether the device exists is the source's job.
 *
 * @throws {PcmError} `INVALID_CONFIG`, naming the bad value and what is allowed.
 */
export function resolveAudioConfig(partial: AudioConfigInput = {}): Readonly<AudioConfig> {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
    throw new PcmError('INVALID_CONFIG', `config must be an object, got ${describeValue(partial)}`);
  }
  const { format, ...rest } = stripUndefined(partial);
  if (format !== undefined && rest.sampleFormat !== undefined && format !== rest.sampleFormat) {
    throw new PcmError(
      'INVALID_CONFIG',
      `format ${describeValue(format)} and sampleFormat ${describeValue(rest.sampleFormat)} disagree; give one of them (format is the reference's name for sampleFormat)`,
      { field: 'sampleFormat' },
    );
  }
  const config: AudioConfig = {
    ...DEFAULT_AUDIO_CONFIG,
    ...rest,
    ...(format !== undefined && rest.sampleFormat === undefined ? { sampleFormat: format } : {}),
  };
  const shape = shapeProblem(config);
  if (shape) {
    const field =
      shape.field === 'sampleFormat' && format !== undefined && partial.sampleFormat === undefined
        ? 'format'
        : shape.field;
    throw new PcmError('INVALID_CONFIG', shape.message.replace(/^sampleFormat/, field), { field });
  }
  const chunk = chunkFramesProblem(config.chunk, config.rate);
  if (chunk) throw new PcmError('INVALID_CONFIG', chunk, { field: 'chunk' });
  if (
    config.inputDeviceIndex !== null &&
    (!Number.isInteger(config.inputDeviceIndex) || config.inputDeviceIndex < 0)
  ) {
    throw new PcmError(
      'INVALID_CONFIG',
      `inputDeviceIndex must be null (the default input) or a device index >= 0, got ${describeValue(config.inputDeviceIndex)}`,
      { field: 'inputDeviceIndex' },
    );
  }
  const unknown = Object.keys(rest).filter((k) => !(k in DEFAULT_AUDIO_CONFIG));
  if (unknown.length > 0) {
    throw new PcmError(
      'INVALID_CONFIG',
      `unknown config field ${describeValue(unknown[0])}; allowed: ${[...Object.keys(DEFAULT_AUDIO_CONFIG), 'format'].join(', ')}`,
      { field: unknown[0] },
    );
  }
  return Object.freeze(config);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
