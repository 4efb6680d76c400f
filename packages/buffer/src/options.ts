// FrameBuffer.create() options, validated once into a readonly object.
import { type SampleFormat, shapeProblem } from '@audex/pcm';
import { BufferError } from './errors.js';

/** Options of {@link FrameBuffer.create}. */
export interface FrameBufferOptions {
  /** Directory for the journal files (created if missing). Required. */
  spoolDir: string;
  /**
   * Recording id; the journal files are `<id>.pcm` and `<id>.journal`. Letters, digits, `.`, `_`
   * and `-` only, at most 128 characters. Default `crypto.randomUUID()`.
   */
  id?: string;
  /** Sample format of appended chunks. Required. */
  sampleFormat: SampleFormat;
  /** Interleaved channels per frame, 1 to 64. Required. */
  channels: number;
  /** Nominal sample rate in Hz, 1 to 768000. Required. */
  rate: number;
  /**
   * Most recent audio kept in RAM, in ms (rounded up to whole blocks, plus the block being
   * filled). Older audio is read back from the spool file. Default `30_000`; at least one block.
   */
  memoryMs?: number;
  /** Journal flush + fsync period in ms, from 10 to 1000. Default `500`. */
  flushIntervalMs?: number;
  /** Size of a RAM block (and the longest write to the spool), in ms of audio, 10 to 10000. Default `1000`. */
  blockMs?: number;
  /** Opaque JSON kept in the journal header and given back by recovery, JSON types kept. Default `{}`. */
  meta?: Record<string, unknown>;
  /**
   * Called with failures of the background flush (e.g. the disk is full). Such failures also make
   * the next {@link FrameBuffer.flush} or {@link FrameBuffer.end} reject. Default: none.
   */
  onError?: (error: Error) => void;
}

/** {@link FrameBufferOptions} after validation, defaults applied. */
export interface ResolvedOptions {
  readonly spoolDir: string;
  readonly id: string;
  readonly sampleFormat: SampleFormat;
  readonly channels: number;
  readonly rate: number;
  readonly memoryMs: number;
  readonly flushIntervalMs: number;
  readonly blockMs: number;
  readonly meta: Record<string, unknown>;
  readonly onError: ((error: Error) => void) | undefined;
}

const ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return `a value of type ${typeof value}`;
}

function bad(message: string): BufferError {
  return new BufferError('INVALID_OPTIONS', message);
}

function inRange(name: string, value: unknown, min: number, max: number, integer: boolean): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    value < min ||
    value > max
  ) {
    throw bad(
      `${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${show(value)}`,
    );
  }
  return value;
}

/** Validates options once, at the edge. */
export function resolveOptions(options: FrameBufferOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object')
    throw bad(`options must be an object, got ${show(options)}`);
  if (
    typeof options.spoolDir !== 'string' ||
    options.spoolDir.length === 0 ||
    options.spoolDir.includes('\0')
  ) {
    throw bad(`spoolDir must be a non-empty directory path, got ${show(options.spoolDir)}`);
  }
  const id = options.id ?? crypto.randomUUID();
  if (typeof id !== 'string' || !ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw bad(`id must be 1-128 characters of letters, digits, ".", "_" or "-", got ${show(id)}`);
  }
  const shape = shapeProblem(options);
  if (shape) throw bad(shape.message);
  const { channels, rate } = options;
  const blockMs = inRange('blockMs', options.blockMs ?? 1000, 10, 10_000, false);
  const memoryMs = inRange('memoryMs', options.memoryMs ?? 30_000, 0, 24 * 3600_000, false);
  const flushIntervalMs = inRange('flushIntervalMs', options.flushIntervalMs ?? 500, 10, 1000, false);
  const rawMeta = options.meta ?? {};
  if (rawMeta === null || typeof rawMeta !== 'object' || Array.isArray(rawMeta)) {
    throw bad(`meta must be a plain JSON object, got ${show(rawMeta)}`);
  }
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(JSON.stringify(rawMeta)) as Record<string, unknown>;
  } catch (e) {
    throw new BufferError('INVALID_OPTIONS', 'meta must be JSON-serialisable', { cause: e });
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw bad(`onError must be a function, got ${show(options.onError)}`);
  }
  return Object.freeze({
    spoolDir: options.spoolDir,
    id,
    sampleFormat: options.sampleFormat,
    channels,
    rate,
    memoryMs,
    flushIntervalMs,
    blockMs,
    meta,
    onError: options.onError,
  });
}
