import { createHash } from 'node:crypto';
import { S3Store } from '@audex/store/s3';
import { S3_SERVER_KINDS, startS3Server } from '@audex/test-utils/s3-server';
import { describe, expect, test } from 'vitest';
import { AudioRecorder, RecorderError } from '../src/index.js';
import { expectedPcm, flacChecks, rigsPerTest, waitForFrames, wavData } from './helpers.js';

const rigs = rigsPerTest();

const CASES = (['int16', 'int24', 'int8'] as const).flatMap((sampleFormat) =>
  [1, 2].map((channels) => [sampleFormat, channels] as const),
);

describe("storeFormat 'flac': the stored file is FLAC, lossless", () => {
  test.each(CASES)(
    '%s × %i ch: key .flac, content_type audio/flac, flac -t ok (MD5 set and checked), decoded bit-exact to the captured PCM',
    async (sampleFormat, channels) => {
      const config = { sampleFormat, channels, rate: 16_000, chunk: 320 };
      // 3 whole FLAC blocks and a short one.
      const frames = 3 * 4096 + 1001;
      const rig = rigs.make({
        config,
        source: { durationMs: (frames * 1000) / 16_000 },
        recorder: { storeFormat: 'flac' },
      });
      const { recorder, store } = rig;
      await recorder.init();
      const key = await recorder.start('flac');
      expect(key).toMatch(/^audex\/flac\/[\w-]+\.flac$/);
      await waitForFrames(recorder, frames);
      const segment = await recorder.stop({ frames: false });
      expect(segment.key).toBe(key);
      const file = await store.download(key);
      expect(new TextDecoder().decode(file.subarray(0, 4))).toBe('fLaC');

      const checks = flacChecks(file);
      expect(checks.testOk, checks.testLog).toBe(true);
      const captured = expectedPcm(0, frames, config);
      expect(checks.pcm.byteLength).toBe(captured.byteLength);
      expect(Buffer.from(checks.pcm).equals(Buffer.from(captured))).toBe(true);
      // STREAMINFO was complete from the first byte, though the store's upload cannot seek.
      expect(checks.totalSamples).toBe(frames);
      expect(checks.md5).toBe(createHash('md5').update(captured).digest('hex'));
      expect(checks.bitsPerSample).toBe({ int8: 8, int16: 16, int24: 24 }[sampleFormat]);

      const metadata = await store.getMetadata(key);
      expect(metadata).toMatchObject({
        content_type: 'audio/flac',
        frame_count: frames,
        sample_rate: 16_000,
        channels,
        sample_format: sampleFormat,
        gaps: [],
        overflow_count: 0,
      });
      expect(typeof metadata.loudness_lufs).toBe('number');
    },
  );

  test('gaps, loudness and the rest of the metadata are what the WAV of the same capture gets; the FLAC is smaller', async () => {
    const config = { sampleFormat: 'int16' as const, channels: 2, rate: 16_000, chunk: 320 };
    const source = { durationMs: 2000, dropAfterFrames: [8000], dropFrames: 1600 };
    const stored: Record<string, { file: Uint8Array; metadata: Record<string, unknown> }> = {};
    for (const storeFormat of ['wav', 'flac'] as const) {
      const rig = rigs.make({ config, source, recorder: { storeFormat } });
      await rig.recorder.init();
      const key = await rig.recorder.start('same');
      await waitForFrames(rig.recorder, 32_000);
      await rig.recorder.stop({ frames: false });
      stored[storeFormat] = {
        file: await rig.store.download(key),
        metadata: await rig.store.getMetadata(key),
      };
    }
    const { wav, flac } = stored as Required<typeof stored>;
    // What differs between two runs (times) or by design (content_type) left out.
    const strip = (metadata: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(metadata).filter(
          ([name]) => !['content_type', 'started_at', 'ended_at', 'wall_clock_ms'].includes(name),
        ),
      );
    expect(wav!.metadata.gap_count).toBe(1);
    expect(strip(flac!.metadata)).toEqual(strip(wav!.metadata));
    expect([wav!.metadata.content_type, flac!.metadata.content_type]).toEqual(['audio/wav', 'audio/flac']);
    // The same samples, gap silence included.
    expect(Buffer.from(flacChecks(flac!.file).pcm).equals(Buffer.from(wavData(wav!.file).data))).toBe(true);
    expect(flac!.file.byteLength).toBeLessThan(wav!.file.byteLength * 0.75);
  });

  test('the default is WAV; storeFormat is checked at construction with errors naming the value and what is allowed', () => {
    const rig = rigs.make();
    expect(rig.recorder).toBeInstanceOf(AudioRecorder);
    const make = (config: object, storeFormat: unknown) => () =>
      rigs.make({ config, recorder: { storeFormat: storeFormat as 'flac' } });
    for (const bad of ['mp3', 'opus', 'FLAC', '', 7, null]) {
      const error = (() => {
        try {
          make({}, bad)();
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      if (bad === null) {
        // null is "not given": the default
        expect(error).toBeUndefined();
        continue;
      }
      expect(error).toBeInstanceOf(RecorderError);
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', field: 'storeFormat' });
      expect((error as Error).message).toMatch(/storeFormat must be 'wav' or 'flac'/);
      expect((error as Error).message).toContain(typeof bad === 'string' ? JSON.stringify(bad) : String(bad));
    }
    for (const sampleFormat of ['float32', 'int32']) {
      expect(make({ sampleFormat }, 'flac')).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          field: 'storeFormat',
          message: expect.stringContaining(`a ${sampleFormat} capture would be quantised to 24-bit`),
        }),
      );
      // WAV stores them as they are.
      expect(make({ sampleFormat }, 'wav')).not.toThrow();
    }
    expect(make({ channels: 9 }, 'flac')).toThrow(/at most 8 channels, the capture has 9/);
    expect(make({ channels: 8 }, 'flac')).not.toThrow();
  });
});

describe.each(S3_SERVER_KINDS)("storeFormat 'flac' on S3 (%s)", (kind) => {
  test('round trip: the object is the FLAC (flac -t ok, bit-exact), content_type audio/flac; recover() after the server was down stores FLAC too', async () => {
    const server = await startS3Server({ kind });
    rigs.defer(() => server.close());
    const store = new S3Store({
      bucket: server.bucket,
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: server.credentials,
      maxAttempts: 1,
    });
    rigs.defer(() => store.destroy());
    const config = { rate: 48_000, channels: 2, sampleFormat: 'int24' as const, chunk: 960 };
    const frames = 48_000 * 4;
    const rig = rigs.make({
      config,
      store,
      source: { durationMs: 4000 },
      recorder: { storeFormat: 'flac', uploadRetries: 0 },
    });
    const { recorder } = rig;
    await recorder.init();
    const first = await recorder.start('s3');
    await waitForFrames(recorder, frames);
    await recorder.stop({ frames: false });
    expect(first).toMatch(/\.flac$/);
    const checks = flacChecks(await store.download(first));
    expect(checks.testOk, checks.testLog).toBe(true);
    expect(Buffer.from(checks.pcm).equals(Buffer.from(expectedPcm(0, frames, config)))).toBe(true);
    expect(await store.getMetadata(first)).toMatchObject({ content_type: 'audio/flac', frame_count: frames });

    const second = await recorder.start('s3');
    await waitForFrames(recorder, frames);
    await server.stop();
    await expect(recorder.stop({ frames: false })).rejects.toMatchObject({ code: 'UPLOAD_FAILED' });
    await server.restart();
    expect((await recorder.recover()).map((r) => r.key)).toEqual([second]);
    const again = flacChecks(await store.download(second));
    expect(again.testOk, again.testLog).toBe(true);
    expect(Buffer.from(again.pcm).equals(Buffer.from(expectedPcm(0, frames, config)))).toBe(true);
    expect(await store.getMetadata(second)).toMatchObject({ content_type: 'audio/flac', recovered: true });
  }, 120_000);
});
