/**
 * Owns the glue between an encoder and an async source of PCM pieces: one generator that yields
 * a file chunk by chunk, so nothing but one piece is ever held.
 */
import type { Encoder } from './types.js';

/**
 * Runs `pcm` through `encoder` and yields the file: every non-empty `write()` result, then what
 * `end()` returns. Memory stays bounded by one piece. With an encoder created with `totalFrames`
 * (e.g. a stored recording whose length is known at stop) the output is exact as it streams; for
 * a streaming header, apply `encoder.headerPatches()` to the output afterwards when it is a file.
 *
 * ```ts
 * const encoder = getCodec('wav').createEncoder({ rate, channels, sampleFormat, totalFrames });
 * await store.upload(encodeChunks(encoder, buffer.stream({ chunkFrames: 32_768 })), key, metadata);
 * ```
 * @throws whatever the encoder or the source throws, from the iteration.
 */
export async function* encodeChunks(
  encoder: Encoder,
  pcm: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const piece of pcm) {
    const out = encoder.write(piece);
    if (out.length > 0) yield out;
  }
  const last = encoder.end();
  if (last.length > 0) yield last;
}
