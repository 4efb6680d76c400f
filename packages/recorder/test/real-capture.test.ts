import { concatBytes } from '@audex/pcm';
import { MemoryStore } from '@audex/store';
import { detectTone } from '@audex/test-utils/signals';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { AudioRecorder } from '../src/index.js';
import { collect, ffmpegDecode, tempDir, wavData } from './helpers.js';

let mic: VirtualMic;
beforeAll(async () => {
  mic = await startVirtualMic();
});
afterAll(async () => {
  await mic?.stop();
});

const TONES = [500, 800, 1100, 1400, 1700, 2000];
const RATE = 16_000;

function toFloat(samples: Int16Array): Float32Array {
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

/**
 * Lowest share of `freq` over 20 ms windows of `samples`. Short windows, because the virtual
 * mic's clock differs from the player's by a fraction of a percent, which shifts the tone enough
 * to blur a long analysis window.
 */
function minToneShare(samples: Float32Array, rate: number, freq: number): number {
  const win = Math.round(rate * 0.02);
  let min = 1;
  for (let i = 0; i + win <= samples.length; i += win) {
    min = Math.min(min, detectTone(samples.subarray(i, i + win), rate, freq));
  }
  return min;
}

/** Start index of each tone: first 20 ms window where it holds most of the power. */
function onsets(samples: Float32Array, rate: number): Map<number, number> {
  const found = new Map<number, number>();
  const win = Math.round(rate * 0.02);
  const step = Math.round(rate * 0.0025);
  for (let i = 0; i + win <= samples.length; i += step) {
    for (const f of TONES) {
      if (!found.has(f) && detectTone(samples.subarray(i, i + win), rate, f) > 0.8) found.set(f, i);
    }
  }
  return found;
}

test('real capture from the virtual mic: stored WAV, segment, PCM/MP3/Opus streams all hold the tone sequence', async () => {
  const spool = tempDir();
  const store = new MemoryStore();
  // No source given: the default PortAudioSource is loaded on first use.
  const recorder = new AudioRecorder(
    store,
    { rate: RATE, channels: 1, sampleFormat: 'int16', chunk: 1024 },
    { spoolDir: spool.dir },
  );
  try {
    await recorder.init();
    const devices = await recorder.listInputDevices();
    expect(devices.some((d) => d.isDefault)).toBe(true);
    const key = await recorder.start('mic');
    const pcm = collect(recorder.stream());
    const mp3 = collect(recorder.stream({ format: 'mp3', chunkSize: 4096 }));
    const opus = collect(recorder.stream({ format: 'opus', chunkSize: 4096 }));
    await new Promise((r) => setTimeout(r, 800));
    await mic.play({ frequencies: TONES, toneSeconds: 0.5, rate: 48_000, channels: 2 });
    await new Promise((r) => setTimeout(r, 600));
    const saved = await recorder.stop();

    // The stored WAV: duration from samples, ffmpeg reads it, tones in order 0.5 s apart.
    const file = await store.download(key);
    const stored = wavData(file).data;
    expect(Buffer.from(stored).equals(Buffer.from(saved.frames))).toBe(true);
    const decoded = ffmpegDecode(file, 'wav');
    expect(decoded.stderr).toBe('');
    expect(decoded.samples.length).toBe(stored.byteLength / 2);
    expect(saved.durationMs).toBeCloseTo((decoded.samples.length / RATE) * 1000, 6);
    expect(saved.durationMs).toBeGreaterThan(3500);
    const samples = toFloat(decoded.samples);
    const at = onsets(samples, RATE);
    expect([...at.keys()].sort((a, b) => a - b)).toEqual(TONES);
    for (let i = 1; i < TONES.length; i++) {
      const spacing = ((at.get(TONES[i]!)! - at.get(TONES[i - 1]!)!) / RATE) * 1000;
      expect(Math.abs(spacing - 500)).toBeLessThan(15);
    }

    // segment() of the 1100 Hz tone's middle: a contiguous run of the stored samples (the
    // timeline maps wall time to frames, anchored to the capture clock, so allow its drift),
    // holding only that tone.
    const onset = at.get(1100)!;
    const t0 = saved.startedAt.getTime() + ((onset + 1600) / RATE) * 1000;
    const seg = await recorder.segment(t0, t0 + 300);
    expect(Math.abs(seg.byteLength / 2 - 4800)).toBeLessThan(48);
    const segSamples = toFloat(
      new Int16Array(seg.buffer.slice(seg.byteOffset, seg.byteOffset + seg.byteLength)),
    );
    expect(minToneShare(segSamples, RATE, 1100)).toBeGreaterThan(0.9);
    const offset = Buffer.from(stored).indexOf(Buffer.from(seg));
    expect(offset % 2).toBe(0);
    expect(Math.abs(offset / 2 - (onset + 1600))).toBeLessThan(RATE * 0.02);

    // The PCM stream is the recording, sample for sample.
    expect(Buffer.from(concatBytes(await pcm)).equals(Buffer.from(stored))).toBe(true);

    // MP3 and Opus streams: one clean file each, full length, tones where they belong.
    for (const [chunks, ext] of [
      [await mp3, 'mp3'],
      [await opus, 'ogg'],
    ] as const) {
      const out = ffmpegDecode(concatBytes(chunks), ext, { rate: RATE, channels: 1 });
      expect(out.stderr).toBe('');
      // A streamed MP3 cannot carry the LAME Info frame (it goes first, the length is known only
      // at the end), so decoders keep the encoder delay (1105 samples) and the last frame's padding.
      const extra = out.samples.length - decoded.samples.length;
      if (ext === 'mp3') expect(extra).toBeGreaterThanOrEqual(0);
      expect(Math.abs(extra)).toBeLessThan(ext === 'mp3' ? 1105 + 1152 : RATE * 0.05);
      const lossy = toFloat(out.samples);
      const mid = onset + 4000;
      expect(minToneShare(lossy.subarray(mid, mid + 3200), RATE, 1100)).toBeGreaterThan(0.8);
    }
  } finally {
    await recorder.close();
    spool.remove();
  }
}, 60_000);
