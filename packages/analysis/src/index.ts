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
  checkVoiceModel,
  createVoiceDetector,
  DEFAULT_VAD_OPTIONS,
  detectSpeech,
  type ResolvedVadOptions,
  resolveVadOptions,
  type SpeechEvent,
  type SpeechRegion,
  type VadOptions,
  VOICE_MODEL_RATE,
  type VoiceDetector,
  type VoiceModel,
  type VoiceModelStream,
} from './vad.js';
