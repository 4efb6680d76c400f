export { AnalysisError, type AnalysisErrorCode } from './errors.js';
export {
  createLoudnessMeter,
  defaultChannelWeights,
  type LoudnessMeter,
  type LoudnessOptions,
  type LoudnessSummary,
  measureLoudness,
} from './loudness.js';
export { type NormalizeOptions, type NormalizeResult, normalizeLoudness } from './normalize.js';
export {
  createVoiceDetector,
  DEFAULT_VAD_OPTIONS,
  detectSpeech,
  type OnnxRuntime,
  type ResolvedVadOptions,
  resolveVadOptions,
  type SileroModel,
  type SpeechEvent,
  type SpeechRegion,
  type VadOptions,
  type VoiceDetector,
} from './vad.js';
