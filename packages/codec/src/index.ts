/**
 * The public entry of @audex/codec: registers the built-in codecs (side effect) and names every
 * export.
 */
import './builtins.js';

export {
  createFlacDecoder,
  createFlacEncoder,
  decodeFlac,
  type FlacEncoderOptions,
  flacCodec,
} from './codecs/flac.js';
export { decodeMp3, MP3_DEFAULT_BITRATE, mp3Codec } from './codecs/mp3.js';
export { decodeOggOpus, OPUS_DEFAULT_BITRATE, OPUS_RATES, opusCodec } from './codecs/opus.js';
export { createPcmEncoder, decodePcm, pcmCodec } from './codecs/pcm.js';
export { createWavEncoder, decodeWav, type WavAudio, wavCodec } from './codecs/wav.js';
export { createWavDecoder } from './codecs/wav-decoder.js';
export { applyHeaderPatches, type FinalizedWav, finalizeWavFile } from './codecs/wav-file.js';
export {
  encodeWavHeader,
  parseWavHeader,
  RIFF_MAX,
  type WavHeaderOptions,
  type WavInfo,
} from './codecs/wav-header.js';
export { defaultMixMatrix, type MixMatrix, mixChannels } from './dsp/mix.js';
export {
  createResampler,
  type Resampler,
  type ResamplerOptions,
  type ResamplerQuality,
  resample,
} from './dsp/resample.js';
export {
  createPcmTransform,
  type PcmShape,
  type PcmTransform,
  type PcmTransformOptions,
} from './dsp/transform.js';
export { encodeChunks } from './encode-chunks.js';
export { CodecError, type CodecErrorCode } from './errors.js';
export {
  createEncoderPipeline,
  type EncoderPipeline,
  type EncoderPipelineOptions,
} from './pipeline.js';
export { decodeAudio, getCodec, hasCodec, listFormats, registerCodec, unregisterCodec } from './registry.js';
export {
  type ByteRangeReader,
  encodeRange,
  type Transcode,
  type TranscodeOptions,
  transcode,
} from './transcode.js';
export type {
  Codec,
  DecodedAudio,
  DecodeOptions,
  Encoder,
  EncoderOptions,
  HeaderPatch,
  StreamDecoder,
  StreamInfo,
} from './types.js';
