// Part of the output room: one live stream() — its cursor, read `chunkFrames` at a time, through
// its encoder (a continuous codec pipeline, or standalone files per chunk), to the consumer.
import type { Cursor } from '@audex/buffer';
import type { Encoder } from '@audex/codec';
import { type AudioConfig, bytesPerFrame, concatBytes } from '@audex/pcm';
import { RecorderError } from './errors.js';
import { createConverter, createShapeEncoder, encoding, type OutputSpec } from './output-format.js';

const EMPTY = new Uint8Array(0);

/** What one `stream()` needs: its own cursor and encoder. */
export interface EncodedStreamParams {
  /** Opens the stream's cursor on first pull (so an unread stream holds nothing). */
  openCursor(): Cursor;
  /** Captured frames per step. */
  chunkFrames: number;
  spec: OutputSpec;
  /** Capture PCM in, encoded bytes out; created at the `stream()` call so bad options fail there. */
  encoder: Encoder;
  signal: AbortSignal | undefined;
}

/**
 * An encoder that makes each written chunk a standalone file (the reference's WAV stream chunks):
 * one continuous conversion to `spec.shape`, then a fresh encoder per chunk.
 */
export function standaloneFiles(capture: Readonly<AudioConfig>, spec: OutputSpec): Encoder {
  const converter = createConverter(capture, spec);
  const frameBytes = bytesPerFrame(spec.shape.sampleFormat, spec.shape.channels);
  const file = (pcm: Uint8Array): Uint8Array => {
    if (pcm.byteLength === 0) return EMPTY;
    const encoder = createShapeEncoder(spec, pcm.byteLength / frameBytes);
    return concatBytes([encoder.write(pcm), encoder.end()]);
  };
  return { write: (pcm) => file(converter.write(pcm)), end: () => file(converter.end()) };
}

/**
 * One stream's loop: cursor → encoder. Each step reads exactly `chunkFrames` new frames, so its
 * cost does not depend on how long the recording is; a slow consumer only delays its own cursor.
 * When the recording ends, the tail is flushed and the encoder finalised.
 */
export async function* encodedStream(
  params: EncodedStreamParams,
): AsyncGenerator<Uint8Array, void, undefined> {
  const { chunkFrames, spec, encoder, signal } = params;
  if (signal?.aborted) return;
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
          { cause: error },
        );
      }
      if (pcm === null) break;
      const out = encoding(spec, () => encoder.write(pcm));
      if (out.byteLength > 0) yield out;
      if (signal?.aborted) return;
    }
    const tail = encoding(spec, () => encoder.end());
    if (tail.byteLength > 0) yield tail;
  } finally {
    cursor.close();
  }
}
