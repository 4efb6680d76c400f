import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWav } from '@audex/codec';
import { bytesPerFrame, SAMPLE_FORMATS } from '@audex/pcm';
import { describe, expect, test } from 'vitest';
import { expectedPcm, rigsPerTest, tempDir, waitForFrames } from './helpers.js';

const rigs = rigsPerTest();

/**
 * libsndfile notes every odd-sized data chunk, its own files included (RIFF allows an odd chunk
 * size followed by a pad byte, which is what the codec writes). It is a remark about the sample
 * layout, not the header, so it is the one line allowed, and only when the data size is odd.
 */
const ODD_DATA_NOTE = "*** 'data' chunk should be an even number of bytes in length.";
const RATE = 8000;

const CASES = SAMPLE_FORMATS.flatMap((sampleFormat) =>
  [1, 2].flatMap((channels) => [1001, 1000].map((frames) => [sampleFormat, channels, frames] as const)),
);

describe('the WAV stop() stores passes a strict reader', () => {
  test.each(CASES)(
    '%s × %i ch, %i frames: sndfile-info reports no warning',
    async (sampleFormat, channels, frames) => {
      const config = { sampleFormat, channels, rate: RATE, chunk: 160 };
      // The synthetic source delivers exactly `frames` frames, then nothing.
      const rig = rigs.make({ config, source: { durationMs: (frames * 1000) / RATE } });
      const { recorder, store } = rig;
      await recorder.init();
      const key = await recorder.start('strict');
      await waitForFrames(recorder, frames);
      await recorder.stop({ frames: false });
      const file = await store.download(key);

      const dataBytes = frames * bytesPerFrame(sampleFormat, channels);
      // Header + data + the pad byte of an odd data size, and the RIFF size counts exactly that.
      expect(new DataView(file.buffer, file.byteOffset).getUint32(4, true)).toBe(file.byteLength - 8);
      expect(file.byteLength % 2).toBe(0);
      const wav = decodeWav(file);
      expect(wav.frames).toBe(frames);
      expect(Buffer.from(wav.data).equals(Buffer.from(expectedPcm(0, frames, config)))).toBe(true);

      const dir = tempDir('audex-stored-wav-');
      rigs.defer(dir.remove);
      const path = join(dir.dir, 'stored.wav');
      writeFileSync(path, file);
      const log = execFileSync('sndfile-info', [path], { encoding: 'utf8' });
      const warnings = log
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => /^\*|should|warning|weird|unknown/i.test(line))
        .filter((line) => !(dataBytes % 2 === 1 && line === ODD_DATA_NOTE));
      expect(warnings, log).toEqual([]);
      expect(log).toMatch(new RegExp(`^Frames\\s+: ${frames}$`, 'm'));
      expect(log).toMatch(new RegExp(`^data : ${dataBytes}$`, 'm'));
    },
  );
});
