import './builtins.js';

export { CodecError, type CodecErrorCode } from './errors.js';
export { defaultMixMatrix, type MixMatrix, mixChannels } from './mix.js';
export { decodeMp3, MP3_DEFAULT_BITRATE, mp3Codec } from './mp3.js';
export { decodeOggOpus, OPUS_DEFAULT_BITRATE, OPUS_RATES, opusCodec } from './opus.js';
export { createPcmEncoder, decodePcm, pcmCodec } from './pcm-codec.js';
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
export type { Codec, DecodedAudio, DecodeOptions, Encoder, EncoderOptions } from './types.js';
export { createWavEncoder, decodeWav, type WavAudio, wavCodec } from './wav.js';
export { type FinalizedWav, finalizeWavFile } from './wav-file.js';
export {
  encodeWavHeader,
  parseWavHeader,
  RIFF_MAX,
  type WavHeaderOptions,
  type WavInfo,
} from './wav-header.js';
