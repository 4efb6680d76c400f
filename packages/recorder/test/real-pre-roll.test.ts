// Pre-roll on the real input (the virtual microphone): audio from before start() is in the
// recording, and back-to-back recordings with the device kept open join without a seam.
import { concatBytes } from '@audex/pcm';
import { MemoryStore } from '@audex/store';
import { detectTone } from '@audex/test-utils/signals';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { AudioRecorder, type RecordingMetadata } from '../src/index.js';
import { tempDir, wavData } from './helpers.js';

let mic: VirtualMic;
beforeAll(async () => {
  mic = await startVirtualMic();
});
afterAll(async () => {
  await mic?.stop();
});

const RATE = 16_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function floats(data: Uint8Array): Float64Array {
  const samples = new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return Float64Array.from(samples, (s) => s / 32768);
}

/**
 * How well each sample follows from the two before it for one pure tone: a sine obeys
 * x[n] = 2cos(w) x[n-1] - x[n-2], so a missing or doubled sample leaves a residual far above the
 * noise at that point. Returns the residual of every sample (0 for the first two).
 */
function sineResiduals(x: Float64Array): Float64Array {
  let num = 0;
  let den = 0;
  for (let n = 2; n < x.length; n++) {
    num += x[n - 1]! * (x[n]! + x[n - 2]!);
    den += 2 * x[n - 1]! * x[n - 1]!;
  }
  const c = num / den;
  const r = new Float64Array(x.length);
  for (let n = 2; n < x.length; n++) r[n] = Math.abs(x[n]! - 2 * c * x[n - 1]! + x[n - 2]!);
  return r;
}

/** The largest residual of the samples at a join (the first two after it depend on the one before). */
function joinResidual(r: Float64Array, join: number): number {
  return Math.max(r[join]!, r[join + 1]!);
}

function quantile(values: Float64Array, q: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function newRecorder(spoolDir: string, store: MemoryStore): AudioRecorder {
  return new AudioRecorder(
    store,
    { rate: RATE, channels: 1, sampleFormat: 'int16' },
    { spoolDir, preRollMs: 1000 },
  );
}

test('with preRollMs: 1000 a tone played 0.5 s before start() is at the beginning of the recording', async () => {
  const spool = tempDir();
  const store = new MemoryStore();
  const recorder = newRecorder(spool.dir, store);
  try {
    await recorder.init();
    expect(recorder.inputStatus).toBe('open');
    await sleep(1500);
    const tone = await mic.playBackground({
      frequencies: [1000],
      toneSeconds: 0.3,
      rate: 48_000,
      channels: 2,
    });
    await sleep(tone.startedAt + 500 - Date.now());
    const calledAt = Date.now();
    const key = await recorder.start('pre-roll');
    await sleep(1000);
    const saved = await recorder.stop();
    await tone.done;
    const metadata = (await store.getMetadata(key)) as RecordingMetadata;
    expect(metadata.pre_roll_ms).toBeGreaterThanOrEqual(1000);
    expect(calledAt - saved.startedAt.getTime()).toBeCloseTo(metadata.pre_roll_ms!, -1);
    const samples = Float32Array.from(floats(wavData(await store.download(key)).data));
    const win = RATE / 50;
    const toneAt: number[] = [];
    for (let i = 0; i + win <= samples.length; i += win) {
      if (detectTone(samples.subarray(i, i + win), RATE, 1000) > 0.8) toneAt.push(i);
    }
    // The tone (0.3 s = 15 windows of 20 ms) is there, captured before start() was called.
    expect(toneAt.length).toBeGreaterThanOrEqual(12);
    const toneStart = saved.startedAt.getTime() + (toneAt[0]! / RATE) * 1000;
    expect(toneStart).toBeLessThan(calledAt);
    expect(toneStart).toBeGreaterThan(saved.startedAt.getTime());
  } finally {
    await recorder.close();
    spool.remove();
  }
}, 60_000);

test('ten back-to-back stop()/start() pairs on the real device: the recordings join phase-continuously', async () => {
  const spool = tempDir();
  const store = new MemoryStore();
  const recorder = newRecorder(spool.dir, store);
  const sine = await mic.playBackground({
    frequencies: [1000],
    toneSeconds: 30,
    rate: 48_000,
    channels: 2,
    amplitude: 0.5,
  });
  try {
    await recorder.init();
    await sleep(500);
    const keys = [await recorder.start()];
    for (let i = 0; i < 10; i++) {
      await sleep(200 + 29 * i);
      await recorder.stop({ returnPcm: false });
      if (i < 9) keys.push(await recorder.start());
    }
    const pieces: Uint8Array[] = [];
    const joins: number[] = [];
    let frames = 0;
    for (const key of keys) {
      const { data } = wavData(await store.download(key));
      pieces.push(data);
      frames += data.byteLength / 2;
      joins.push(frames);
      const metadata = (await store.getMetadata(key)) as RecordingMetadata;
      expect(metadata.gap_count).toBe(0);
    }
    joins.pop();
    const x = floats(concatBytes(pieces));
    const r = sineResiduals(x);
    const noise = quantile(r.subarray(2), 0.999);
    for (const join of joins) expect(joinResidual(r, join)).toBeLessThan(4 * noise);
    // The check sees a seam: one sample dropped, or one doubled, at a join stands far out.
    const join = joins[4]!;
    const dropped = sineResiduals(Float64Array.from([...x.subarray(0, join), ...x.subarray(join + 1)]));
    const doubled = sineResiduals(Float64Array.from([...x.subarray(0, join + 1), ...x.subarray(join)]));
    expect(joinResidual(dropped, join)).toBeGreaterThan(8 * noise);
    expect(joinResidual(doubled, join + 1)).toBeGreaterThan(8 * noise);
  } finally {
    await sine.stop();
    await recorder.close();
    spool.remove();
  }
}, 90_000);
