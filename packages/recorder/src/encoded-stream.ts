import type { Cursor } from '@audex/buffer';
import type { Encoder } from '@audex/codec';
import { bytesPerFrame, concatBytes } from '@audex/pcm';
import { RecorderError } from './errors.js';
import { createOutputEncoder, encoding, type OutputSpec, type PcmConverter } from './output-format.js';

/** What one `stream()` needs: its own cursor, converter and encoder. */
export interface EncodedStreamParams {
  /** Opens the stream's cursor on first pull (so an unread stream holds nothing). */
  openCursor(): Cursor;
  /** Captured frames per step. */
  chunkFrames: number;
  spec: OutputSpec;
  converter: PcmConverter;
  /** The continuous encoder, created eagerly so bad options fail at the `stream()` call. */
  encoder: Encoder;
  /** Each chunk a standalone file with its own encoder (WAV, as the reference). */
  standalone: boolean;
  signal: AbortSignal | undefined;
}

/**
 * One stream's pipeline: cursor → PCM converter → encoder. Each step reads exactly
 * `chunkFrames` new frames, so its cost does not depend on how long the recording is; a slow
 * consumer only delays its own cursor.
 */
export async function* encodedStream(
  params: EncodedStreamParams,
): AsyncGenerator<Uint8Array, void, undefined> {
  const { chunkFrames, spec, converter, standalone, signal } = params;
  if (signal?.aborted) return;
  const outFrameBytes = bytesPerFrame(spec.shape.sampleFormat, spec.shape.channels);
  const encodeStandalone = (pcm: Uint8Array): Uint8Array =>
    encoding(spec, () => {
      const encoder = createOutputEncoder(spec, pcm.byteLength / outFrameBytes);
      return concatBytes([encoder.write(pcm), encoder.end()]);
    });
  const cursor = params.openCursor();
  try {
    for (;;) {
      let pcm: Uint8Array | null;
      try {
        pcm = await cursor.read(chunkFrames, { minFrames: chunkFrames, ...(signal ? { signal } : {}) });
      } catch (error) {
        if (signal?.aborted) return;
        throw new RecorderError(
          'STREAM_FAILED',
          `stream could not read the recording: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      if (pcm === null) break;
      const converted = encoding(spec, () => converter.write(pcm));
      if (standalone) {
        if (converted.byteLength > 0) yield encodeStandalone(converted);
      } else {
        const out = encoding(spec, () => params.encoder.write(converted));
        if (out.byteLength > 0) yield out;
      }
      if (signal?.aborted) return;
    }
    // The recording ended: flush the converter's tail and finalise the encoder.
    const tail = encoding(spec, () => converter.end());
    if (standalone) {
      if (tail.byteLength > 0) yield encodeStandalone(tail);
    } else {
      const out = encoding(spec, () => concatBytes([params.encoder.write(tail), params.encoder.end()]));
      if (out.byteLength > 0) yield out;
    }
  } finally {
    cursor.close();
  }
}
