export { AudioRecorder } from './audio-recorder.js';
export { RecorderError, type RecorderErrorCode } from './errors.js';
export { type EventMap, type Listener, TypedEmitter } from './typed-emitter.js';
export type {
  AudioRecorderOptions,
  AudioSegment,
  GapMetadata,
  LevelEvent,
  OutputOptions,
  OverflowEvent,
  RecorderEvents,
  RecorderLogger,
  RecorderStatus,
  RecorderWarning,
  RecorderWarningCode,
  RecordingMetadata,
  RecoveredRecording,
  SegmentOptions,
  StateChange,
  StopOptions,
  StreamOptions,
  StreamStart,
} from './types.js';
