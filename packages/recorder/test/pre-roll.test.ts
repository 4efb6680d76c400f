import type { CaptureStatus } from '@audex/capture';
import { concatBytes } from '@audex/pcm';
import { describe, expect, test } from 'vitest';
import type { RecordingMetadata } from '../src/index.js';
import { expectedPcm, rigsPerTest, wavData } from './helpers.js';

const rigs = rigsPerTest();
const config = { rate: 16_000, channels: 1, sampleFormat: 'int16', chunk: 1024 } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pre-roll', () => {
  test('init() opens the input; start() opens nothing and the recording reaches preRollMs back (pre_roll_ms in its metadata)', async () => {
    const t0 = Date.now();
    const { recorder, store, source } = rigs.make({
      config,
      source: { speed: 1, startTime: t0 },
      recorder: { preRollMs: 1000 },
    });
    const statuses: CaptureStatus[] = [];
    source.on('stateChange', ({ to }) => statuses.push(to));
    await recorder.init();
    expect(recorder.inputStatus).toBe('open');
    expect(statuses).toEqual(['starting', 'capturing']);
    await sleep(1500);
    const calledAt = Date.now();
    const key = await recorder.start();
    expect(statuses).toEqual(['starting', 'capturing']); // the input was already open
    await sleep(300);
    const saved = await recorder.stop();
    expect(statuses).toEqual(['starting', 'capturing']); // and stays open after stop()
    expect(recorder.inputStatus).toBe('open');
    const metadata = (await store.getMetadata(key)) as RecordingMetadata;
    // The first frame was captured preRollMs before the call (to the frame: the ring holds whole
    // 64 ms chunks and cuts the first one), measured from when start() took the call.
    expect(metadata.pre_roll_ms).toBeGreaterThanOrEqual(1000);
    expect(metadata.pre_roll_ms).toBeLessThanOrEqual(1001);
    expect(saved.startedAt.getTime()).toBeLessThanOrEqual(calledAt - 999);
    // Sample for sample what the source generated from that frame on.
    const first = Math.round(((saved.startedAt.getTime() - t0) * config.rate) / 1000);
    const { data } = wavData(await store.download(key));
    expect(
      Buffer.from(data).equals(Buffer.from(expectedPcm(first, first + data.byteLength / 2, config))),
    ).toBe(true);
    await recorder.close();
    expect(statuses.at(-1)).toBe('idle');
    expect(recorder.inputStatus).toBe('closed');
  });

  test('ten back-to-back stop()/start() pairs: the recordings concatenate to the continuous signal, no sample missing or doubled', async () => {
    const t0 = Date.now();
    const { recorder, store } = rigs.make({
      config,
      source: { speed: 1, startTime: t0 },
      recorder: { preRollMs: 1000 },
    });
    await recorder.init();
    await sleep(300);
    const keys: string[] = [];
    const starts: number[] = [];
    keys.push(await recorder.start());
    for (let i = 0; i < 10; i++) {
      await sleep(150 + 37 * i); // stops land anywhere inside a chunk
      const saved = await recorder.stop({ returnPcm: false });
      starts.push(saved.startedAt.getTime());
      if (i < 9) keys.push(await recorder.start());
    }
    const pieces: Uint8Array[] = [];
    for (const key of keys) {
      pieces.push(wavData(await store.download(key)).data);
      const metadata = (await store.getMetadata(key)) as RecordingMetadata;
      expect(metadata.pre_roll_ms).toBeGreaterThanOrEqual(0);
    }
    // The first reaches back to the input's start (300 ms of ring), each later one to the end of the one before.
    const first = Math.round(((starts[0]! - t0) * config.rate) / 1000);
    expect(first).toBe(0);
    const all = concatBytes(pieces);
    expect(Buffer.from(all).equals(Buffer.from(expectedPcm(first, first + all.byteLength / 2, config)))).toBe(
      true,
    );
    // Each recording starts where the one before ended, by the timeline too.
    for (let i = 1; i < keys.length; i++) {
      const prev = (await store.getMetadata(keys[i - 1]!)) as RecordingMetadata;
      const next = (await store.getMetadata(keys[i]!)) as RecordingMetadata;
      expect(Math.abs(Date.parse(next.started_at) - Date.parse(prev.ended_at))).toBeLessThanOrEqual(1);
    }
  });

  test('the ring holds only preRollMs: a recording started long after the last one reaches back preRollMs, not further', async () => {
    const t0 = Date.now();
    const { recorder, store } = rigs.make({
      config,
      source: { speed: 1, startTime: t0 },
      recorder: { preRollMs: 250 },
    });
    await recorder.init();
    await sleep(1200);
    const calledAt = Date.now();
    const key = await recorder.start();
    await sleep(100);
    const saved = await recorder.stop();
    const metadata = (await store.getMetadata(key)) as RecordingMetadata;
    expect(metadata.pre_roll_ms).toBeGreaterThanOrEqual(250);
    expect(metadata.pre_roll_ms).toBeLessThanOrEqual(251);
    expect(saved.startedAt.getTime()).toBeLessThanOrEqual(calledAt - 249);
  });

  test('without pre-roll nothing changes: the input opens at start() and closes at stop(); no pre_roll_ms', async () => {
    const { recorder, store, source } = rigs.make({ config, source: { speed: 1 } });
    const statuses: CaptureStatus[] = [];
    source.on('stateChange', ({ to }) => statuses.push(to));
    await recorder.init();
    expect(statuses).toEqual([]);
    const key = await recorder.start();
    await sleep(200);
    await recorder.stop();
    expect(statuses).toEqual(['starting', 'capturing', 'stopping', 'idle']);
    expect(await store.getMetadata(key)).not.toHaveProperty('pre_roll_ms');
  });
});
