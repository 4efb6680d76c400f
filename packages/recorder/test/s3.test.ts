import { S3Store } from '@audex/store/s3';
import { startS3Server } from '@audex/test-utils/s3-server';
import { expect, test } from 'vitest';
import { RecorderError } from '../src/index.js';
import { expectedPcm, rigsPerTest, waitForFrames, wavData } from './helpers.js';

const rigs = rigsPerTest();

const config = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const, chunk: 1024 };

test('S3 end to end: stored over HTTP, server down at stop() rejects, recover() saves it once the server is back', async () => {
  const server = await startS3Server();
  rigs.defer(() => server.close());
  const store = new S3Store({
    bucket: server.bucket,
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: server.credentials,
    maxAttempts: 1,
  });
  const rig = rigs.make({ config, store, source: { durationMs: 1000, startTime: Date.UTC(2026, 0, 1) } });
  const { recorder } = rig;
  await recorder.init();

  const first = await recorder.start('s3');
  await waitForFrames(recorder, 16_000);
  await recorder.stop({ frames: false });
  const { data } = wavData(await store.download(first));
  expect(Buffer.from(data).equals(Buffer.from(expectedPcm(0, 16_000, config)))).toBe(true);
  expect(await store.getMetadata(first)).toMatchObject({
    content_type: 'audio/wav',
    duration_ms: 1000,
    sample_rate: 16_000,
    channels: 1,
    frame_count: 16_000,
    started_at: '2026-01-01T00:00:00.000Z',
    gaps: [],
    overflow_count: 0,
  });

  const second = await recorder.start('s3');
  await waitForFrames(recorder, 16_000);
  await server.stop();
  const error = await recorder.stop({ frames: false }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RecorderError);
  expect((error as RecorderError).code).toBe('UPLOAD_FAILED');
  expect((error as Error).message).not.toMatch(/S3RVER/);

  await server.restart();
  const recovered = await recorder.recover();
  expect(recovered.map((r) => r.key)).toEqual([second]);
  expect(wavData(await store.download(second)).data.byteLength).toBe(32_000);
  expect(await store.getMetadata(second)).toMatchObject({ recovered: true, frame_count: 16_000 });
}, 60_000);
