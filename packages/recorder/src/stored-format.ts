// The recorder's stored-format room: which file formats a recording may be stored as (the lossless
// ones: WAV, FLAC), checking the `storeFormat` option against the capture config, the key
// extension and content type of each, and reading the format back from a journal header (recovery
// stores a recording in the format it was recorded for). The files themselves are made in upload.ts.
import type { FrameBuffer } from '@audex/buffer';
import type { AudioConfig } from '@audex/pcm';
import { describeValue, RecorderError } from './errors.js';

/** Formats a recording can be stored as: the lossless ones. */
export const STORE_FORMATS = ['wav', 'flac'] as const;

/** A format a recording can be stored as (option `storeFormat`). */
export type StoreFormat = (typeof STORE_FORMATS)[number];

/** Sample formats FLAC stores bit for bit (int32 and float32 would be quantised to 24-bit). */
const FLAC_SAMPLE_FORMATS: readonly string[] = ['int8', 'int16', 'int24'];
/** FLAC's channel limit. */
const FLAC_MAX_CHANNELS = 8;

const FILE_FACTS: Readonly<Record<StoreFormat, { extension: string; contentType: string }>> = {
  wav: { extension: 'wav', contentType: 'audio/wav' },
  flac: { extension: 'flac', contentType: 'audio/flac' },
};

/**
 * Checks `storeFormat` (default `'wav'`) against the capture config.
 * @throws {RecorderError} `INVALID_OPTIONS` (field `storeFormat`) for a format that is not stored
 *   losslessly, or FLAC for a capture it cannot hold bit for bit (int32/float32, more than 8 channels).
 */
export function resolveStoreFormat(value: unknown, config: Readonly<AudioConfig>): StoreFormat {
  const format = value ?? 'wav';
  if (!STORE_FORMATS.includes(format as StoreFormat)) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `storeFormat must be ${STORE_FORMATS.map((f) => `'${f}'`).join(' or ')} (the stored file is the recording, so only lossless formats), got ${describeValue(format)}; use stream() or segment() for other formats`,
      { field: 'storeFormat' },
    );
  }
  if (format === 'flac') {
    if (!FLAC_SAMPLE_FORMATS.includes(config.sampleFormat)) {
      throw new RecorderError(
        'INVALID_OPTIONS',
        `storeFormat 'flac' stores int8, int16 and int24 captures bit for bit; a ${config.sampleFormat} capture would be quantised to 24-bit and lose what was recorded: capture sampleFormat 'int24' or store 'wav'`,
        { field: 'storeFormat' },
      );
    }
    if (config.channels > FLAC_MAX_CHANNELS) {
      throw new RecorderError(
        'INVALID_OPTIONS',
        `storeFormat 'flac' holds at most ${FLAC_MAX_CHANNELS} channels, the capture has ${config.channels}: store 'wav'`,
        { field: 'storeFormat' },
      );
    }
  }
  return format as StoreFormat;
}

/** File name extension of a stored format (`'wav'`, `'flac'`). */
export function storedExtension(format: StoreFormat): string {
  return FILE_FACTS[format].extension;
}

/** Metadata `content_type` of a stored format (`'audio/wav'`, `'audio/flac'`). */
export function storedContentType(format: StoreFormat): string {
  return FILE_FACTS[format].contentType;
}

/**
 * The format a recording's journal says it is stored as (`storeFormat` in its header); `'wav'`
 * for journals written before the option existed.
 */
export function storeFormatOf(buffer: Pick<FrameBuffer, 'meta'>): StoreFormat {
  const format = buffer.meta?.storeFormat;
  return format === 'flac' ? 'flac' : 'wav';
}
