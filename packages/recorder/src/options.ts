// The recorder's options room: validates `new AudioRecorder(store, config, options)` once, at the
// edge, into the readonly `RecorderSettings` every other room trusts. Per-call options are parsed
// where they are used (`stream()`/`segment()` in output.ts, `stop()` in audio-recorder.ts).
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AudioSource } from '@audex/capture';
import { type AudioConfig, type AudioConfigInput, PcmError, resolveAudioConfig } from '@audex/pcm';
import type { Store } from '@audex/store';
import { describeValue, RecorderError } from './errors.js';
import { resolveStoreFormat, type StoreFormat } from './stored-format.js';
import type { AudioRecorderOptions, RecorderLogger } from './types.js';
import { resolveVad, type VadSettings } from './voice-model.js';

/** Everything the recorder was configured with, validated, defaults applied. */
export interface RecorderSettings {
  /** Where recordings are saved. */
  readonly store: Store;
  /** The capture config (defaults merged, `sampleFormat` spelling). */
  readonly config: Readonly<AudioConfig>;
  /** The source given in the options; `undefined` means the default PortAudio source, loaded lazily. */
  readonly source: AudioSource | undefined;
  /** Absolute spool directory. */
  readonly spoolDir: string;
  /** Most recent audio kept in RAM per recording, in ms. */
  readonly memoryMs: number;
  /** Journal flush + fsync period, in ms. */
  readonly flushIntervalMs: number;
  /** Upload attempts after the first failed one. */
  readonly uploadRetries: number;
  /** Delay before the first upload retry, in ms (doubled per retry). */
  readonly retryDelayMs: number;
  /** Whether `init()` recovers the spool. */
  readonly recoverOnInit: boolean;
  /** Where the recorder logs (silent by default). */
  readonly logger: RecorderLogger;
  /** Voice activity settings, or `undefined` when `vad` is off. */
  readonly vad: VadSettings | undefined;
  /** Frames after which a recording's capture ends by itself (`maxDurationMs`); `Infinity` for no limit. */
  readonly maxFrames: number;
  /** The format recordings are stored as (`'wav'` or `'flac'`). */
  readonly storeFormat: StoreFormat;
}

/** The logger used when none is given. */
export const SILENT_LOGGER: RecorderLogger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

/**
 * Validates the constructor's arguments, in order: store, config, options.
 * @throws {RecorderError} `INVALID_OPTIONS` for a bad store or option, `INVALID_CONFIG` for a bad
 *   config (its `cause` is the `PcmError`).
 */
export function resolveSettings(
  store: Store,
  config: AudioConfigInput,
  options: AudioRecorderOptions,
): RecorderSettings {
  if (
    store === null ||
    typeof store !== 'object' ||
    typeof store.upload !== 'function' ||
    typeof store.keyBuilder?.build !== 'function'
  ) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `store must implement the Store interface (keyBuilder, upload, …), got ${describeValue(store)}`,
      { field: 'store' },
    );
  }
  let audioConfig: AudioConfig;
  try {
    audioConfig = resolveAudioConfig(config);
  } catch (error) {
    if (error instanceof PcmError) {
      throw new RecorderError('INVALID_CONFIG', error.message.replace(/^\[audex\/pcm\] /, ''), {
        cause: error,
        ...(error.field ? { field: error.field } : {}),
      });
    }
    throw error;
  }
  if (options === null || typeof options !== 'object') {
    throw new RecorderError('INVALID_OPTIONS', `options must be an object, got ${describeValue(options)}`);
  }
  const { source } = options;
  if (
    source !== undefined &&
    (source === null ||
      typeof source.start !== 'function' ||
      typeof source.stop !== 'function' ||
      typeof source.listInputDevices !== 'function')
  ) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      'source must implement AudioSource (listInputDevices, start, stop)',
      { field: 'source' },
    );
  }
  const logger = options.logger ?? SILENT_LOGGER;
  for (const method of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger?.[method] !== 'function') {
      throw new RecorderError('INVALID_OPTIONS', `logger must have a ${method}() method (pino-compatible)`, {
        field: 'logger',
      });
    }
  }
  const spoolDir = options.spoolDir ?? join(tmpdir(), 'audex-spool');
  if (typeof spoolDir !== 'string' || spoolDir.length === 0 || spoolDir.includes('\0')) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `spoolDir must be a non-empty path, got ${describeValue(spoolDir)}`,
      { field: 'spoolDir' },
    );
  }
  const number = (
    field: keyof AudioRecorderOptions,
    fallback: number,
    min: number,
    max: number,
    integer: boolean,
  ): number => {
    const value = options[field] ?? fallback;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    ) {
      throw new RecorderError(
        'INVALID_OPTIONS',
        `${field} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${describeValue(value)}`,
        { field },
      );
    }
    return value;
  };
  const recoverOnInit = options.recoverOnInit ?? true;
  if (typeof recoverOnInit !== 'boolean') {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `recoverOnInit must be a boolean, got ${describeValue(recoverOnInit)}`,
      { field: 'recoverOnInit' },
    );
  }
  const vad = resolveVad(options.vad);
  const storeFormat = resolveStoreFormat(options.storeFormat, audioConfig);
  return Object.freeze({
    store,
    config: Object.freeze({ ...audioConfig }),
    source,
    spoolDir: resolve(spoolDir),
    memoryMs: number('memoryMs', 30_000, 1, 24 * 3_600_000, false),
    flushIntervalMs: number('flushIntervalMs', 500, 10, 1000, false),
    uploadRetries: number('uploadRetries', 3, 0, 20, true),
    retryDelayMs: number('retryDelayMs', 500, 0, 60_000, false),
    recoverOnInit,
    logger,
    vad,
    maxFrames:
      options.maxDurationMs === undefined
        ? Number.POSITIVE_INFINITY
        : Math.max(
            1,
            Math.round(
              (number('maxDurationMs', 0, 1, 366 * 24 * 3_600_000, false) / 1000) * audioConfig.rate,
            ),
          ),
    storeFormat,
  });
}
