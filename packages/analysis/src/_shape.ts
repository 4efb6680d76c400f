// Validation of the PCM shape and conversion of written PCM to interleaved float, shared by the
// loudness meter, the normaliser and the voice activity detector (the checks themselves live in @audex/pcm).
import { bytesPerFrame, type PcmShape, shapeProblem, toFloat32 } from '@audex/pcm';
import { AnalysisError } from './errors.js';

/** The shape, validated and frozen; throws `INVALID_OPTIONS` naming the bad field. */
export function checkShape(shape: PcmShape | undefined, prefix = ''): PcmShape {
  const problem = shapeProblem(shape, prefix);
  if (problem) throw new AnalysisError('INVALID_OPTIONS', problem.message, { field: problem.field });
  const s = shape as PcmShape;
  return Object.freeze({ rate: s.rate, channels: s.channels, sampleFormat: s.sampleFormat });
}

/**
 * Interleaved float samples of `pcm`: a `Float32Array` is taken as float samples as they are, bytes
 * are decoded from `shape.sampleFormat`. Throws `INVALID_DATA` unless it holds whole frames.
 */
export function toSamples(pcm: Uint8Array | Float32Array, shape: PcmShape): Float32Array {
  if (pcm instanceof Float32Array) {
    if (pcm.length % shape.channels !== 0) {
      throw new AnalysisError(
        'INVALID_DATA',
        `float input must hold whole frames of ${shape.channels} channels, got ${pcm.length} samples`,
      );
    }
    return pcm;
  }
  if (!(pcm instanceof Uint8Array)) {
    throw new AnalysisError('INVALID_DATA', `PCM must be a Uint8Array or a Float32Array, got ${typeof pcm}`);
  }
  const frameBytes = bytesPerFrame(shape.sampleFormat, shape.channels);
  if (pcm.byteLength % frameBytes !== 0) {
    throw new AnalysisError(
      'INVALID_DATA',
      `PCM must hold whole frames of ${frameBytes} bytes (${shape.channels} × ${shape.sampleFormat}), got ${pcm.byteLength} bytes`,
    );
  }
  return toFloat32(pcm, shape.sampleFormat);
}
