// The public entry of @audex/vad-silero: Silero VAD as a VoiceModel of @audex/analysis.
export {
  createSileroModel,
  type OnnxRuntime,
  SILERO_MODELS,
  SILERO_WINDOW_SAMPLES,
  type SileroModel,
  type SileroOptions,
} from './silero.js';
