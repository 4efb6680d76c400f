import { type Codec, type Encoder, registerCodec, unregisterCodec } from '@audex/codec';
import { concatBytes } from '@audex/pcm';
import { describe, expect, test } from 'vitest';
import type { RecorderWarning } from '../src/index.js';
import {
  collect,
  dominantFrequency,
  expectedPcm,
  ffmpegDecode,
  rigsPerTest,
  waitForFrames,
  wavData,
} from './helpers.js';

const rigs = rigsPerTest();

const config = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const, chunk: 512 };

describe('AudioRecorder.stream()', () => {
  test('the PCM stream concatenated equals the stored recording, tail flushed at stop()', async () => {
    // 2.5 s is not a whole number of 1500-frame stream chunks: the last one is partial.
    const rig = rigs.make({ config, source: { durationMs: 2500, speed: 8 } });
    const { recorder, store } = rig;
    await recorder.init();
    const key = await recorder.start();
    const chunks = collect(recorder.stream({ chunkSize: 1500 }));
    await waitForFrames(recorder, 40_000);
    await recorder.stop({ frames: false });
    const got = await chunks;
    expect(got.length).toBe(27);
    expect(got.slice(0, -1).every((c) => c.byteLength === 3000)).toBe(true);
    expect(got.at(-1)!.byteLength).toBe(2000);
    const stored = wavData(await store.download(key)).data;
    expect(stored.byteLength).toBe(80_000);
    expect(Buffer.from(concatBytes(got)).equals(Buffer.from(stored))).toBe(true);
  });

  test('several concurrent streams each get the whole recording, a slow one included', async () => {
    const rig = rigs.make({ config, source: { durationMs: 3000 } });
    const { recorder } = rig;
    await recorder.init();
    await recorder.start();
    const fast = collect(recorder.stream({ chunkSize: 256 }));
    const other = collect(recorder.stream({ chunkSize: 4096, format: 'pcm', sampleFormat: 'float32' }));
    const slow = (async () => {
      const out: Uint8Array[] = [];
      for await (const c of recorder.stream({ chunkSize: 1600 })) {
        out.push(c);
        await new Promise((r) => setTimeout(r, 5));
      }
      return out;
    })();
    await waitForFrames(recorder, 48_000);
    await recorder.stop({ frames: false });
    const expected = expectedPcm(0, 48_000, config);
    expect(Buffer.from(concatBytes(await fast)).equals(Buffer.from(expected))).toBe(true);
    expect(Buffer.from(concatBytes(await slow)).equals(Buffer.from(expected))).toBe(true);
    expect(concatBytes(await other).byteLength).toBe(48_000 * 4);
  });

  test("from: 'now' streams only audio captured after the call; from: a time starts there", async () => {
    const startTime = Date.UTC(2026, 0, 1);
    const rig = rigs.make({ config, source: { durationMs: 2000, speed: 4, startTime } });
    const { recorder } = rig;
    await recorder.init();
    await recorder.start();
    await waitForFrames(recorder, 8000);
    const nowFrame = recorder.frameCount;
    const live = collect(recorder.stream({ from: 'now', chunkSize: 500 }));
    const fromTime = collect(recorder.stream({ from: new Date(startTime + 250), chunkSize: 500 }));
    await waitForFrames(recorder, 32_000);
    await recorder.stop({ frames: false });
    const liveBytes = concatBytes(await live);
    expect(Buffer.from(liveBytes).equals(Buffer.from(expectedPcm(nowFrame, 32_000, config)))).toBe(true);
    expect(
      Buffer.from(concatBytes(await fromTime)).equals(Buffer.from(expectedPcm(4000, 32_000, config))),
    ).toBe(true);
  });

  test('an aborted signal ends the stream cleanly, without an error', async () => {
    const rig = rigs.make({ config, source: { speed: 1 } });
    const { recorder } = rig;
    await recorder.init();
    await recorder.start();
    const controller = new AbortController();
    const got: Uint8Array[] = [];
    const done = (async () => {
      for await (const c of recorder.stream({ chunkSize: 160, signal: controller.signal })) got.push(c);
    })();
    await new Promise((r) => setTimeout(r, 150));
    controller.abort();
    await expect(done).resolves.toBeUndefined();
    expect(got.length).toBeGreaterThan(0);
    expect(recorder.isRecording).toBe(true);
    await recorder.stop({ frames: false });
  });

  test('with no recording running it ends at once and emits a warning', async () => {
    const rig = rigs.make({ config });
    const { recorder } = rig;
    await recorder.init();
    const warnings: RecorderWarning[] = [];
    recorder.on('warning', (w) => warnings.push(w));
    expect(await collect(recorder.stream())).toEqual([]);
    expect(warnings.map((w) => w.code)).toEqual(['NO_RECORDING']);
  });

  test('WAV chunks are standalone files, as in the reference', async () => {
    const rig = rigs.make({ config, source: { durationMs: 1000 } });
    const { recorder } = rig;
    await recorder.init();
    await recorder.start();
    const files = collect(recorder.stream({ format: 'wav', chunkSize: 4000 }));
    await waitForFrames(recorder, 16_000);
    await recorder.stop({ frames: false });
    const got = await files;
    expect(got.length).toBe(4);
    got.forEach((file, i) => {
      const { info, data } = wavData(file);
      expect(info.rate).toBe(16_000);
      expect(Buffer.from(data).equals(Buffer.from(expectedPcm(i * 4000, (i + 1) * 4000, config)))).toBe(true);
    });
  });

  test('resamples and mixes down: 48 kHz stereo capture streamed as 16 kHz mono PCM keeps the tone', async () => {
    const stereo = { rate: 48_000, channels: 2, sampleFormat: 'float32' as const, chunk: 960 };
    const rig = rigs.make({
      config: stereo,
      source: { durationMs: 1000, generate: (f, _c, r) => 0.5 * Math.sin((2 * Math.PI * 1000 * f) / r) },
    });
    const { recorder } = rig;
    await recorder.init();
    await recorder.start();
    const out = collect(recorder.stream({ rate: 16_000, channels: 1, sampleFormat: 'int16' }));
    await waitForFrames(recorder, 48_000);
    await recorder.stop({ frames: false });
    const bytes = concatBytes(await out);
    expect(bytes.byteLength).toBe(16_000 * 2);
    const samples = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    expect(dominantFrequency(samples.subarray(4000, 8000), 16_000, 3000, 10)).toBe(1000);
  });

  test.each([
    ['mp3', 'mp3'],
    ['opus', 'ogg'],
  ])(
    '%s stream chunks concatenate to one file ffmpeg decodes cleanly, tone and length kept',
    async (format, ext) => {
      const cfg = { rate: 48_000, channels: 1, sampleFormat: 'int16' as const, chunk: 960 };
      const rig = rigs.make({
        config: cfg,
        source: { durationMs: 3000, generate: (f, _c, r) => 0.5 * Math.sin((2 * Math.PI * 440 * f) / r) },
      });
      const { recorder } = rig;
      await recorder.init();
      await recorder.start();
      const chunks = collect(recorder.stream({ format, chunkSize: 4800 }));
      await waitForFrames(recorder, 144_000);
      await recorder.stop({ frames: false });
      const got = await chunks;
      expect(got.length).toBeGreaterThan(10);
      const { samples, stderr } = ffmpegDecode(concatBytes(got), ext, { rate: 48_000, channels: 1 });
      expect(stderr).toBe('');
      // Gapless and flushed: within 40 ms of the 3 s captured.
      expect(Math.abs(samples.length - 144_000)).toBeLessThan(48 * 40);
      expect(dominantFrequency(samples.subarray(48_000, 52_800), 48_000, 1000, 5)).toBe(440);
    },
  );

  test('a codec registered by the user works in stream() and segment()', async () => {
    const encoders: string[] = [];
    // A toy "hex" format: each byte as two hex digits, with a header and a trailer.
    const hexCodec: Codec = {
      format: 'hex-test',
      mimeType: 'text/plain',
      extension: 'hex',
      createEncoder(options): Encoder {
        encoders.push(`${options.rate}/${options.channels}/${options.sampleFormat}`);
        let first = true;
        const enc = new TextEncoder();
        return {
          write(pcm) {
            const head = first ? 'HEX\n' : '';
            first = false;
            return enc.encode(head + Buffer.from(pcm).toString('hex'));
          },
          end: () => enc.encode('\nEND'),
        };
      },
    };
    registerCodec(hexCodec);
    try {
      const rig = rigs.make({ config, source: { durationMs: 500, startTime: Date.UTC(2026, 0, 1) } });
      const { recorder } = rig;
      await recorder.init();
      await recorder.start();
      const streamed = collect(recorder.stream({ format: 'hex-test', chunkSize: 2000 }));
      await waitForFrames(recorder, 8000);
      await recorder.stop({ frames: false });
      const text = new TextDecoder().decode(concatBytes(await streamed));
      expect(text).toBe(`HEX\n${Buffer.from(expectedPcm(0, 8000, config)).toString('hex')}\nEND`);
      const seg = await recorder.segment(Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 100, {
        format: 'hex-test',
      });
      expect(new TextDecoder().decode(seg)).toBe(
        `HEX\n${Buffer.from(expectedPcm(0, 1600, config)).toString('hex')}\nEND`,
      );
      expect(encoders).toContain('16000/1/int16');
    } finally {
      unregisterCodec('hex-test');
    }
  });

  test('a codec that throws mid-stream fails that stream with ENCODE_FAILED; recording and other streams go on', async () => {
    registerCodec({
      format: 'broken-test',
      mimeType: 'application/octet-stream',
      extension: 'bin',
      createEncoder: () => {
        let writes = 0;
        return {
          write(pcm) {
            if (++writes === 3) throw new Error('encoder exploded');
            return pcm;
          },
          end: () => new Uint8Array(0),
        };
      },
    });
    try {
      const rig = rigs.make({ config, source: { durationMs: 500, startTime: Date.UTC(2026, 0, 1) } });
      const { recorder } = rig;
      await recorder.init();
      await recorder.start();
      const healthy = collect(recorder.stream({ chunkSize: 800 }));
      const broken = collect(recorder.stream({ format: 'broken-test', chunkSize: 800 }));
      await expect(broken).rejects.toMatchObject({
        code: 'ENCODE_FAILED',
        message: /broken-test.*encoder exploded/,
      });
      await expect(
        recorder.segment(Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) + 10, { format: 'broken-test' }),
      ).resolves.toBeInstanceOf(Uint8Array);
      await waitForFrames(recorder, 8000);
      expect(recorder.isRecording).toBe(true);
      await recorder.stop({ frames: false });
      expect(concatBytes(await healthy).byteLength).toBe(16_000);
    } finally {
      unregisterCodec('broken-test');
    }
  });
});
