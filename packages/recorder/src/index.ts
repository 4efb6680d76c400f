// The public entry of @audex/recorder: a named list of what it exports.
export type { SpeechRegion, VadOptions, VoiceModel, VoiceModelStream } from '@audex/analysis';
export type { AudioSource, InputDevice } from '@audex/capture';
// The vocabulary a recorder user needs, re-exported so the facade alone is enough to get started.
export {
  type AudioConfig,
  type AudioConfigInput,
  AudioFormat,
  type AudioFrame,
  type CapturedChunk,
  DEFAULT_AUDIO_CONFIG,
  SAMPLE_FORMATS,
  type SampleFormat,
} from '@audex/pcm';
export { AudioRecorder } from './audio-recorder.js';
export { entersState, type ObservableRecorder } from './enters-state.js';
export { RecorderError, type RecorderErrorCode } from './errors.js';
export { STORE_FORMATS, type StoreFormat } from './stored-format.js';
export { type EventMap, type Listener, TypedEmitter } from './typed-emitter.js';
export type {
  AudioRecorderOptions,
  AudioSegment,
  DeviceLostEvent,
  DeviceRestoredEvent,
  GapMetadata,
  InputStatus,
  LevelEvent,
  OutputOptions,
  OverflowEvent,
  ReconnectOptions,
  RecorderEvents,
  RecorderLogger,
  RecorderStatus,
  RecorderWarning,
  RecorderWarningCode,
  RecordingMetadata,
  RecoveredRecording,
  RotatedEvent,
  RotateOptions,
  SegmentOptions,
  SilenceEvent,
  SilenceOptions,
  SoundEvent,
  SpeechEndEvent,
  SpeechMetadata,
  SpeechStartEvent,
  StateChange,
  StopOptions,
  StreamOptions,
  StreamStart,
  VoiceActivityOptions,
} from './types.js';
