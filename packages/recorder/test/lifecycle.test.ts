import type { AudioSource } from '@audex/capture';
import type { CapturedChunk } from '@audex/pcm';
import { MemoryStore } from '@audex/store';
import { describe, expect, test } from 'vitest';
import { AudioRecorder, entersState, type RecorderStatus } from '../src/index.js';
import { expectedPcm, rigsPerTest, tempDir, waitForFrames, wavData } from './helpers.js';

const rigs = rigsPerTest();

describe('AudioRecorder lifecycle', () => {
  test('moves idle → initialized → recording → stopping → initialized → closed, one event per change', async () => {
    const rig = rigs.make({ source: { durationMs: 500 } });
    const { recorder } = rig;
    const seen: string[] = [];
    recorder.on('stateChange', ({ from, to }) => seen.push(`${from}>${to}`));
    expect(recorder.status).toBe<RecorderStatus>('idle');
    await recorder.init();
    await recorder.start();
    expect(recorder.isRecording).toBe(true);
    await waitForFrames(recorder, 8000);
    await recorder.stop();
    expect(recorder.isRecording).toBe(false);
    await recorder.close();
    expect(seen).toEqual([
      'idle>initialized',
      'initialized>recording',
      'recording>stopping',
      'stopping>initialized',
      'initialized>closed',
    ]);
  });

  test('entersState() resolves on the transition, at once when already there, else TIMEOUT or ABORTED', async () => {
    const rig = rigs.make({ source: { durationMs: 200 } });
    const { recorder } = rig;
    await entersState(recorder, 'idle', 0);
    const initialized = entersState(recorder, 'initialized', 10_000);
    await recorder.init();
    await initialized;
    await expect(entersState(recorder, 'recording', 20)).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/did not become "recording" within 20 ms \(it is "initialized"\)/),
    });
    const controller = new AbortController();
    const aborted = entersState(recorder, 'closed', 10_000, controller.signal);
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(entersState(recorder, 'closed', -1)).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    const recording = entersState(recorder, 'recording', 10_000);
    await recorder.start();
    await recording;
    await recorder.stop({ returnPcm: false });
  });

  test('start() returns audex/<prefixes>/<uuid>.wav and currentSegmentKey names it', async () => {
    const rig = rigs.make();
    const { recorder } = rig;
    await recorder.init();
    expect(recorder.currentSegmentKey).toBeNull();
    const key = await recorder.start('session-1', 'mic');
    expect(key).toMatch(/^audex\/session-1\/mic\/[0-9a-f-]{36}\.wav$/);
    expect(recorder.currentSegmentKey).toBe(key);
    await recorder.stop({ frames: false });
    expect(recorder.currentSegmentKey).toBe(key);
    const plain = await recorder.start();
    expect(plain).toMatch(/^audex\/[0-9a-f-]{36}\.wav$/);
  });

  test('stop() uploads a WAV holding exactly the captured samples, with the reference metadata keys', async () => {
    const config = { rate: 16_000, channels: 1, sampleFormat: 'int16' as const, chunk: 1024 };
    const rig = rigs.make({ config, source: { durationMs: 2000, startTime: Date.UTC(2026, 0, 1, 12) } });
    const { recorder, store } = rig;
    await recorder.init();
    const key = await recorder.start('test');
    await waitForFrames(recorder, 32_000);
    const segment = await recorder.stop();

    const expected = expectedPcm(0, 32_000, config);
    expect(segment.key).toBe(key);
    expect(segment.durationMs).toBe(2000);
    expect(segment.startedAt.toISOString()).toBe('2026-01-01T12:00:00.000Z');
    expect(segment.endedAt.toISOString()).toBe('2026-01-01T12:00:02.000Z');
    expect(Buffer.from(segment.frames).equals(Buffer.from(expected))).toBe(true);

    const file = await store.download(key);
    const { info, data } = wavData(file);
    expect(info).toMatchObject({ rate: 16_000, channels: 1, sampleFormat: 'int16', container: 'RIFF' });
    expect(Buffer.from(data).equals(Buffer.from(expected))).toBe(true);

    const metadata = await store.getMetadata(key);
    expect(metadata).toMatchObject({
      content_type: 'audio/wav',
      duration_ms: 2000,
      sample_rate: 16_000,
      channels: 1,
      started_at: '2026-01-01T12:00:00.000Z',
      ended_at: '2026-01-01T12:00:02.000Z',
      frame_count: 32_000,
      overflow_count: 0,
      gaps: [],
      gap_count: 0,
      captured_frames: 32_000,
      sample_format: 'int16',
    });
    expect(typeof metadata.wall_clock_ms).toBe('number');
  });

  test('stop({ frames: false }) stores everything but returns empty frames', async () => {
    const rig = rigs.make({ source: { durationMs: 300 } });
    const { recorder, store } = rig;
    await recorder.init();
    const key = await recorder.start();
    await waitForFrames(recorder, 4800);
    const segment = await recorder.stop({ frames: false });
    expect(segment.frames.byteLength).toBe(0);
    expect(segment.durationMs).toBe(300);
    expect(wavData(await store.download(key)).data.byteLength).toBe(4800 * 2);
  });

  test('stop({ returnPcm: false }) is the same as the reference spelling frames: false; a clash or a non-boolean is rejected', async () => {
    const rig = rigs.make({ source: { durationMs: 300 } });
    const { recorder, store } = rig;
    await recorder.init();
    const key = await recorder.start();
    await waitForFrames(recorder, 4800);
    await expect(recorder.stop({ returnPcm: true, frames: false })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      field: 'returnPcm',
      message: expect.stringMatching(/returnPcm \(true\) and its alias frames \(false\) disagree/),
    });
    await expect(recorder.stop({ returnPcm: 0 as never })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringMatching(/returnPcm must be a boolean, got 0/),
    });
    // Still recording after the rejected calls.
    expect(recorder.isRecording).toBe(true);
    const segment = await recorder.stop({ returnPcm: false });
    expect(segment.frames.byteLength).toBe(0);
    expect(wavData(await store.download(key)).data.byteLength).toBe(4800 * 2);
    await recorder.start();
    await waitForFrames(recorder, 4800);
    expect((await recorder.stop({ returnPcm: true, frames: true })).frames.byteLength).toBe(4800 * 2);
  });

  test.each(['int8', 'int16', 'int24', 'int32', 'float32'] as const)(
    'records %s stereo at 48 kHz and stores it bit-exact',
    async (format) => {
      const config = { sampleFormat: format, channels: 2, rate: 48_000, chunk: 480 };
      const rig = rigs.make({ config, source: { durationMs: 250 } });
      const { recorder, store } = rig;
      await recorder.init();
      const key = await recorder.start();
      await waitForFrames(recorder, 12_000);
      const segment = await recorder.stop();
      const expected = expectedPcm(0, 12_000, config);
      expect(Buffer.from(segment.frames).equals(Buffer.from(expected))).toBe(true);
      const file = await store.download(key);
      const { info, data } = wavData(file);
      expect(info.channels).toBe(2);
      expect(info.rate).toBe(48_000);
      // 8-bit WAV is unsigned: the stored bytes are the signed samples offset by 128.
      const stored = format === 'int8' ? data.map((b) => b ^ 0x80) : data;
      expect(Buffer.from(stored).equals(Buffer.from(expected))).toBe(true);
    },
  );

  test('close() stops and stores an active recording; await using closes at scope end', async () => {
    const rig = rigs.make({ source: { durationMs: 200 } });
    const { recorder, store } = rig;
    let key = '';
    {
      await using r = recorder;
      await r.init();
      key = await r.start();
      await waitForFrames(r, 3200);
    }
    expect(recorder.status).toBe('closed');
    expect(await store.exists(key)).toBe(true);
    expect((await store.getMetadata(key)).frame_count).toBe(3200);
  });

  test('a second recording clears the first one’s frames, and each is stored under its own key', async () => {
    const rig = rigs.make({ source: { durationMs: 100 } });
    const { recorder, store } = rig;
    await recorder.init();
    const first = await recorder.start();
    await waitForFrames(recorder, 1600);
    await recorder.stop();
    const second = await recorder.start();
    await waitForFrames(recorder, 1600);
    await recorder.stop();
    expect(first).not.toBe(second);
    expect(await store.exists(first)).toBe(true);
    expect(await store.exists(second)).toBe(true);
  });

  test('emits a level per chunk with peak and RMS per channel', async () => {
    const rig = rigs.make({
      config: { channels: 2, chunk: 1600 },
      source: { durationMs: 100, generate: (_f, c) => (c === 0 ? 0.5 : -0.25) },
    });
    const { recorder } = rig;
    const levels: { peak: number[]; rms: number[]; frames: number }[] = [];
    recorder.on('level', (l) => levels.push(l));
    await recorder.init();
    await recorder.start();
    await waitForFrames(recorder, 1600);
    await recorder.stop();
    expect(levels.length).toBe(1);
    expect(levels[0]!.frames).toBe(1600);
    expect(levels[0]!.peak[0]).toBeCloseTo(0.5, 3);
    expect(levels[0]!.peak[1]).toBeCloseTo(0.25, 3);
    expect(levels[0]!.rms[0]).toBeCloseTo(0.5, 3);
    expect(levels[0]!.rms[1]).toBeCloseTo(0.25, 3);
  });

  test('keeps the chunks a source delivers while it stops (the drain up to the stop instant)', async () => {
    // A source like PortAudioSource: stop() delivers the frames captured up to the stop instant
    // before it resolves; they are the recording's last ~100 ms and must not be dropped.
    const chunk = (first: number, frames: number): CapturedChunk => {
      const data = new Uint8Array(frames * 2);
      const view = new DataView(data.buffer);
      for (let i = 0; i < frames; i++) view.setInt16(i * 2, (first + i) % 30_000, true);
      return { data, frames, time: 1_700_000_000_000 + (first / 16_000) * 1000 };
    };
    let deliver: ((c: CapturedChunk) => void) | undefined;
    const source: AudioSource = {
      async listInputDevices() {
        return [
          { index: 0, name: 'drain', channels: 1, defaultRate: 16_000, isDefault: true, hostApi: 'test' },
        ];
      },
      async start(_config, onChunk) {
        deliver = onChunk;
        onChunk(chunk(0, 1600));
      },
      async stop() {
        await new Promise((r) => setTimeout(r, 5));
        deliver?.(chunk(1600, 1600));
        deliver = undefined;
      },
    };
    const spool = tempDir();
    rigs.defer(() => spool.remove());
    const store = new MemoryStore();
    const recorder = new AudioRecorder(store, { rate: 16_000, chunk: 1600 }, { source, spoolDir: spool.dir });
    rigs.defer(() => recorder.close());
    await recorder.init();
    const key = await recorder.start();
    const segment = await recorder.stop();
    expect(segment.frames.byteLength).toBe(3200 * 2);
    expect(segment.durationMs).toBe(200);
    const { data } = wavData(await store.download(key));
    expect(Buffer.from(data).equals(Buffer.from(segment.frames))).toBe(true);
    expect(new DataView(data.buffer, data.byteOffset).getInt16(3199 * 2, true)).toBe(3199);
  });
});

describe('maxDurationMs', () => {
  test('ends capture after exactly that many frames, cutting the chunk that crosses it; stop() saves them', async () => {
    // 1024-frame chunks: 2.05 s at 16 kHz = 32 800 frames, 32 chunks and 32 frames of the 33rd.
    const rig = rigs.make({
      config: { rate: 16_000, chunk: 1024 },
      source: { durationMs: 10_000 },
      recorder: { maxDurationMs: 2050 },
    });
    const { recorder, store } = rig;
    const events: { key: string; durationMs: number }[] = [];
    recorder.on('maxDuration', (event) => events.push(event));
    await recorder.init();
    const key = await recorder.start();
    const streamed: Uint8Array[] = [];
    for await (const piece of recorder.stream({ format: 'pcm' })) streamed.push(piece);
    expect(events).toEqual([{ key, durationMs: 2050 }]);
    expect(recorder.isRecording).toBe(false);
    expect(recorder.status).toBe<RecorderStatus>('recording');
    const segment = await recorder.stop();
    const expected = expectedPcm(0, 32_800, { rate: 16_000, channels: 1, sampleFormat: 'int16' });
    expect(Buffer.from(segment.frames).equals(Buffer.from(expected))).toBe(true);
    expect(Buffer.concat(streamed).equals(Buffer.from(expected))).toBe(true);
    expect(wavData(await store.download(key)).data.byteLength).toBe(32_800 * 2);
  });

  test.each([0, -5, Number.NaN, '2000', 400 * 24 * 3_600_000])(
    'rejects maxDurationMs %s naming it',
    (value) => {
      expect(() => rigs.make({ recorder: { maxDurationMs: value as number } })).toThrow(/maxDurationMs/);
    },
  );
});
