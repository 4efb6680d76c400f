import {
  type AudioConfig,
  type CapturedChunk,
  resolveAudioConfig,
  SAMPLE_FORMATS,
  toFloat32,
} from '@audex/pcm';
import { channelOf, dominantFrequency } from '@audex/test-utils/signals';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureError, PortAudioSource } from '../src/index.js';

let mic: VirtualMic;
beforeAll(async () => {
  mic = await startVirtualMic();
});
afterAll(async () => {
  await mic?.stop();
});

const TONES = [500, 800, 1100, 1400, 1700, 2000];
// Allowed |captured frames - rate x (stop - start resolved)| of the 2.5 s runs, in ms of audio (see the matrix).
const SHORT_RUN_TOLERANCE_MS = 25;

interface Capture {
  chunks: CapturedChunk[];
  errors: Error[];
  resolvedAt: number;
  stoppedAt: number;
  frames: number;
  /** Date.now() when the first chunk arrived (NaN if none). */
  firstChunkAt: number;
}

async function captureFor(
  source: PortAudioSource,
  config: AudioConfig,
  ms: number,
  during?: () => Promise<void> | void,
): Promise<Capture> {
  const chunks: CapturedChunk[] = [];
  const errors: Error[] = [];
  let firstChunkAt = Number.NaN;
  await source.start(
    config,
    (c) => {
      if (chunks.length === 0) firstChunkAt = Date.now();
      chunks.push(c);
    },
    (e) => errors.push(e),
  );
  const resolvedAt = Date.now();
  const wait = new Promise((r) => setTimeout(r, ms));
  await during?.();
  await wait;
  const stoppedAt = Date.now();
  await source.stop();
  return {
    chunks,
    errors,
    resolvedAt,
    stoppedAt,
    frames: chunks.reduce((n, c) => n + c.frames, 0),
    firstChunkAt,
  };
}

/** Onset time (ms epoch, by the chunk timestamps) of each tone, in 10 ms analysis steps. */
function toneOnsets(cap: Capture, config: AudioConfig): Map<number, number> {
  const onsets = new Map<number, number>();
  const win = Math.round(config.rate * 0.03);
  const step = Math.round(config.rate * 0.005);
  // concatenate channel 0 with the time of every sample
  const mono = new Float32Array(cap.frames);
  const times = new Float64Array(cap.frames);
  let at = 0;
  for (const c of cap.chunks) {
    const ch0 = channelOf(toFloat32(c.data, config.sampleFormat), config.channels, 0);
    mono.set(ch0, at);
    for (let i = 0; i < c.frames; i++) times[at + i] = c.time + (i / config.rate) * 1000;
    at += c.frames;
  }
  for (let i = 0; i + win <= mono.length; i += step) {
    const hit = dominantFrequency(mono.subarray(i, i + win), config.rate, TONES, 0.8);
    if (hit && !onsets.has(hit.freq)) onsets.set(hit.freq, times[i + win]! - (win / config.rate) * 1000);
  }
  return onsets;
}

describe('PortAudioSource on the virtual microphone', () => {
  it('captures 20 s of int16 mono 16 kHz: samples within 0.5 % of rate x elapsed, tones at the right times, no overflow', async () => {
    const source = new PortAudioSource();
    const config = resolveAudioConfig({ sampleFormat: 'int16', channels: 1, rate: 16000, chunk: 1024 });
    let playStarted = 0;
    const cap = await captureFor(source, config, 20_000, async () => {
      await new Promise((r) => setTimeout(r, 1000));
      const playback = await mic.playBackground({ frequencies: TONES, toneSeconds: 0.5 });
      playStarted = playback.startedAt;
    });
    expect(cap.errors).toEqual([]);
    expect(source.overflowCount).toBe(0);
    const expected = (config.rate * (cap.stoppedAt - cap.resolvedAt)) / 1000;
    expect(Math.abs(cap.frames - expected) / expected).toBeLessThan(0.005);
    const onsets = toneOnsets(cap, config);
    expect([...onsets.keys()]).toEqual(TONES);
    const first = onsets.get(TONES[0]!)!;
    // the player process starts and reaches the mic after it is spawned, never before
    expect(first).toBeGreaterThan(playStarted - 50);
    expect(first - playStarted).toBeLessThan(1000);
    TONES.forEach((f, k) => {
      expect(Math.abs(onsets.get(f)! - first - k * 500)).toBeLessThan(50);
    });
  }, 60_000);

  // every format, mono and stereo; rates cycle through 16, 44.1 and 48 kHz so each appears
  // with several formats while the whole matrix stays short (each start costs ~2 s here)
  const rates = [16000, 44100, 48000];
  const matrix = SAMPLE_FORMATS.flatMap((format, i) =>
    [1, 2].map((channels, j) => ({ format, channels, rate: rates[(i * 2 + j) % 3]! })),
  );
  it.each(matrix)(
    '$format x $channels ch at $rate Hz: first chunk within 200 ms, right byte lengths, every tone found in order 0.5 s apart, samples match elapsed time',
    async ({ format, channels, rate }) => {
      const source = new PortAudioSource();
      const config = resolveAudioConfig({ format, channels, rate, chunk: 1024 });
      const tones = TONES.slice(0, 3);
      const cap = await captureFor(source, config, 2500, async () => {
        await mic.playBackground({ frequencies: tones, toneSeconds: 0.5 });
      });
      expect(cap.errors).toEqual([]);
      expect(source.overflowCount).toBe(0);
      expect(cap.firstChunkAt - cap.resolvedAt).toBeLessThan(200);
      // the first chunk starts with the frame captured when start() resolved
      expect(Math.abs(cap.chunks[0]!.time - cap.resolvedAt)).toBeLessThan(10);
      for (const c of cap.chunks)
        expect(c.data.byteLength).toBe(
          c.frames * channels * { int8: 1, int16: 2, int24: 3, int32: 4, float32: 4 }[format],
        );
      // 0.5 % of 2.5 s would be 12.5 ms, finer than the test can time start()/stop() from outside
      // under load; both cuts are made on the sample clock, so the only real error is how far the
      // anchor slews in between (<= 0.2 % of 2.5 s = 5 ms) plus the few ms between the source's own
      // instants and this test's Date.now() calls: an absolute SHORT_RUN_TOLERANCE_MS covers that.
      const expected = (rate * (cap.stoppedAt - cap.resolvedAt)) / 1000;
      expect(Math.abs(cap.frames - expected)).toBeLessThan((rate * SHORT_RUN_TOLERANCE_MS) / 1000);
      const onsets = toneOnsets(cap, config);
      expect([...onsets.keys()].slice(0, 3)).toEqual(tones);
      const first = onsets.get(tones[0]!)!;
      for (const [k, f] of tones.entries())
        expect(Math.abs(onsets.get(f)! - first - k * 500)).toBeLessThan(50);
    },
    30_000,
  );

  it('loses no samples when the event loop blocks for 200 ms', async () => {
    const source = new PortAudioSource();
    const config = resolveAudioConfig({ sampleFormat: 'float32', channels: 2, rate: 48000, chunk: 1024 });
    const cap = await captureFor(source, config, 2500, async () => {
      await new Promise((r) => setTimeout(r, 700));
      const t = performance.now();
      while (performance.now() - t < 200) {
        // busy: synchronous work on the event loop
      }
    });
    expect(cap.errors).toEqual([]);
    expect(source.overflowCount).toBe(0);
    const expected = (config.rate * (cap.stoppedAt - cap.resolvedAt)) / 1000;
    expect(Math.abs(cap.frames - expected)).toBeLessThan((config.rate * SHORT_RUN_TOLERANCE_MS) / 1000);
    for (let i = 1; i < cap.chunks.length; i++) {
      const a = cap.chunks[i - 1]!;
      expect(Math.abs(cap.chunks[i]!.time - a.time - (a.frames / config.rate) * 1000)).toBeLessThan(5);
    }
  }, 30_000);

  it('rejects a device index that is not an input, listing the available inputs', async () => {
    const source = new PortAudioSource();
    await expect(
      source.start(
        resolveAudioConfig({ inputDeviceIndex: 42 }),
        () => {},
        () => {},
      ),
    ).rejects.toThrow(/inputDeviceIndex 42 is not an input device; available inputs: 0 "pulse".*1 "default"/);
    await expect(
      source.start(
        resolveAudioConfig({ channels: 33 }),
        () => {},
        () => {},
      ),
    ).rejects.toThrow(/channels 33 is more than device 1 \("default"\) has; allowed: 1 to 32/);
    expect(source.status).toBe('idle');
  });

  it('reports DEVICE_LOST when the audio daemon is killed mid-capture, and stop() still resolves', async () => {
    const own = await startVirtualMic();
    try {
      const source = new PortAudioSource({ stallTimeoutMs: 3000 });
      const chunks: CapturedChunk[] = [];
      const errors: Error[] = [];
      await source.start(
        resolveAudioConfig(),
        (c) => chunks.push(c),
        (e) => errors.push(e),
      );
      // the fresh daemon's null sink may deliver its first audio in one late block: wait for it
      for (let i = 0; i < 100 && chunks.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
      void own.kill(); // SIGKILL is sent before kill() first awaits; not taken for a crash
      const t0 = Date.now();
      while (errors.length === 0 && Date.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 50));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(CaptureError);
      expect((errors[0] as CaptureError).code).toBe('DEVICE_LOST');
      expect(errors[0]!.message).toMatch(
        /^\[audex\/capture\] input device \d+ "default" \(ALSA\) stopped delivering audio/,
      );
      expect(source.status).toBe('failed');
      expect(chunks.length).toBeGreaterThan(0);
      await source.stop();
      expect(source.status).toBe('idle');
    } finally {
      await own.stop();
      Object.assign(process.env, mic.env);
    }
    // the process is healthy: capture works again on the shared mic
    const again = await captureFor(new PortAudioSource(), resolveAudioConfig(), 1000);
    expect(again.frames).toBeGreaterThan(0);
  }, 40_000);
});
