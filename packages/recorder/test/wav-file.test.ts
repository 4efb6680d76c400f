import type { FrameBuffer } from '@audex/buffer';
import { parseWavHeader } from '@audex/codec';
import { expect, test } from 'vitest';
import { wavFile } from '../src/upload.js';

/** The first piece wavFile() yields: the header, before any sample is read. */
async function headerOf(buffer: FrameBuffer): Promise<Uint8Array> {
  const pieces = wavFile(buffer);
  const { value } = await pieces.next();
  await pieces.return(undefined);
  return value as Uint8Array;
}

/** Only what wavFile() reads of a buffer: its shape and size (a 3 h 20 min recording). */
function bufferOfSize(frameCount: number): FrameBuffer {
  return {
    rate: 48_000,
    channels: 2,
    sampleFormat: 'float32',
    frameCount,
    // The samples themselves are not the point here: the header must describe them.
    stream: async function* () {},
  } as unknown as FrameBuffer;
}

test('a recording beyond 4 GiB of WAV is stored as RF64 with exact 64-bit sizes', async () => {
  const frames = 48_000 * 12_000; // 3 h 20 min of 48 kHz stereo float32: 4.6 GB of samples
  const info = parseWavHeader(await headerOf(bufferOfSize(frames)));
  expect(info.container).toBe('RF64');
  expect(info.dataBytes).toBe(frames * 8);
  expect(info).toMatchObject({ rate: 48_000, channels: 2, sampleFormat: 'float32' });
});

test('a recording under 4 GiB keeps a plain RIFF header', async () => {
  expect(parseWavHeader(await headerOf(bufferOfSize(48_000)))).toMatchObject({
    container: 'RIFF',
    dataBytes: 48_000 * 8,
  });
});
