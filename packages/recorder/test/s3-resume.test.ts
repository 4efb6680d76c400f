import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SyntheticSource } from '@audex/capture';
import { MemoryStore, StoreError, type StoreMetadata, type WriteOptions } from '@audex/store';
import { S3Store } from '@audex/store/s3';
import { startS3FaultProxy } from '@audex/test-utils/s3-fault-proxy';
import { startS3Server } from '@audex/test-utils/s3-server';
import { expect, test } from 'vitest';
import { AudioRecorder } from '../src/index.js';
import {
  expectedPcm,
  flacChecks,
  noisySignal,
  rigsPerTest,
  tempDir,
  waitForFrames,
  wavData,
} from './helpers.js';

const rigs = rigsPerTest();
const child = fileURLToPath(new URL('./fixtures/upload-child.ts', import.meta.url));
const config = { rate: 48_000, channels: 2, sampleFormat: 'int16' as const };
const FRAMES = 327_680 * 48; // 60 MiB of 48 kHz stereo int16
const MiB = 1024 * 1024;

test.each([
  ['wav', 7],
  ['flac', 7],
] as const)(
  'a recorder SIGKILLed mid-upload of a 60 MiB recording to RGW, stored as %s: the next init() resumes the upload, sending fewer parts than a fresh one, and stores it whole',
  async (storeFormat, partsBeforeKilling) => {
    const server = await startS3Server({ kind: 'rgw', buckets: ['audex-resume'] });
    rigs.defer(() => server.close());
    const proxy = await startS3FaultProxy(server);
    rigs.defer(() => proxy.close());
    const spool = tempDir();
    rigs.defer(() => spool.remove());

    const proc = spawn(
      process.execPath,
      [
        '--conditions=@audex/source',
        '--import',
        'tsx',
        child,
        spool.dir,
        proxy.endpoint,
        server.bucket,
        server.credentials.accessKeyId,
        server.credentials.secretAccessKey,
        storeFormat,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    rigs.defer(() => proc.kill('SIGKILL'));
    const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
    let key = '';
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { key?: string };
      if (msg.key) key = msg.key;
    });
    // The 8th part request kills the recorder: by then earlier parts are stored and journaled.
    const kill = proxy.inject({
      match: 'UploadPart',
      after: partsBeforeKilling,
      times: 1,
      before: async () => {
        proc.kill('SIGKILL');
        await exited;
      },
    });
    await exited;
    expect(proc.signalCode).toBe('SIGKILL');
    expect(kill.applied).toBe(1);
    expect(key).toMatch(/^audex\/resume\//);
    const partsBeforeKill = proxy.count('UploadPart');
    const recordingDir = readdirSync(join(spool.dir, 'recordings'));
    expect(recordingDir).toHaveLength(1);
    expect(
      readdirSync(join(spool.dir, 'recordings', recordingDir[0]!)).some((f) => f.endsWith('.upload')),
    ).toBe(true);

    proxy.reset();
    const store = new S3Store({
      bucket: server.bucket,
      endpoint: proxy.endpoint,
      forcePathStyle: true,
      credentials: server.credentials,
    });
    rigs.defer(() => store.destroy());
    const recorder = new AudioRecorder(store, config, { source: new SyntheticSource(), spoolDir: spool.dir });
    rigs.defer(() => recorder.close());
    const recovered = await recorder.init();
    expect(recovered.map((r) => [r.key, r.frameCount])).toEqual([[key, FRAMES]]);

    const file = await store.download(key);
    // A fresh upload sends the file in parts of 5 MiB: 13 for the WAV (44-byte header + 60 MiB, the
    // last part 44 bytes), 12 for the FLAC of the noisy signal (56.8 MiB).
    const fresh = Math.ceil(file.byteLength / (5 * MiB));
    expect(fresh).toBe(storeFormat === 'wav' ? 13 : 12);
    const resent = proxy.count('UploadPart');
    expect(resent).toBeLessThan(fresh);
    expect(resent).toBeLessThanOrEqual(fresh - 5);
    expect(proxy.count('ListParts')).toBe(1);
    expect(proxy.count('CreateMultipartUpload')).toBe(0);
    expect(partsBeforeKill).toBeGreaterThanOrEqual(8);

    if (storeFormat === 'wav') {
      const { info, data } = wavData(file);
      expect([info.rate, info.channels]).toEqual([48_000, 2]);
      expect(Buffer.from(data).equals(Buffer.from(expectedPcm(0, FRAMES, config)))).toBe(true);
    } else {
      // The resumed FLAC (re-encoded after the crash, the parts already stored kept) is one valid stream.
      const checks = flacChecks(file);
      expect(checks.testOk, checks.testLog).toBe(true);
      expect(Buffer.from(checks.pcm).equals(Buffer.from(expectedPcm(0, FRAMES, config, noisySignal)))).toBe(
        true,
      );
    }
    expect(await store.getMetadata(key)).toMatchObject({
      frame_count: FRAMES,
      sample_rate: 48_000,
      channels: 2,
      content_type: `audio/${storeFormat}`,
    });
    expect(await store.listIncompleteUploads()).toEqual([]);
    expect(readdirSync(join(spool.dir, 'recordings'))).toEqual([]);
  },
  240_000,
);

/** A MemoryStore whose uploads fail (`down`), or store and then fail (`lost`: the answer is lost); injected. */
class FailingStore extends MemoryStore {
  mode: 'down' | 'lost' | 'up' = 'down';
  override async upload(
    data: Uint8Array | AsyncIterable<Uint8Array>,
    key: string,
    metadata?: StoreMetadata,
    options?: WriteOptions,
  ): Promise<string> {
    if (this.mode === 'down') throw new StoreError('IO_ERROR', 'connection refused (injected)', { key });
    await super.upload(data, key, metadata, options);
    if (this.mode === 'lost')
      throw new StoreError('IO_ERROR', 'connection reset before the answer (injected)', { key });
    return key;
  }
}

test.each([
  ['another recording is under the key: it is not replaced, this one stays in the spool', 'down'],
  ['this recording is under the key (stored, answer lost): it counts as stored', 'lost'],
] as const)('recovery never replaces an object: %s', async (_, mode) => {
  const small = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const, chunk: 1024 };
  const store = new FailingStore();
  store.mode = mode;
  const rig = rigs.make({ config: small, store, recorder: { uploadRetries: 0 } });
  await rig.recorder.init();
  const key = await rig.recorder.start('kept');
  await waitForFrames(rig.recorder, 8000);
  await expect(rig.recorder.stop({ frames: false })).rejects.toMatchObject({ code: 'UPLOAD_FAILED' });
  const stored = rig.recorder.frameCount;
  await rig.recorder.close();
  store.mode = 'up';
  if (mode === 'down') await store.upload(new Uint8Array([1, 2, 3]), key, { someone: 'else' });

  const warnings: string[] = [];
  const second = new AudioRecorder(store, small, { source: new SyntheticSource(), spoolDir: rig.spoolDir });
  second.on('warning', (w) => warnings.push(w.code));
  const recovered = await second.init();
  await second.close();
  if (mode === 'down') {
    expect(recovered).toEqual([]);
    expect(warnings).toContain('RECOVERY_SKIPPED');
    expect([...(await store.download(key))]).toEqual([1, 2, 3]);
    expect(readdirSync(join(rig.spoolDir, 'recordings'))).toHaveLength(1);
  } else {
    expect(recovered.map((r) => r.key)).toEqual([key]);
    expect(warnings).toEqual([]);
    const { data } = wavData(await store.download(key));
    expect(data.length).toBe(stored * 2);
    expect(readdirSync(join(rig.spoolDir, 'recordings'))).toEqual([]);
  }
});
