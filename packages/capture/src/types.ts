import type { AudioConfig, CapturedChunk } from '@audex/pcm';

/** One audio input device, as an {@link AudioSource} lists it. */
export interface InputDevice {
  /** Index to pass as `AudioConfig.inputDeviceIndex`. */
  index: number;
  /** Human-readable device name, as the audio system reports it. */
  name: string;
  /** Maximum number of input channels. */
  channels: number;
  /** The device's default sample rate, in Hz. */
  defaultRate: number;
  /** Name of the host API the device belongs to (e.g. `'ALSA'`), or `'synthetic'`. */
  hostApi: string;
  /** True for the system's default input device (what `inputDeviceIndex: null` opens). */
  isDefault: boolean;
}

/**
 * What audex captures from: the plug point of `@audex/capture`. `PortAudioSource` is the default;
 * `SyntheticSource` generates test signals; anything implementing this contract works.
 */
export interface AudioSource {
  /** Every input device this source can open. */
  listInputDevices(): Promise<InputDevice[]>;
  /**
   * Starts capturing. Resolves once audio is flowing; from then on `onChunk` receives every
   * chunk in order and `onError` any fault that ends the capture (after which no chunk follows).
   *
   * @throws {CaptureError} for an invalid config or a device that cannot be opened; nothing stays open.
   */
  start(
    config: AudioConfig,
    onChunk: (chunk: CapturedChunk) => void,
    onError: (error: Error) => void,
  ): Promise<void>;
  /** Stops capturing and releases the device. Resolves also when idle or after a fault. */
  stop(): Promise<void>;
}

/**
 * Lifecycle of a capture source:
 * `idle` → `starting` → `capturing` → `stopping` → `idle`; a fault while capturing leads to
 * `failed` (stop() then returns to `idle`); a failed start returns to `idle`.
 */
export type CaptureStatus = 'idle' | 'starting' | 'capturing' | 'stopping' | 'failed';

/** Payload of the `stateChange` event. */
export interface CaptureStateChange {
  /** Status before the change. */
  from: CaptureStatus;
  /** Status after the change. */
  to: CaptureStatus;
  /** The fault that caused a change to `failed`. */
  error?: Error;
}

/** Events emitted by the built-in sources. */
export interface CaptureEvents {
  /** The source moved from one {@link CaptureStatus} to another. */
  stateChange: [change: CaptureStateChange];
}
