// Owns the public API of @audex/naudiodon: device listing, opening an input stream, and the
// audio libraries' recorded diagnostics.
import { loadBinding, type NativeDevice } from './binding.js';
import { NaudiodonError } from './errors.js';
import { InputStream } from './input-stream.js';

export type { NativeStream } from './binding.js';
export { NaudiodonError, type NaudiodonErrorCode, type NaudiodonErrorOptions } from './errors.js';
export { type InputRead, InputStream } from './input-stream.js';

/** A sample format PortAudio captures in (int24 is packed, 3 bytes). */
export type NativeSampleFormat = 'int8' | 'int16' | 'int24' | 'int32' | 'float32';

const BYTES: Record<NativeSampleFormat, number> = { int8: 1, int16: 2, int24: 3, int32: 4, float32: 4 };

/** One PortAudio device. */
export interface Device {
  /** PortAudio's device index: what {@link OpenInputOptions.deviceId} takes. */
  id: number;
  /** The name the host API gives it. */
  name: string;
  /** Its host API, e.g. `'ALSA'`. */
  hostApi: string;
  /** Input channels (0 for an output-only device). */
  maxInputChannels: number;
  /** Output channels. */
  maxOutputChannels: number;
  /** Its default sample rate, in Hz. */
  defaultSampleRate: number;
  /** Default low/high input latency, in seconds. */
  defaultLowInputLatency: number;
  defaultHighInputLatency: number;
  /** True for PortAudio's default input device. */
  isDefaultInput: boolean;
}

/** What {@link listDevices} resolves to. */
export interface DeviceList {
  /** PortAudio's version text. */
  portAudioVersion: string;
  /** Every device, inputs and outputs. */
  devices: Device[];
  /** PortAudio's default input device, or `undefined` when there is none. */
  defaultInput: Device | undefined;
}

/**
 * Lists PortAudio's devices. Runs on the PortAudio thread, after any open or close queued before
 * it (so it never scans while a lost device is still being closed). PortAudio scans afresh only
 * when no stream is open; set `PULSE_SERVER` etc. before the first call. Prints nothing: what
 * libasound/libjack say goes to {@link diagnostics}.
 *
 * @throws {NaudiodonError} `LOAD_FAILED`, or `LIST_FAILED` when PortAudio cannot initialise.
 */
export async function listDevices(): Promise<DeviceList> {
  const native = loadBinding();
  let listing: Awaited<ReturnType<typeof native.listDevices>>;
  try {
    listing = await native.listDevices();
  } catch (error) {
    throw new NaudiodonError('LIST_FAILED', stripPrefix((error as Error).message), {
      cause: error,
      diagnostics: native.diagnostics(),
    });
  }
  const devices = listing.devices.map((d: NativeDevice) => ({
    ...d,
    isDefaultInput: d.id === listing.defaultInput,
  }));
  return {
    portAudioVersion: listing.version,
    devices,
    defaultInput: devices.find((d) => d.isDefaultInput),
  };
}

/** Options of {@link openInput}. */
export interface OpenInputOptions {
  /** The device to open (a {@link Device.id}). */
  deviceId: number;
  /** Channels to capture, from 1 to the device's `maxInputChannels`. */
  channels: number;
  /** Sample format to capture in. */
  sampleFormat: NativeSampleFormat;
  /** Sample rate in Hz. */
  sampleRate: number;
  /** Frames per PortAudio callback; 0 (default) lets PortAudio choose. */
  framesPerBuffer?: number;
  /** Capacity of the ring, in frames: how long JavaScript may not read without loss. Default 10 s of audio. */
  ringFrames?: number;
  /** Latency to ask PortAudio for, in ms; 0 (default) = the device's default high input latency. */
  suggestedLatencyMs?: number;
  /** Wake JavaScript once this many frames are waiting (until a read sets another value). Default 1. */
  wakeFrames?: number;
}

/**
 * Opens and starts an input stream. `onWake` is called on this thread (never re-entrantly, never
 * from the audio thread) whenever frames are waiting per `wakeFrames`, input was lost, or the
 * stream finished; call {@link InputStream.read} then. The open stream keeps the process alive
 * until {@link InputStream.close}.
 *
 * @throws {NaudiodonError} `INVALID_OPTIONS` naming the option and what is allowed; `OPEN_FAILED`
 * with PortAudio's reason and what the audio libraries said; `LOAD_FAILED`.
 */
export async function openInput(options: OpenInputOptions, onWake: () => void): Promise<InputStream> {
  const o = validate(options);
  if (typeof onWake !== 'function') {
    throw new NaudiodonError('INVALID_OPTIONS', `onWake must be a function, got ${typeof onWake}`, {
      field: 'onWake',
    });
  }
  const native = loadBinding();
  try {
    return new InputStream(await native.openInput(o, onWake));
  } catch (error) {
    const said = native.diagnostics();
    throw new NaudiodonError(
      'OPEN_FAILED',
      `cannot open input device ${o.deviceId} with ${o.sampleFormat}, ${o.channels} ch, ${o.sampleRate} Hz: ${stripPrefix((error as Error).message)}${said.length > 0 ? `; the audio system said: ${said.join(' | ')}` : ''}`,
      { cause: error, diagnostics: said },
    );
  }
}

/**
 * The most recent (up to 16) messages libasound/libjack reported instead of printing them, oldest
 * first. Opening a stream forgets earlier ones once its device scan is done, so after a failed
 * open they are what opening said. Empty with `AUDEX_CAPTURE_DEBUG=1`, which leaves both
 * libraries printing natively (read when the module loads).
 */
export function diagnostics(): string[] {
  return loadBinding().diagnostics();
}

/** Bytes per sample of a {@link NativeSampleFormat}. */
export function bytesPerSample(format: NativeSampleFormat): number {
  return BYTES[format];
}

function stripPrefix(message: string): string {
  return message.replace(/^\[audex\/naudiodon\] /, '');
}

function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new NaudiodonError(
      'INVALID_OPTIONS',
      `${field} ${String(value)} is not allowed; allowed: an integer from ${min} to ${max}`,
      { field },
    );
  }
  return value;
}

function validate(options: OpenInputOptions) {
  if (typeof options !== 'object' || options === null) {
    throw new NaudiodonError('INVALID_OPTIONS', `options must be an object, got ${String(options)}`);
  }
  const sampleFormat = options.sampleFormat;
  if (!Object.hasOwn(BYTES, sampleFormat)) {
    throw new NaudiodonError(
      'INVALID_OPTIONS',
      `sampleFormat ${JSON.stringify(sampleFormat)} is not allowed; allowed: ${Object.keys(BYTES).join(', ')}`,
      { field: 'sampleFormat' },
    );
  }
  const sampleRate = options.sampleRate;
  if (typeof sampleRate !== 'number' || !(sampleRate >= 1000 && sampleRate <= 768_000)) {
    throw new NaudiodonError(
      'INVALID_OPTIONS',
      `sampleRate ${String(sampleRate)} is not allowed; allowed: 1000 to 768000 Hz`,
      { field: 'sampleRate' },
    );
  }
  return {
    deviceId: integerIn('deviceId', options.deviceId, 0, 65_535),
    channels: integerIn('channels', options.channels, 1, 256),
    sampleFormat,
    sampleRate,
    framesPerBuffer: integerIn('framesPerBuffer', options.framesPerBuffer ?? 0, 0, 1 << 20),
    ringFrames: integerIn('ringFrames', options.ringFrames ?? Math.ceil(sampleRate * 10), 1, 2 ** 30),
    suggestedLatencyMs: integerIn('suggestedLatencyMs', options.suggestedLatencyMs ?? 0, 0, 60_000),
    wakeFrames: integerIn('wakeFrames', options.wakeFrames ?? 1, 1, 2 ** 30),
  };
}
