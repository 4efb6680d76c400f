// Owns loading the native module (the prebuilt binary for this platform, or the one built from
// source at install) and the exact shape of what it exports.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { NaudiodonError } from './errors.js';
import type { InputStream } from './input-stream.js';

/** A device as the native `listDevices()` reports it (latencies in seconds). */
export interface NativeDevice {
  id: number;
  name: string;
  hostApi: string;
  maxInputChannels: number;
  maxOutputChannels: number;
  defaultSampleRate: number;
  defaultLowInputLatency: number;
  defaultHighInputLatency: number;
}

/** What the native `listDevices()` resolves to. */
export interface NativeListing {
  version: string;
  defaultInput: number;
  defaultHostApi: number;
  hostApis: { id: number; name: string; defaultInput: number }[];
  devices: NativeDevice[];
}

/** The native input stream object that {@link InputStream} wraps (what the addon's `openInput()` resolves to). */
export interface NativeStream {
  /** Moves the ring's whole frames into a Buffer; fills `state` and `timings` (see `capture.h`). */
  read(state: Float64Array, timings: Float64Array, nextWakeFrames: number): Buffer | null;
  /** Sets when the next wake-up comes: once that many frames wait. */
  setWakeFrames(frames: number): void;
  /** Resolves false when the abort hung and the stream was abandoned. */
  close(): Promise<boolean | undefined>;
  /** PortAudio's input latency of the open stream, in ms. */
  readonly latencyMs: number;
}

/** The options the native `openInput()` takes (validated by the wrapper first). */
export interface NativeOpenOptions {
  deviceId: number;
  channels: number;
  sampleFormat: string;
  sampleRate: number;
  framesPerBuffer: number;
  ringFrames: number;
  suggestedLatencyMs: number;
  wakeFrames: number;
}

/** The native module's exports. */
export interface NativeBinding {
  listDevices(): Promise<NativeListing>;
  openInput(options: NativeOpenOptions, onWake: () => void): Promise<NativeStream>;
  diagnostics(): string[];
  portAudioVersion(): string;
}

let binding: NativeBinding | undefined;

/** The package root: one level above `src/` and `dist/` alike. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Loads the native module on first use (so importing the package never touches PortAudio):
 * `build/Release` when it was built from source here, else `prebuilds/<platform>-<arch>/`.
 *
 * @throws {NaudiodonError} `LOAD_FAILED` naming the package directory, the platform and the cause.
 */
export function loadBinding(): NativeBinding {
  if (binding) return binding;
  try {
    const require = createRequire(import.meta.url);
    const load = require('node-gyp-build') as (dir: string) => NativeBinding;
    binding = load(PACKAGE_ROOT);
    return binding;
  } catch (error) {
    throw new NaudiodonError(
      'LOAD_FAILED',
      `cannot load the native capture module from ${PACKAGE_ROOT} on ${process.platform}-${process.arch} (Node ${process.version}): ${(error as Error).message}. Prebuilt: linux-x64 (glibc); elsewhere it is built from source at install (needs a C++ toolchain, and libportaudio where none is bundled)`,
      { cause: error },
    );
  }
}
