export type { Codec, DecodedAudio, Encoder, EncoderOptions } from './types.js';
export { CodecError, type CodecErrorCode } from './errors.js';
export { decodeAudio, getCodec, hasCodec, listFormats, registerCodec, unregisterCodec } from './registry.js';
