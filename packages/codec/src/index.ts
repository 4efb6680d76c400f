export { CodecError, type CodecErrorCode } from './errors.js';
export { defaultMixMatrix, type MixMatrix, mixChannels } from './mix.js';
export {
  createPcmTransform,
  type PcmShape,
  type PcmTransform,
  type PcmTransformOptions,
} from './pcm-transform.js';
export { decodeAudio, getCodec, hasCodec, listFormats, registerCodec, unregisterCodec } from './registry.js';
export {
  createResampler,
  type Resampler,
  type ResamplerOptions,
  type ResamplerQuality,
  resample,
} from './resample.js';
export type { Codec, DecodedAudio, Encoder, EncoderOptions } from './types.js';
