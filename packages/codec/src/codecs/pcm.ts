/**
 * Owns the `pcm` codec: raw interleaved samples, encoded as given and decoded with a shape the
 * caller states.
 */
import { bytesPerFrame, shapeProblem, toFloat32 } from '@audex/pcm';
import { CodecError } from '../errors.js';
import type { Codec, DecodedAudio, DecodeOptions, Encoder, EncoderOptions } from '../types.js';

function checkShape(
  options: { rate?: number; channels?: number; sampleFormat?: unknown },
  what: string,
): void {
  const problem = shapeProblem(options);
  if (problem) throw new CodecError('INVALID_OPTIONS', `PCM ${what}: ${problem.message}`, { format: 'pcm' });
}

/**
 * Creates a raw PCM "encoder": it returns the interleaved samples unchanged (copied), so the
 * output is the capture format with no header.
 * @throws {CodecError} `INVALID_OPTIONS` for a bad shape; from `end()` when the bytes written are
 * not whole frames; `ENCODER_ENDED` when used after `end()`.
 */
export function createPcmEncoder(options: EncoderOptions): Encoder {
  checkShape(options, 'encoder');
  const frameBytes = bytesPerFrame(options.sampleFormat, options.channels);
  let written = 0;
  let ended = false;
  return {
    write(pcm) {
      if (ended) throw new CodecError('ENCODER_ENDED', 'PCM encoder written after end()', { format: 'pcm' });
      written += pcm.length;
      // A copy (Buffer#slice would be a view): callers may reuse their buffer.
      return new Uint8Array(pcm);
    },
    end() {
      if (ended) throw new CodecError('ENCODER_ENDED', 'PCM encoder ended twice', { format: 'pcm' });
      ended = true;
      if (written % frameBytes !== 0) {
        throw new CodecError(
          'INVALID_OPTIONS',
          `PCM: ${written} bytes written is not a whole number of ${frameBytes}-byte frames`,
          { format: 'pcm' },
        );
      }
      return new Uint8Array(0);
    },
  };
}

/**
 * Decodes raw PCM to float samples. Raw PCM has no header, so `options` must give `rate`,
 * `channels` and `sampleFormat`.
 * @throws {CodecError} `INVALID_OPTIONS` when a shape field is missing or bad; `CORRUPT_INPUT`
 * when the length is not a whole number of frames.
 */
export async function decodePcm(data: Uint8Array, options: DecodeOptions = {}): Promise<DecodedAudio> {
  checkShape(options, 'decoding');
  const { rate, channels, sampleFormat } = options as Required<DecodeOptions>;
  const frameBytes = bytesPerFrame(sampleFormat, channels);
  if (data.length % frameBytes !== 0) {
    throw new CodecError(
      'CORRUPT_INPUT',
      `PCM: ${data.length} bytes is not a whole number of ${frameBytes}-byte frames (${channels} × ${sampleFormat})`,
      { format: 'pcm' },
    );
  }
  return {
    rate,
    channels,
    frames: data.length / frameBytes,
    samples: toFloat32(data, sampleFormat),
    sampleFormat,
  };
}

/** The built-in `pcm` codec: raw interleaved samples in the input's format, no header. */
export const pcmCodec: Codec = {
  format: 'pcm',
  mimeType: 'application/octet-stream',
  extension: 'pcm',
  createEncoder: createPcmEncoder,
  decode: decodePcm,
};
