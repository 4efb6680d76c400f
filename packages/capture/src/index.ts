export { entersState, type ObservableSource } from './capture-state.js';
export { describeDevices, resolveCaptureConfig } from './config.js';
export { CaptureError, type CaptureErrorCode, type CaptureErrorOptions } from './errors.js';
export { PortAudioSource, type PortAudioSourceOptions } from './portaudio-source.js';
export { SampleClock } from './sample-clock.js';
export { SYNTHETIC_DEVICE, SyntheticSource, type SyntheticSourceOptions } from './synthetic-source.js';
export type {
  AudioSource,
  CaptureEvents,
  CaptureStateChange,
  CaptureStatus,
  InputDevice,
} from './types.js';
