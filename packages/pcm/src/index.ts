export { concatBytes } from './bytes.js';
export { isSampleFormat, MAX_CHANNELS, MAX_RATE, resolveAudioConfig } from './config.js';
export { PcmError, type PcmErrorCode } from './errors.js';
export {
  bytesPerFrame,
  convertSampleFormat,
  fromFloat32,
  packInt24,
  toFloat32,
  unpackInt24,
} from './sample-format.js';
export {
  type AudioConfig,
  AudioFormat,
  type AudioFrame,
  BYTES_PER_SAMPLE,
  type CapturedChunk,
  DEFAULT_AUDIO_CONFIG,
  SAMPLE_FORMATS,
  type SampleFormat,
} from './types.js';
