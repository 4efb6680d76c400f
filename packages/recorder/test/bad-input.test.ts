import { SyntheticSource } from '@audex/capture';
import { MemoryStore } from '@audex/store';
import { describe, expect, test } from 'vitest';
import { AudioRecorder, RecorderError } from '../src/index.js';
import { collect, rigsPerTest, tempDir, waitForFrames } from './helpers.js';

const rigs = rigsPerTest();

/** Asserts that `fn` rejects (or throws) a RecorderError with `code` whose message names `mention`. */
async function expectError(
  fn: () => unknown,
  code: string,
  mention?: string | RegExp,
): Promise<RecorderError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RecorderError);
  const error = caught as RecorderError;
  expect(error.code).toBe(code);
  expect(error.message.startsWith('[audex/recorder] ')).toBe(true);
  if (mention) expect(error.message).toMatch(mention);
  return error;
}

describe('bad config is rejected at construction, naming the value and what is allowed', () => {
  const source = new SyntheticSource();
  test.each([
    [{ format: 'int12' }, /"int12".*int8, int16, int24, int32, float32/, 'format'],
    [{ format: 'paInt16' }, /"paInt16"/, 'format'],
    [{ rate: 0 }, /rate.*got 0/, 'rate'],
    [{ rate: 44_100.5 }, /rate.*44100\.5/, 'rate'],
    [{ channels: 0 }, /channels.*1 to 64.*got 0/, 'channels'],
    [{ channels: 2.5 }, /channels.*2\.5/, 'channels'],
    [{ chunk: -1 }, /chunk.*got -1/, 'chunk'],
    [{ chunk: 0 }, /chunk.*got 0/, 'chunk'],
    [{ inputDeviceIndex: -3 }, /inputDeviceIndex.*-3/, 'inputDeviceIndex'],
    [{ inputDeviceIndex: 1.5 }, /inputDeviceIndex.*1\.5/, 'inputDeviceIndex'],
  ])('config %j', async (config, mention, field) => {
    const error = await expectError(
      () => new AudioRecorder(new MemoryStore(), config as never, { source }),
      'INVALID_CONFIG',
      mention,
    );
    expect(error.field).toBe(field);
  });

  test('a device index the source does not have fails init() listing the devices; nothing is opened', async () => {
    const spool = tempDir();
    const recorder = new AudioRecorder(
      new MemoryStore(),
      { inputDeviceIndex: 7 },
      { source, spoolDir: spool.dir },
    );
    await expectError(
      () => recorder.init(),
      'INVALID_CONFIG',
      /inputDeviceIndex 7.*0 \(audex synthetic input\)/,
    );
    expect(recorder.status).toBe('idle');
    expect(source.status).toBe('idle');
    spool.remove();
  });

  test.each([
    [{ memoryMs: 0 }, 'memoryMs'],
    [{ flushIntervalMs: 5000 }, 'flushIntervalMs'],
    [{ uploadRetries: -1 }, 'uploadRetries'],
    [{ spoolDir: '' }, 'spoolDir'],
    [{ source: {} }, 'source'],
    [{ logger: { info() {} } }, 'logger'],
    [{ reconnect: true }, 'reconnect'],
    [{ reconnect: { watchdogMs: 50 } }, 'reconnect.watchdogMs'],
    [{ reconnect: { giveUpAfterMs: -1 } }, 'reconnect.giveUpAfterMs'],
    [{ preRollMs: 120_000 }, 'preRollMs'],
    [{ preRollMs: Number.NaN }, 'preRollMs'],
    [{ rotate: {} }, 'rotate'],
    [{ rotate: { everyMs: 500 } }, 'rotate.everyMs'],
    [{ rotate: { maxBytes: 1000 } }, 'rotate.maxBytes'],
    [{ rotate: { maxBytes: 100_000.5 } }, 'rotate.maxBytes'],
    [{ silence: { afterMs: 0 } }, 'silence.afterMs'],
    [{ silence: { belowDbfs: 3 } }, 'silence.belowDbfs'],
    [{ silence: 'off' }, 'silence'],
  ])('options %j', async (options, field) => {
    const error = await expectError(
      () => new AudioRecorder(new MemoryStore(), {}, options as never),
      'INVALID_OPTIONS',
      field,
    );
    expect(error.field).toBe(field);
  });

  test('something that is not a Store', async () => {
    await expectError(() => new AudioRecorder({} as never), 'INVALID_OPTIONS', /Store/);
  });
});

describe('call-order mistakes are clear errors and leave the recorder usable', () => {
  test('start/stop/segment/stream before init()', async () => {
    const rig = rigs.make({ source: { durationMs: 100 } });
    const { recorder } = rig;
    await expectError(() => recorder.start(), 'NOT_INITIALIZED', /init\(\)/);
    await expectError(() => recorder.stop(), 'NOT_INITIALIZED');
    await expectError(() => recorder.segment(0, 1), 'NOT_INITIALIZED', /segment\(\) called before init/);
    await expectError(() => recorder.stream(), 'NOT_INITIALIZED');
    await recorder.init();
    await recorder.start();
    await waitForFrames(recorder, 1600);
    await recorder.stop({ frames: false });
  });

  test('start twice, stop when idle, clearFrames while recording', async () => {
    const rig = rigs.make({ source: { durationMs: 100 } });
    const { recorder } = rig;
    await recorder.init();
    await expectError(() => recorder.stop(), 'NOT_RECORDING', /start\(\) first/);
    const key = await recorder.start();
    await expectError(() => recorder.start(), 'ALREADY_RECORDING', /stop\(\) first/);
    await expectError(() => recorder.clearFrames(), 'ALREADY_RECORDING');
    expect(recorder.currentSegmentKey).toBe(key);
    expect(recorder.isRecording).toBe(true);
    await waitForFrames(recorder, 1600);
    const saved = await recorder.stop({ frames: false });
    expect(saved.key).toBe(key);
    await expectError(() => recorder.stop(), 'NOT_RECORDING');
    await recorder.clearFrames();
    await expectError(() => recorder.segment(0, 1), 'NO_RECORDING');
    await recorder.start();
    await recorder.stop({ frames: false });
  });

  test('a closed recorder refuses everything but close()', async () => {
    const rig = rigs.make();
    const { recorder } = rig;
    await recorder.init();
    await recorder.close();
    await expectError(() => recorder.init(), 'CLOSED');
    await expectError(() => recorder.start(), 'CLOSED');
    await expectError(() => recorder.segment(0, 1), 'CLOSED');
    await expect(recorder.close()).resolves.toBeUndefined();
  });
});

describe('bad ranges and options', () => {
  const T0 = Date.UTC(2026, 0, 1);
  test('reversed, empty, non-finite and outside ranges', async () => {
    const rig = rigs.make({ source: { durationMs: 1000, startTime: T0 } });
    const { recorder } = rig;
    await recorder.init();
    await recorder.start();
    await waitForFrames(recorder, 16_000);
    await recorder.stop({ frames: false });
    await expectError(() => recorder.segment(T0 + 500, T0 + 100), 'INVALID_RANGE', /reversed/);
    await expectError(() => recorder.segment(T0 + 500, T0 + 500), 'INVALID_RANGE', /empty/);
    await expectError(() => recorder.segment(Number.NaN, T0), 'INVALID_RANGE', /startedAt/);
    await expectError(() => recorder.segment(new Date('nope'), T0), 'INVALID_RANGE', /invalid Date/);
    await expectError(() => recorder.segment('yesterday' as never, T0), 'INVALID_RANGE', /"yesterday"/);
    await expectError(
      () => recorder.segment(T0 - 10_000, T0 - 5000),
      'OUT_OF_RANGE',
      /outside the recording, which spans 2026-01-01T00:00:00.000Z – 2026-01-01T00:00:01.000Z/,
    );
    await expectError(() => recorder.segment(T0 + 2000, T0 + 3000), 'OUT_OF_RANGE');
    await expectError(
      () => recorder.segment(T0, T0 + 100, { format: 'flac-nope' }),
      'INVALID_OPTIONS',
      /wav/,
    );
    await expectError(() => recorder.segment(T0, T0 + 100, { rate: -5 }), 'INVALID_OPTIONS', /rate/);
    await expectError(() => recorder.segment(T0, T0 + 100, { channels: 0 }), 'INVALID_OPTIONS', /channels/);
    await expectError(
      () => recorder.segment(T0, T0 + 100, { sampleFormat: 'int12' as never }),
      'INVALID_OPTIONS',
      /sampleFormat/,
    );
    // Still usable.
    expect((await recorder.segment(T0, T0 + 100)).byteLength).toBe(3200);
  });

  test('stream options are checked at the call', async () => {
    const rig = rigs.make({ source: { durationMs: 200 } });
    const { recorder } = rig;
    await recorder.init();
    await recorder.start();
    expect(() => recorder.stream({ chunkSize: 0 })).toThrow(/chunkSize/);
    expect(() => recorder.stream({ chunkSize: 1.5 })).toThrow(/chunkSize/);
    expect(() => recorder.stream({ from: 'later' as never })).toThrow(/from must be/);
    expect(() => recorder.stream({ format: 'aac-nope' })).toThrow(
      /unknown format "aac-nope".*registered formats/,
    );
    expect(() => recorder.stream({ format: 'mp3', bitrate: -1 })).toThrow(/bitrate/);
    expect(() => recorder.stream({ signal: 'stop' as never })).toThrow(/AbortSignal/);
    const ok = collect(recorder.stream({ chunkSize: 1600 }));
    await waitForFrames(recorder, 3200);
    await recorder.stop({ frames: false });
    expect((await ok).length).toBe(2);
  });

  test('key prefixes the store rejects fail start() before anything is opened', async () => {
    const rig = rigs.make({ source: { durationMs: 100 } });
    const { recorder, source } = rig;
    await recorder.init();
    for (const bad of ['', '..', 'a/../../b', 'back\\slash', 'nul\0byte', '/abs']) {
      await expectError(() => recorder.start(bad), 'INVALID_KEY');
      expect(source.status).toBe('idle');
      expect(recorder.status).toBe('initialized');
    }
    expect(await recorder.start('fine')).toMatch(/^audex\/fine\//);
    await recorder.stop({ frames: false });
  });
});
