import { open } from 'node:fs/promises';
import { CodecError } from '../errors.js';
import { parseWavHeader, RIFF_MAX } from './wav-header.js';

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
 * `totalFrames`) so they match the file's length. Data beyond 4 GiB turns the file into RF64 by
 * rewriting the reserved `JUNK` chunk as `ds64`. A trailing partial frame is left outside the
 * data chunk. Safe to run twice.
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
    const dataBytes = available - (available % info.blockAlign);
    const frames = dataBytes / info.blockAlign;
    const riffSize = info.dataOffset - 8 + dataBytes + (dataBytes % 2);
    const u32 = (value: number): Uint8Array => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, value, true);
      return b;
    };
    const write = async (bytes: Uint8Array, position: number): Promise<void> => {
      await handle.write(bytes, 0, bytes.length, position);
    };
    if (dataBytes % 2 === 1 && available === dataBytes) {
      // Add the word-alignment pad byte a streaming writer leaves out.
      await write(new Uint8Array(1), size);
    }
    if (riffSize <= RIFF_MAX) {
      if (info.ds64Offset !== null && info.container === 'RF64') {
        // Shrunk below 4 GiB since it was made RF64: turn ds64 back into JUNK.
        await write(new TextEncoder().encode('JUNK'), info.ds64Offset);
      }
      await write(new TextEncoder().encode('RIFF'), 0);
      await write(u32(riffSize), 4);
      await write(u32(dataBytes), info.dataSizeOffset);
      return { container: 'RIFF', frames, dataBytes };
    }
    if (info.ds64Offset === null) {
      throw new CodecError(
        'TOO_LARGE',
        `WAV: ${path} holds ${dataBytes} bytes of data, beyond RIFF's 4 GiB, and has no reserved chunk to become RF64`,
        { format: 'wav' },
      );
    }
    const ds64 = new Uint8Array(36);
    const view = new DataView(ds64.buffer);
    ds64.set(new TextEncoder().encode('ds64'), 0);
    view.setUint32(4, 28, true);
    const set64 = (offset: number, value: number): void => {
      view.setUint32(offset, value % 0x1_0000_0000, true);
      view.setUint32(offset + 4, Math.floor(value / 0x1_0000_0000), true);
    };
    set64(8, riffSize);
    set64(16, dataBytes);
    set64(24, frames);
    await write(ds64, info.ds64Offset);
    await write(new TextEncoder().encode('RF64'), 0);
    await write(u32(RIFF_MAX), 4);
    await write(u32(RIFF_MAX), info.dataSizeOffset);
    return { container: 'RF64', frames, dataBytes };
  } finally {
    await handle.close();
  }
}
