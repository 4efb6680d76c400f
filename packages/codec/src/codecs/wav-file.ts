/**
 * Owns WAV patching on disk: `finalizeWavFile` from the file alone, `applyHeaderPatches` from an
 * encoder's patches.
 */
import { type FileHandle, open } from 'node:fs/promises';
import type { Encoder, HeaderPatch } from '../types.js';
import { parseWavHeader, RIFF_MAX, wavSizePatches } from './wav-header.js';

/** What {@link finalizeWavFile} wrote into the header. */
export interface FinalizedWav {
  /** `'RIFF'`, or `'RF64'` when the file passed 4 GiB. */
  container: 'RIFF' | 'RF64';
  /** Frames in the data chunk. */
  frames: number;
  /** Bytes of sample data. */
  dataBytes: number;
}

/** Bytes read from the start of the file to find the header (chunks before `data` must fit). */
const HEADER_WINDOW = 64 * 1024;

/**
 * Patches the sizes of a WAV file written with a streaming header (an encoder created without
 * `totalFrames`) so they match the file's length: RIFF and data sizes, the `fact` frame count and
 * the pad byte of an odd data size. Data beyond 4 GiB turns the file into RF64 by rewriting the
 * reserved `JUNK` chunk as `ds64`. A trailing partial frame is left outside the data chunk.
 * Safe to run twice. When the encoder is still at hand, applying its `headerPatches()` with
 * {@link applyHeaderPatches} does the same without reading the file.
 * @param path the WAV file; it is opened read-write.
 * @throws {CodecError} `CORRUPT_INPUT` when the file has no readable WAV header; `TOO_LARGE`
 * when it passed 4 GiB but has no reserved chunk to become RF64. File-system errors pass through.
 */
export async function finalizeWavFile(path: string): Promise<FinalizedWav> {
  const handle = await open(path, 'r+');
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(Math.min(size, HEADER_WINDOW));
    await handle.read(head, 0, head.length, 0);
    const info = parseWavHeader(head);
    const available = Math.max(0, size - info.dataOffset);
    let dataBytes = available - (available % info.blockAlign);
    // A file finalised before ends with its pad byte: not a sample.
    if (info.dataBytes !== null && info.dataBytes % 2 === 1 && available === info.dataBytes + 1) {
      dataBytes = info.dataBytes;
    }
    const patches = wavSizePatches(info, dataBytes);
    await writePatches(handle, patches);
    return {
      container: dataBytes + info.dataOffset - 8 + (dataBytes % 2) > RIFF_MAX ? 'RF64' : 'RIFF',
      frames: dataBytes / info.blockAlign,
      dataBytes,
    };
  } finally {
    await handle.close();
  }
}

async function writePatches(handle: FileHandle, patches: readonly HeaderPatch[]): Promise<void> {
  for (const { offset, bytes } of patches) await handle.write(bytes, 0, bytes.length, offset);
}

/**
 * Writes an encoder's {@link Encoder.headerPatches} over the file it produced (positioned writes;
 * a patch at the file's end appends). Use it when an encoder without `totalFrames` wrote to a file.
 * @param path the encoded file; it is opened read-write.
 * @throws File-system errors pass through.
 */
export async function applyHeaderPatches(path: string, patches: readonly HeaderPatch[]): Promise<void> {
  if (patches.length === 0) return;
  const handle = await open(path, 'r+');
  try {
    await writePatches(handle, patches);
  } finally {
    await handle.close();
  }
}
