import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SyntheticSource } from '@audex/capture';
import { MemoryStore } from '@audex/store';
import { afterEach, expect, test } from 'vitest';
import { AudioRecorder, type RecoveredRecording } from '../src/index.js';
import { expectedPcm, flacChecks, tempDir, wavData } from './helpers.js';

const child = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

test('a live recording in the spool is left alone; after a SIGKILL the next init() uploads all audio up to at most 1 s before the kill', async () => {
  const spool = tempDir();
  cleanups.push(spool.remove);
  const proc = spawn(process.execPath, ['--conditions=@audex/source', '--import', 'tsx', child, spool.dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => proc.kill('SIGKILL'));
  let key = '';
  let frames = 0;
  let waiter: { at: number; resolve: () => void } | undefined;
  const exited = new Promise<void>((resolve, reject) => {
    proc.on('exit', () => resolve());
    proc.on('error', reject);
  });
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const msg = JSON.parse(line) as { key?: string; frames?: number };
    if (msg.key) key = msg.key;
    if (msg.frames !== undefined) frames = msg.frames;
    if (waiter && frames >= waiter.at) {
      waiter.resolve();
      waiter = undefined;
    }
  });
  const framesReach = (at: number) => new Promise<void>((resolve) => (waiter = { at, resolve }));

  // While the child still records, another recorder on the same spool leaves its journal alone.
  await framesReach(16_000);
  const probeStore = new MemoryStore();
  const probe = new AudioRecorder(probeStore, {}, { source: new SyntheticSource(), spoolDir: spool.dir });
  expect(await probe.init()).toEqual([]);
  await probe.close();
  expect(await probeStore.exists(key)).toBe(false);

  await framesReach(40_000);
  const framesAtKill = frames;
  const killedAt = Date.now();
  proc.kill('SIGKILL');
  await exited;
  expect(proc.signalCode).toBe('SIGKILL');
  expect(key).toMatch(/^audex\/crash\//);

  const store = new MemoryStore();
  const recorder = new AudioRecorder(store, {}, { source: new SyntheticSource(), spoolDir: spool.dir });
  const events: RecoveredRecording[] = [];
  recorder.on('recovered', (r) => events.push(r));
  const recovered = await recorder.init();
  expect(recovered).toHaveLength(1);
  expect(events).toEqual(recovered);
  const [rec] = recovered;
  expect(rec!.key).toBe(key);
  // At most 1 s of audio lost: in frames, and on the wall clock.
  expect(rec!.frameCount).toBeGreaterThanOrEqual(framesAtKill - 16_000);
  expect(rec!.endedAt.getTime()).toBeGreaterThanOrEqual(killedAt - 1000);

  const { info, data } = wavData(await store.download(key));
  expect(info.rate).toBe(16_000);
  const config = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const };
  expect(Buffer.from(data).equals(Buffer.from(expectedPcm(0, rec!.frameCount, config)))).toBe(true);
  expect(await store.getMetadata(key)).toMatchObject({
    recovered: true,
    frame_count: rec!.frameCount,
    sample_rate: 16_000,
    content_type: 'audio/wav',
  });
  // Nothing left to recover a second time.
  expect(await recorder.recover()).toEqual([]);
  await recorder.close();
}, 30_000);

test("a recording made with storeFormat 'flac' and SIGKILLed is recovered as FLAC (the journal header names the format), by a recorder storing WAV", async () => {
  const spool = tempDir();
  cleanups.push(spool.remove);
  const proc = spawn(
    process.execPath,
    ['--conditions=@audex/source', '--import', 'tsx', child, spool.dir, 'flac'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  cleanups.push(() => proc.kill('SIGKILL'));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  let key = '';
  await new Promise<void>((resolve) => {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { key?: string; frames?: number };
      if (msg.key) key = msg.key;
      // 1.5 s recorded: at least one journal commit (every 500 ms) holds audio.
      if ((msg.frames ?? 0) >= 24_000) resolve();
    });
  });
  proc.kill('SIGKILL');
  await exited;
  expect(key).toMatch(/^audex\/crash\/[\w-]+\.flac$/);

  const store = new MemoryStore();
  const recorder = new AudioRecorder(store, {}, { source: new SyntheticSource(), spoolDir: spool.dir });
  const recovered = await recorder.init();
  await recorder.close();
  expect(recovered.map((r) => r.key)).toEqual([key]);
  const frames = recovered[0]!.frameCount;
  expect(frames).toBeGreaterThanOrEqual(8000);
  const checks = flacChecks(await store.download(key));
  expect(checks.testOk, checks.testLog).toBe(true);
  const config = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const };
  expect(Buffer.from(checks.pcm).equals(Buffer.from(expectedPcm(0, frames, config)))).toBe(true);
  expect(await store.getMetadata(key)).toMatchObject({
    recovered: true,
    frame_count: frames,
    content_type: 'audio/flac',
  });
}, 30_000);
