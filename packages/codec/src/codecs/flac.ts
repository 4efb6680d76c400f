/**
 * Owns the `flac` codec entry: our own streaming FLAC encoder and decoder (src/codecs/flac/),
 * chosen over libflacjs and @wasm-audio-decoders/flac by measurement (see the README).
 */
import { concatBytes, toFloat32 } from '@audex/pcm';
import type { Codec, DecodedAudio } from '../types.js';
import { createFlacDecoder } from './flac/decoder.js';
import { createFlacEncoder, FLAC_MAX_CHANNELS, flacBitsFor } from './flac/encoder.js';

export { createFlacDecoder } from './flac/decoder.js';
export { createFlacEncoder, type FlacEncoderOptions } from './flac/encoder.js';

/**
 * Decodes a whole FLAC file to float32 (the stored bit depth in `sampleFormat`).
 * @throws {CodecError} `CORRUPT_INPUT` for a damaged or truncated stream.
 */
export async function decodeFlac(data: Uint8Array): Promise<DecodedAudio> {
  const decoder = createFlacDecoder();
  const pcm = concatBytes([decoder.write(data), decoder.end()]);
  const { shape } = decoder.info!;
  const samples = toFloat32(pcm, shape.sampleFormat);
  return {
    rate: shape.rate,
    channels: shape.channels,
    samples,
    frames: samples.length / shape.channels,
    sampleFormat: shape.sampleFormat,
  };
}

/**
 * The FLAC codec (`audio/flac`), lossless: int8, int16 and int24 are stored as 8-, 16- and
 * 24-bit; int32 and float32 are quantised to 24-bit. 1–8 channels, every rate audex supports.
 * Blocks of 4096 frames; STREAMINFO carries `totalFrames` when given, and `headerPatches()`
 * writes the MD5, frame sizes and count at the end.
 */
export const flacCodec: Codec = {
  format: 'flac',
  mimeType: 'audio/flac',
  extension: 'flac',
  createEncoder: createFlacEncoder,
  nativeShape: (options) => {
    const bits = flacBitsFor(options.sampleFormat);
    return {
      rate: options.rate,
      channels: Math.min(options.channels, FLAC_MAX_CHANNELS),
      sampleFormat: bits === 8 ? 'int8' : bits === 16 ? 'int16' : 'int24',
    };
  },
  createDecoder: createFlacDecoder,
  decode: decodeFlac,
};
