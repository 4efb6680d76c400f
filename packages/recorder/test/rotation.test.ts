import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { concatBytes } from '@audex/pcm';
import { describe, expect, test } from 'vitest';
import type { RecordingMetadata, RotatedEvent } from '../src/index.js';
import {
  collect,
  expectedPcm,
  ffmpegDecode,
  flacChecks,
  rigsPerTest,
  waitForFrames,
  wavData,
} from './helpers.js';

const rigs = rigsPerTest();
const config = { rate: 16_000, channels: 1, sampleFormat: 'int16', chunk: 1000 } as const;

/** The stored files of one rotated recording, in sequence order, with their metadata. */
async function storedFiles(rig: ReturnType<typeof rigs.make>, keys: string[]) {
  const files = [];
  for (const key of keys) {
    const file = await rig.store.download(key);
    files.push({
      key,
      file,
      data: wavData(file).data,
      metadata: (await rig.store.getMetadata(key)) as RecordingMetadata,
    });
  }
  return files;
}

describe('rotation', () => {
  test('7 s at everyMs 2000 gives four files that concatenate to the capture sample for sample, each a valid WAV with its metadata; streams are unaffected', async () => {
    const rig = rigs.make({
      config,
      source: { durationMs: 7000, speed: 0 },
      recorder: { rotate: { everyMs: 2000 } },
    });
    const { recorder } = rig;
    const stored: { key: string; metadata: RecordingMetadata }[] = [];
    const rotated: RotatedEvent[] = [];
    recorder.on('stored', (s) => stored.push(s));
    recorder.on('rotated', (r) => rotated.push(r));
    await recorder.init();
    const firstKey = await recorder.start('rot');
    expect(firstKey).toMatch(/^audex\/rot\/[0-9a-f-]{36}-000000\.wav$/);
    const stream = collect(recorder.stream());
    const mp3 = collect(recorder.stream({ format: 'mp3', chunkSize: 4096 }));
    await waitForFrames(recorder, 7 * 16_000);
    const saved = await recorder.stop();

    expect(stored.map((s) => s.key)).toHaveLength(4);
    expect(stored[0]!.key).toBe(firstKey);
    expect(saved.key).toBe(stored[3]!.key);
    expect(rotated.map((r) => r.sequence)).toEqual([1, 2, 3]);
    const files = await storedFiles(
      rig,
      stored.map((s) => s.key),
    );
    const id = firstKey.slice('audex/rot/'.length, -'-000000.wav'.length);
    files.forEach(({ key, metadata }, i) => {
      expect(key).toBe(`audex/rot/${id}-${String(i).padStart(6, '0')}.wav`);
      expect(metadata).toMatchObject({
        sequence: i,
        previous_key: i === 0 ? null : files[i - 1]!.key,
        recording_id: id,
        frame_count: i < 3 ? 32_000 : 16_000,
        content_type: 'audio/wav',
      });
      expect(metadata).toEqual(stored[i]!.metadata);
      if (i > 0) expect(metadata.started_at).toBe(files[i - 1]!.metadata.ended_at);
    });
    for (const { file } of files) expect(ffmpegDecode(file, 'wav').stderr).toBe('');
    const all = concatBytes(files.map((f) => f.data));
    expect(Buffer.from(all).equals(Buffer.from(expectedPcm(0, 7 * 16_000, config)))).toBe(true);
    expect(Buffer.from(saved.frames).equals(Buffer.from(files[3]!.data))).toBe(true);
    // One stream over all four files, gapless; the MP3 stream one clean file as long as the audio.
    expect(Buffer.from(concatBytes(await stream)).equals(Buffer.from(all))).toBe(true);
    const decoded = ffmpegDecode(concatBytes(await mp3), 'mp3');
    expect(decoded.stderr).toBe('');
    expect(decoded.samples.length - 7 * 16_000).toBeGreaterThanOrEqual(0);
    expect(decoded.samples.length - 7 * 16_000).toBeLessThan(1105 + 1152);
    // Stored files left the spool as they were uploaded; the last one stays until the next start().
    const dir = join(rig.spoolDir, 'recordings', id);
    expect(readdirSync(dir).filter((f) => f.endsWith('.journal'))).toEqual([`${id}-000003.journal`]);
    await recorder.start();
    expect(existsSync(dir)).toBe(false);
  });

  test('maxBytes: no stored file is larger, the files still concatenate to the capture', async () => {
    const rig = rigs.make({
      config: { ...config, sampleFormat: 'int24', channels: 3 },
      source: { durationMs: 3000, speed: 0 },
      recorder: { rotate: { maxBytes: 100_001 } },
    });
    const { recorder } = rig;
    const keys: string[] = [];
    recorder.on('stored', (s) => keys.push(s.key));
    await recorder.init();
    await recorder.start();
    await waitForFrames(recorder, 3 * 16_000);
    await recorder.stop();
    const files = await storedFiles(rig, keys);
    expect(files.length).toBe(Math.ceil((3 * 16_000) / files[0]!.metadata.frame_count));
    for (const { file } of files.slice(0, -1)) {
      expect(file.byteLength).toBeLessThanOrEqual(100_001);
      expect(file.byteLength).toBeGreaterThan(100_001 - 9 - 1);
    }
    const shape = { rate: 16_000, channels: 3, sampleFormat: 'int24' } as const;
    const all = concatBytes(files.map((f) => f.data));
    expect(Buffer.from(all).equals(Buffer.from(expectedPcm(0, 3 * 16_000, shape)))).toBe(true);
  });

  test("with storeFormat 'flac' every file is a FLAC (flac -t) and they still join sample for sample", async () => {
    const rig = rigs.make({
      config,
      source: { durationMs: 5000, speed: 0 },
      recorder: { rotate: { everyMs: 2000 }, storeFormat: 'flac' },
    });
    const keys: string[] = [];
    rig.recorder.on('stored', (s) => keys.push(s.key));
    await rig.recorder.init();
    await rig.recorder.start('rot');
    await waitForFrames(rig.recorder, 5 * 16_000);
    await rig.recorder.stop();
    expect(keys.map((k) => k.slice(-12))).toEqual(['-000000.flac', '-000001.flac', '-000002.flac']);
    const pcm = [];
    for (const key of keys) {
      const checks = flacChecks(await rig.store.download(key));
      expect(checks.testOk, checks.testLog).toBe(true);
      pcm.push(checks.pcm);
    }
    expect(Buffer.from(concatBytes(pcm)).equals(Buffer.from(expectedPcm(0, 5 * 16_000, config)))).toBe(true);
  });

  test('a recording that stops exactly at a limit has no empty last file', async () => {
    const rig = rigs.make({
      config,
      source: { durationMs: 4000, speed: 0 },
      recorder: { rotate: { everyMs: 2000 } },
    });
    const keys: string[] = [];
    rig.recorder.on('stored', (s) => keys.push(s.key));
    await rig.recorder.init();
    await rig.recorder.start();
    await waitForFrames(rig.recorder, 4 * 16_000);
    const saved = await rig.recorder.stop();
    expect(keys).toHaveLength(2);
    expect(saved.durationMs).toBe(2000);
  });

  test('a rotated file the store refuses stays in the spool; recording goes on; recover() stores it later', async () => {
    const rig = rigs.make({
      config,
      source: { durationMs: 5000, speed: 0 },
      recorder: { rotate: { everyMs: 2000 }, uploadRetries: 0 },
    });
    const { recorder, store } = rig;
    const upload = store.upload.bind(store);
    let refuse = true;
    store.upload = async (data, key, metadata, ...rest) => {
      if (refuse && key.endsWith('-000000.wav'))
        throw Object.assign(new Error('store down'), { code: 'NETWORK' });
      return upload(data, key, metadata, ...rest);
    };
    const errors: Error[] = [];
    recorder.on('error', (e) => errors.push(e));
    await recorder.init();
    const first = await recorder.start();
    await waitForFrames(recorder, 5 * 16_000);
    await recorder.stop();
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['UPLOAD_FAILED']);
    expect(await store.exists(first)).toBe(false);
    refuse = false;
    const recovered = await recorder.recover();
    expect(recovered.map((r) => r.key)).toEqual([first]);
    expect(await store.getMetadata(first)).toMatchObject({
      sequence: 0,
      recovered: true,
      frame_count: 32_000,
    });
    expect(
      Buffer.from(wavData(await store.download(first)).data).equals(
        Buffer.from(expectedPcm(0, 32_000, config)),
      ),
    ).toBe(true);
  });
});
