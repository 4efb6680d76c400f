import { createHash } from 'node:crypto';
import { LocalStore } from '@audex/store';
import { expect, test } from 'vitest';
import { expectedPcm, rigsPerTest, tempDir, waitForFrames, wavData } from './helpers.js';

const rigs = rigsPerTest();

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1, 8);
const config = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const, chunk: 4000 };
const FRAMES = 16_000 * 3600;

async function digest(
  stream: AsyncIterable<Uint8Array>,
): Promise<{ sha: string; bytes: number; chunks: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let chunks = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    chunks++;
  }
  return { sha: hash.digest('hex'), bytes, chunks };
}

test('an hour of 16 kHz audio from a fast source: concurrent streams, segments from disk and RAM, one WAV', async () => {
  const root = tempDir('audex-long-');
  rigs.defer(root.remove);
  const store = new LocalStore({ root: root.dir });
  // Two tones, cheaper to generate than the default signal for 57.6 M samples.
  const generate = (f: number, _c: number, r: number): number => 0.3 * Math.sin((2 * Math.PI * 500 * f) / r);
  const rig = rigs.make({
    config,
    store,
    source: { durationMs: HOUR, startTime: T0, generate },
    recorder: { memoryMs: 5000 },
  });
  const { recorder } = rig;
  await recorder.init();
  const key = await recorder.start('long');
  const full = digest(recorder.stream({ chunkSize: 16_000 }));
  const resampled = digest(recorder.stream({ chunkSize: 8000, rate: 8000, sampleFormat: 'float32' }));
  const wavChunks = digest(recorder.stream({ chunkSize: 160_000, format: 'wav' }));

  await waitForFrames(recorder, FRAMES / 2, 120_000);
  // While recording: 10 min in (long spilled to disk) and a range across the RAM/disk boundary.
  const signal = (f: number, c: number, r: number) => generate(f, c, r);
  const early = await recorder.segment(T0 + 600_000, T0 + 601_000);
  expect(Buffer.from(early).equals(Buffer.from(expectedPcm(9_600_000, 9_616_000, config, signal)))).toBe(
    true,
  );
  const edge = recorder.frameCount;
  const edgeMs = T0 + (edge / 16_000) * 1000;
  const across = await recorder.segment(edgeMs - 8000, edgeMs - 1000);
  expect(
    Buffer.from(across).equals(Buffer.from(expectedPcm(edge - 128_000, edge - 16_000, config, signal))),
  ).toBe(true);

  await waitForFrames(recorder, FRAMES, 120_000);
  const saved = await recorder.stop({ frames: false });
  expect(saved.durationMs).toBe(HOUR);

  const stored = await store.download(key);
  const { info, data } = wavData(stored);
  expect(info.dataBytes).toBe(FRAMES * 2);
  const storedSha = createHash('sha256').update(data).digest('hex');
  const fullResult = await full;
  expect(fullResult).toEqual({ sha: storedSha, bytes: FRAMES * 2, chunks: 3600 });
  expect((await resampled).bytes).toBe((FRAMES / 2) * 4);
  expect((await wavChunks).chunks).toBe(360);
  const last = await recorder.segment(T0 + HOUR - 500, T0 + HOUR);
  expect(Buffer.from(last).equals(Buffer.from(expectedPcm(FRAMES - 8000, FRAMES, config, signal)))).toBe(
    true,
  );
}, 180_000);
