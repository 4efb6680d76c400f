// Device loss on the real input: the virtual microphone's PulseAudio daemon killed and restarted
// on the same socket, its source module unloaded and loaded again, and the source suspended (a stall:
// no audio, no error) and resumed, mid-recording.
import { concatBytes } from '@audex/pcm';
import { MemoryStore } from '@audex/store';
import { detectTone } from '@audex/test-utils/signals';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  AudioRecorder,
  type DeviceLostEvent,
  type DeviceRestoredEvent,
  type RecordingMetadata,
} from '../src/index.js';
import { collect, tempDir, wavData } from './helpers.js';

let mic: VirtualMic;
beforeAll(async () => {
  mic = await startVirtualMic();
});
afterAll(async () => {
  await mic?.stop();
});

const RATE = 16_000;
const BEFORE_HZ = 600;
const AFTER_HZ = 1300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(20);
  }
}

function floats(data: Uint8Array): Float32Array {
  const samples = new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return Float32Array.from(samples, (s) => s / 32768);
}

/** Seconds (from the recording's start) of the 50 ms windows where `freq` holds most of the power. */
function toneWindows(samples: Float32Array, freq: number): number[] {
  const win = RATE / 20;
  const out: number[] = [];
  for (let i = 0; i + win <= samples.length; i += win) {
    if (detectTone(samples.subarray(i, i + win), RATE, freq) > 0.8) out.push(i / RATE);
  }
  return out;
}

/**
 * Records through an outage made by `outage` (called 3 s in), with a tone before it and another
 * after the input is back, then checks one stored recording holding both, its timeline as long as
 * the wall clock, the live PCM stream identical to it.
 */
async function recordThrough(outage: () => Promise<void>, restore: () => Promise<void>) {
  const spool = tempDir();
  const store = new MemoryStore();
  const recorder = new AudioRecorder(
    store,
    { rate: RATE, channels: 1, sampleFormat: 'int16' },
    { spoolDir: spool.dir },
  );
  const lost: DeviceLostEvent[] = [];
  const restored: DeviceRestoredEvent[] = [];
  const errors: Error[] = [];
  recorder.on('deviceLost', (e) => lost.push(e));
  recorder.on('deviceRestored', (e) => restored.push(e));
  recorder.on('error', (e) => errors.push(e));
  try {
    await recorder.init();
    const key = await recorder.start('outage');
    const stream = collect(recorder.stream());
    const before = await mic.playBackground({
      frequencies: [BEFORE_HZ],
      toneSeconds: 2.5,
      rate: 48_000,
      channels: 2,
    });
    await sleep(3000);
    await before.stop();
    await outage();
    await sleep(2000);
    await restore();
    // The input is back (or was never lost: PulseAudio may move the stream to another source).
    if (lost.length > 0) await until(() => restored.length === lost.length, 15_000);
    const after = await mic.playBackground({
      frequencies: [AFTER_HZ],
      toneSeconds: 2.5,
      rate: 48_000,
      channels: 2,
    });
    await sleep(3000);
    await after.stop();
    const stopAt = Date.now();
    const saved = await recorder.stop();
    const metadata = (await store.getMetadata(key)) as RecordingMetadata;
    const { data } = wavData(await store.download(key));
    expect(Buffer.from(data).equals(Buffer.from(saved.frames))).toBe(true);
    // The live stream: every frame of the recording, gaps as silence, nothing more.
    expect(Buffer.from(concatBytes(await stream)).equals(Buffer.from(data))).toBe(true);
    // The timeline is as long as the wall clock from the first frame to stop().
    expect(Math.abs(metadata.duration_ms - (stopAt - saved.startedAt.getTime()))).toBeLessThan(100);
    const samples = floats(data);
    const beforeAt = toneWindows(samples, BEFORE_HZ);
    const afterAt = toneWindows(samples, AFTER_HZ);
    expect(beforeAt.length).toBeGreaterThan(20); // > 1 s of it
    expect(afterAt.length).toBeGreaterThan(20);
    expect(Math.min(...afterAt)).toBeGreaterThan(Math.max(...beforeAt));
    expect(errors).toEqual([]);
    return { lost, restored, metadata, afterAt };
  } finally {
    await recorder.close();
    spool.remove();
  }
}

test('the audio server killed 3 s in and restarted 2 s later on the same socket: one recording, audio from both sides, the outage one gap', async () => {
  let killedAt = 0;
  let backAt = 0;
  const { lost, restored, metadata, afterAt } = await recordThrough(
    async () => {
      killedAt = Date.now();
      await mic.kill();
    },
    async () => {
      await mic.restart();
      backAt = Date.now();
    },
  );
  expect(lost).toHaveLength(1);
  expect(restored).toHaveLength(1);
  expect(lost[0]!.time).toBeGreaterThanOrEqual(killedAt);
  expect(metadata.gap_count).toBe(1);
  const gap = metadata.gaps[0]!;
  // The gap is the outage: from the kill until audio flowed again after the restart (the event
  // measures it on the source's clock, the timeline on its drift-following anchors).
  expect(Math.abs(gap.duration_ms - restored[0]!.gapMs)).toBeLessThan(50);
  expect(gap.duration_ms).toBeGreaterThan(backAt - killedAt - 200);
  expect(gap.start_ms / 1000).toBeLessThan(Math.min(...afterAt));
  expect(metadata.captured_frames + metadata.gap_frames).toBe(metadata.frame_count);
}, 90_000);

test('the virtual mic module unloaded and loaded again mid-recording: the recording goes on, audio from both sides', async () => {
  const { lost, restored, metadata } = await recordThrough(
    () => mic.unloadSource(),
    () => mic.loadSource(),
  );
  // PulseAudio moves a stream whose source vanished to the fallback source (here the speaker's
  // monitor, which hears the same tones), so the input may never be lost; if it was, it is back.
  expect(restored).toHaveLength(lost.length);
  expect(metadata.gap_count).toBeLessThanOrEqual(lost.length);
}, 90_000);

test('the virtual mic suspended (no audio and no error: a stall) and resumed mid-recording: the watchdog catches it, the input is re-opened, the outage one gap', async () => {
  let suspendedAt = 0;
  let resumedAt = 0;
  const { lost, restored, metadata, afterAt } = await recordThrough(
    async () => {
      suspendedAt = Date.now();
      await mic.setSuspended(true);
    },
    async () => {
      await mic.setSuspended(false);
      resumedAt = Date.now();
    },
  );
  expect(lost).toHaveLength(1);
  expect(lost[0]!.reason).toBe('stall');
  // Noticed once the watchdog period (default 1 s past the next chunk) had passed, before the resume.
  expect(lost[0]!.time).toBeGreaterThan(suspendedAt);
  expect(lost[0]!.time).toBeLessThan(resumedAt);
  expect(restored).toHaveLength(1);
  expect(metadata.gap_count).toBe(1);
  const gap = metadata.gaps[0]!;
  expect(Math.abs(gap.duration_ms - restored[0]!.gapMs)).toBeLessThan(50);
  expect(gap.duration_ms).toBeGreaterThan(resumedAt - suspendedAt - 200);
  expect(gap.start_ms / 1000).toBeLessThan(Math.min(...afterAt));
  expect(metadata.captured_frames + metadata.gap_frames).toBe(metadata.frame_count);
}, 90_000);
