import { describe, expect, test } from 'vitest';
import type { RecorderWarning } from '../src/index.js';
import {
  dominantFrequency,
  expectedPcm,
  ffmpegDecode,
  rigsPerTest,
  waitForFrames,
  wavData,
} from './helpers.js';

const rigs = rigsPerTest();

const T0 = Date.UTC(2026, 0, 1, 9);
const config = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const, chunk: 1024 };

describe('AudioRecorder.segment()', () => {
  test('returns raw PCM in the capture format by default, as the reference', async () => {
    const rig = rigs.make({ config, source: { durationMs: 1000, startTime: T0 } });
    const { recorder } = rig;
    await recorder.init();
    await recorder.start();
    await waitForFrames(recorder, 16_000);
    await recorder.stop({ frames: false });
    const seg = await recorder.segment(T0 + 250, T0 + 500);
    // No header: exactly the 4000 frames of int16 mono, byte for byte, and what format: 'pcm' gives.
    expect(seg.byteLength).toBe(4000 * 2);
    expect(Buffer.from(seg).equals(Buffer.from(expectedPcm(4000, 8000, config)))).toBe(true);
    expect(
      Buffer.from(seg).equals(Buffer.from(await recorder.segment(T0 + 250, T0 + 500, { format: 'pcm' }))),
    ).toBe(true);
    const wav = await recorder.segment(T0 + 250, T0 + 500, { format: 'wav' });
    expect(new TextDecoder().decode(wav.subarray(0, 4))).toBe('RIFF');
    expect(Buffer.from(wavData(wav).data).equals(Buffer.from(seg))).toBe(true);
  });

  test('returns exactly the samples of the range as a WAV, during recording and after stop()', async () => {
    const rig = rigs.make({ config, source: { durationMs: 3000, startTime: T0, speed: 4 } });
    const { recorder } = rig;
    await recorder.init();
    await recorder.start();
    await waitForFrames(recorder, 20_000);
    const during = await recorder.segment(new Date(T0 + 250), new Date(T0 + 1000), { format: 'wav' });
    expect(Buffer.from(wavData(during).data).equals(Buffer.from(expectedPcm(4000, 16_000, config)))).toBe(
      true,
    );
    await waitForFrames(recorder, 48_000);
    await recorder.stop({ frames: false });
    // Not chunk-aligned (1024-frame chunks): the first frame at or after each time, 16 001 to 48 000.
    const after = await recorder.segment(T0 + 1000.03, T0 + 2999.97, { format: 'wav' });
    expect(Buffer.from(wavData(after).data).equals(Buffer.from(expectedPcm(16_001, 48_000, config)))).toBe(
      true,
    );
  });

  test('reads across the RAM/disk boundary: old audio from the spool, recent from memory', async () => {
    const rig = rigs.make({
      config,
      source: { durationMs: 6000, startTime: T0 },
      recorder: { memoryMs: 500 },
    });
    const { recorder } = rig;
    await recorder.init();
    await recorder.start();
    await waitForFrames(recorder, 96_000);
    // 0.5–5.9 s: most of it long spilled to disk, the end still in RAM.
    const seg = await recorder.segment(T0 + 500, T0 + 5900);
    expect(Buffer.from(seg).equals(Buffer.from(expectedPcm(8000, 94_400, config)))).toBe(true);
    await recorder.stop({ frames: false });
  });

  test('a partly overlapping range is clamped to the recording, with a warning', async () => {
    const rig = rigs.make({ config, source: { durationMs: 1000, startTime: T0 } });
    const { recorder } = rig;
    const warnings: RecorderWarning[] = [];
    recorder.on('warning', (w) => warnings.push(w));
    await recorder.init();
    await recorder.start();
    await waitForFrames(recorder, 16_000);
    await recorder.stop({ frames: false });
    const seg = await recorder.segment(T0 - 5000, T0 + 500);
    expect(Buffer.from(seg).equals(Buffer.from(expectedPcm(0, 8000, config)))).toBe(true);
    const tail = await recorder.segment(T0 + 750, T0 + 60_000);
    expect(tail.byteLength).toBe(4000 * 2);
    expect(warnings.map((w) => w.code)).toEqual(['RANGE_CLAMPED', 'RANGE_CLAMPED']);
  });

  test('encodes to MP3, Opus and PCM with other rates and channels', async () => {
    const stereo = { rate: 48_000, channels: 2, sampleFormat: 'int24' as const, chunk: 480 };
    const rig = rigs.make({
      config: stereo,
      source: {
        durationMs: 2000,
        startTime: T0,
        generate: (f, _c, r) => 0.5 * Math.sin((2 * Math.PI * 880 * f) / r),
      },
    });
    const { recorder } = rig;
    await recorder.init();
    await recorder.start();
    await waitForFrames(recorder, 96_000);
    await recorder.stop({ frames: false });
    const mp3 = await recorder.segment(T0 + 500, T0 + 1500, { format: 'mp3', channels: 1, rate: 24_000 });
    const decodedMp3 = ffmpegDecode(mp3, 'mp3');
    expect(decodedMp3.stderr).toBe('');
    expect(Math.abs(decodedMp3.samples.length - 24_000)).toBeLessThan(24 * 30);
    expect(dominantFrequency(decodedMp3.samples.subarray(4800, 9600), 24_000, 2000, 10)).toBe(880);
    const opus = await recorder.segment(T0 + 500, T0 + 1500, { format: 'opus', bitrate: 96_000 });
    const decodedOpus = ffmpegDecode(opus, 'ogg', { rate: 48_000, channels: 2 });
    expect(decodedOpus.stderr).toBe('');
    expect(Math.abs(decodedOpus.samples.length / 2 - 48_000)).toBeLessThan(48 * 30);
    const pcm = await recorder.segment(T0, T0 + 100, { format: 'pcm', sampleFormat: 'int16', channels: 1 });
    expect(pcm.byteLength).toBe(4800 * 2);
  });
});
