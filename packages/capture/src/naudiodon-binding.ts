import { createRequire } from 'node:module';
import { CaptureError } from './errors.js';

/** A device as naudiodon's native `getDevices()` reports it (latencies in seconds, with the audex patch). */
export interface NativeDevice {
  id: number;
  name: string;
  maxInputChannels: number;
  maxOutputChannels: number;
  defaultSampleRate: number;
  defaultLowInputLatency: number;
  defaultHighInputLatency: number;
  hostAPIName: string;
}

/** What naudiodon's native `getHostAPIs()` reports. */
export interface NativeHostApis {
  defaultHostAPI: number;
  HostAPIs: { id: number; name: string; defaultInput: number }[];
}

/** One non-blocking read from the patched input ring, with the input-side counters. */
export interface NativeReadResult {
  buf: Buffer;
  finished: boolean;
  err?: string;
  /** Frames the device delivered so far, dropped ones included. */
  frames: number;
  /** Frames lost because the ring was full. */
  dropped: number;
  /** Callbacks flagged `paInputOverflow`, or dropped for a full ring. */
  overflows: number;
  /** `frames` after the latest callback. */
  cbFrames: number;
  /** CLOCK_MONOTONIC time of the latest callback, in ms (the clock of `process.hrtime`). */
  cbMonoMs: number;
  /** Callbacks so far. */
  callbacks: number;
  /** PortAudio's reported input latency of the open stream, in seconds. */
  inLatency: number;
  /** `Pa_IsStreamActive`. */
  active: boolean;
}

/** An open naudiodon stream (the native object behind `AudioIO`). */
export interface NativeAudioIO {
  start(): void;
  read(maxBytes: number): Promise<NativeReadResult>;
  quit(mode: 'WAIT' | 'ABORT'): Promise<void>;
}

/** The options the patched native `create()` accepts for an input stream. */
export interface NativeInputOptions {
  deviceId: number;
  channelCount: number;
  sampleFormat: 1 | 8 | 16 | 24 | 32;
  sampleRate: number;
  framesPerBuffer: number;
  closeOnError: boolean;
  ringFrames: number;
  suggestedLatencyMs: number;
}

/** naudiodon's native module. */
export interface NaudiodonBinding {
  getDevices(): NativeDevice[];
  getHostAPIs(): NativeHostApis;
  create(options: { inOptions: NativeInputOptions }): NativeAudioIO;
  /**
   * The last (up to 8) messages libasound/libjack reported instead of printing them to stderr,
   * oldest first; `create()` forgets earlier ones once its device scan is done, so after a
   * failed `create()` they are what opening the stream said. Empty with `AUDEX_CAPTURE_DEBUG=1`
   * (the libraries print natively then). Missing on an unpatched build.
   */
  diagnostics?(): string[];
}

let binding: NaudiodonBinding | undefined;

/**
 * Loads naudiodon's native module directly (not its `index.js` stream wrapper, whose Readable
 * adds a queue and turns any overflow flag into a fatal stream error). Loaded on first use so
 * importing `@audex/capture` never touches PortAudio.
 */
export function loadNaudiodon(): NaudiodonBinding {
  if (binding) return binding;
  try {
    const require = createRequire(import.meta.url);
    const loaded = require('naudiodon/build/Release/naudiodon.node') as NaudiodonBinding;
    binding = loaded;
    return loaded;
  } catch (error) {
    throw new CaptureError(
      'OPEN_FAILED',
      'cannot load the naudiodon native module (naudiodon/build/Release/naudiodon.node); is naudiodon installed and built (pnpm onlyBuiltDependencies)?',
      { cause: error },
    );
  }
}
