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
import type {
  AudioRecorderOptions,
  ReconnectOptions,
  RecorderLogger,
  RotateOptions,
  SilenceOptions,
} from './types.js';
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
  /** Reconnect settings, or `undefined` when a lost device ends capture. */
  readonly reconnect: Readonly<Required<ReconnectOptions>> | undefined;
  /** Pre-roll in ms; 0 opens the input at `start()`. */
  readonly preRollMs: number;
  /** Rotation limits (`Infinity` when not set), or `undefined` without rotation. */
  readonly rotate: Readonly<Required<RotateOptions>> | undefined;
  /** Silence warning settings, or `undefined` when off. */
  readonly silence: Readonly<Required<SilenceOptions>> | undefined;
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
  ): number => checkNumber(field, options[field] ?? fallback, min, max, integer);
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
    reconnect: resolveReconnect(options.reconnect, source === undefined),
    preRollMs: number('preRollMs', 0, 0, 60_000, false),
    rotate: resolveRotate(options.rotate),
    silence: resolveSilence(options.silence),
  });
}

/** A number option in [min, max] (an integer if asked); `max` may be `Infinity`. */
function checkNumber(field: string, value: unknown, min: number, max: number, integer: boolean): number {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    (!Number.isFinite(value) && value !== max) ||
    value < min ||
    value > max ||
    (integer && Number.isFinite(value) && !Number.isInteger(value))
  ) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `${field} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${describeValue(value)}`,
      { field },
    );
  }
  return value;
}

/** An options object (or `undefined`), checked to be a plain object. */
function objectOption<T>(field: string, value: T | undefined, allowed: string): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') {
    throw new RecorderError('INVALID_OPTIONS', `${field} must be ${allowed}, got ${describeValue(value)}`, {
      field,
    });
  }
  return value;
}

/** `reconnect`: on by default for the built-in PortAudio source only. */
function resolveReconnect(
  value: ReconnectOptions | false | undefined,
  builtInSource: boolean,
): Readonly<Required<ReconnectOptions>> | undefined {
  if (value === false || (value === undefined && !builtInSource)) return undefined;
  const o = objectOption('reconnect', value, 'false or { giveUpAfterMs?, watchdogMs? }');
  return Object.freeze({
    giveUpAfterMs: checkNumber(
      'reconnect.giveUpAfterMs',
      o.giveUpAfterMs ?? 60_000,
      0,
      Number.POSITIVE_INFINITY,
      false,
    ),
    watchdogMs: checkNumber('reconnect.watchdogMs', o.watchdogMs ?? 1000, 100, 60_000, false),
  });
}

/** `rotate`: at least one limit. */
function resolveRotate(value: RotateOptions | undefined): Readonly<Required<RotateOptions>> | undefined {
  if (value === undefined) return undefined;
  const o = objectOption('rotate', value, '{ everyMs?, maxBytes? }');
  if (o.everyMs === undefined && o.maxBytes === undefined) {
    throw new RecorderError('INVALID_OPTIONS', 'rotate needs everyMs, maxBytes or both, got neither', {
      field: 'rotate',
    });
  }
  const inf = Number.POSITIVE_INFINITY;
  return Object.freeze({
    everyMs:
      o.everyMs === undefined ? inf : checkNumber('rotate.everyMs', o.everyMs, 1000, 366 * 86_400_000, false),
    maxBytes:
      o.maxBytes === undefined ? inf : checkNumber('rotate.maxBytes', o.maxBytes, 65_536, 2 ** 53, true),
  });
}

/** `silence`: on by default. */
function resolveSilence(
  value: SilenceOptions | false | undefined,
): Readonly<Required<SilenceOptions>> | undefined {
  if (value === false) return undefined;
  const o = objectOption('silence', value, 'false or { afterMs?, belowDbfs? }');
  return Object.freeze({
    afterMs: checkNumber('silence.afterMs', o.afterMs ?? 10_000, 100, 86_400_000, false),
    belowDbfs: checkNumber('silence.belowDbfs', o.belowDbfs ?? -60, -120, 0, false),
  });
}
