export { concatBytes } from './bytes.js';
export { resolveAudioConfig } from './config.js';
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
  channelsProblem,
  chunkFramesProblem,
  describeValue,
  isSampleFormat,
  MAX_CHANNELS,
  MAX_CHUNK_SECONDS,
  MAX_RATE,
  MIN_RATE,
  type PcmShape,
  rateProblem,
  sampleFormatProblem,
  shapeProblem,
} from './shape.js';
export {
  type AudioConfig,
  type AudioConfigInput,
  AudioFormat,
  type AudioFrame,
  BYTES_PER_SAMPLE,
  type CapturedChunk,
  DEFAULT_AUDIO_CONFIG,
  SAMPLE_FORMATS,
  type SampleFormat,
} from './types.js';
