import { type AudioSource, type InputDevice, SyntheticSource } from '@audex/capture';
import { type AudioConfig, type CapturedChunk, concatBytes } from '@audex/pcm';
import type { MemoryStore } from '@audex/store';
import { describe, expect, test } from 'vitest';
import type {
  AudioRecorder,
  DeviceLostEvent,
  DeviceRestoredEvent,
  RecorderError,
  RecordingMetadata,
} from '../src/index.js';
import { collect, rigsPerTest, testSignal, wavData } from './helpers.js';

const rigs = rigsPerTest();
const config = { rate: 16_000, channels: 1, sampleFormat: 'int16', chunk: 800 } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Records the device events of a recorder. */
function deviceEvents(recorder: AudioRecorder) {
  const lost: DeviceLostEvent[] = [];
  const restored: DeviceRestoredEvent[] = [];
  const errors: RecorderError[] = [];
  recorder.on('deviceLost', (e) => lost.push(e));
  recorder.on('deviceRestored', (e) => restored.push(e));
  recorder.on('error', (e) => errors.push(e));
  return { lost, restored, errors };
}

async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/**
 * A recording through an outage: one stored WAV whose timeline spans the wall clock, one gap of
 * about the outage, the live PCM stream exactly the stored audio.
 */
async function checkOutage(
  recorder: AudioRecorder,
  store: MemoryStore,
  outage: () => Promise<{ lost: DeviceLostEvent[]; restored: DeviceRestoredEvent[] }>,
) {
  const calledAt = Date.now();
  const key = await recorder.start('outage');
  const stream = collect(recorder.stream());
  const { lost, restored } = await outage();
  await sleep(800);
  const stoppedAt = Date.now();
  const saved = await recorder.stop();
  const metadata = (await store.getMetadata(key)) as RecordingMetadata;
  const { data } = wavData(await store.download(key));
  expect(Buffer.from(data).equals(Buffer.from(saved.frames))).toBe(true);
  expect(Buffer.from(concatBytes(await stream)).equals(Buffer.from(data))).toBe(true);
  expect(metadata.gap_count).toBe(1);
  expect(restored).toHaveLength(1);
  expect(metadata.gaps[0]!.duration_ms).toBeCloseTo(restored[0]!.gapMs, -1);
  const wallMs = stoppedAt - calledAt;
  expect(Math.abs(metadata.duration_ms - wallMs)).toBeLessThan(150);
  expect(metadata.captured_frames + metadata.gap_frames).toBe(metadata.frame_count);
  return { lost, restored, metadata };
}

describe('reconnect on a synthetic source', () => {
  test('a stall (no chunk, no error) is caught by the watchdog, the source re-opened, the outage one gap', async () => {
    const { recorder, store } = rigs.make({
      config,
      source: { speed: 1, stallAfterMs: 1000, faultyStarts: 1 },
      recorder: { reconnect: { watchdogMs: 300 } },
    });
    await recorder.init();
    const events = deviceEvents(recorder);
    const { lost, restored, metadata } = await checkOutage(recorder, store as MemoryStore, async () => {
      await until(() => events.restored.length === 1);
      return events;
    });
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBe('stall');
    // Caught once the watchdog time had passed after the chunk that never came (50 ms chunks).
    const silentMs = lost[0]!.time - lost[0]!.lastAudioAt!;
    expect(silentMs).toBeGreaterThanOrEqual(300);
    expect(silentMs).toBeLessThan(300 + 50 + 1000);
    expect(restored[0]!.attempts).toBe(1);
    expect(metadata.gaps[0]!.start_ms).toBeCloseTo(1000, -1);
    expect(events.errors).toEqual([]);
    expect(recorder.isRecording).toBe(false);
  });

  test('a stalled source that hands over its last audio while stopping, and a chunk after: the first comes before the silence, the late one is not taken; the timeline keeps the wall clock', async () => {
    const source = new FlushingSource();
    const { recorder, store } = rigs.make({
      config,
      customSource: source,
      recorder: { reconnect: { watchdogMs: 300 } },
    });
    await recorder.init();
    const events = deviceEvents(recorder);
    const { metadata } = await checkOutage(recorder, store as MemoryStore, async () => {
      await until(() => events.restored.length === 1);
      return events;
    });
    expect(source.sent).toEqual({ whileStopping: 1, afterStop: 1 });
    expect(events.lost[0]!.reason).toBe('stall');
    // The stall came after 1000 ms (50 ms chunks); the 200 frames flushed while stopping are audio
    // right after it, and the silence starts there (not where it would have without them).
    expect(metadata.gaps[0]!.start_ms).toBeCloseTo(1000 + (200 / 16_000) * 1000, 0);
  });

  test('a lost device (DEVICE_LOST) is re-opened with back-off once it is back; streams keep flowing through the outage', async () => {
    const source = new FlakySource({ speed: 1 });
    const { recorder, store } = rigs.make({ config, customSource: source, recorder: { reconnect: {} } });
    await recorder.init();
    const events = deviceEvents(recorder);
    const streamedDuringOutage: number[] = [];
    const { metadata } = await checkOutage(recorder, store as MemoryStore, async () => {
      await sleep(700);
      source.unplug();
      const framesAtLoss = recorder.frameCount;
      await sleep(900);
      // Silence keeps the timeline (and live streams) going while the device is away.
      streamedDuringOutage.push(recorder.frameCount - framesAtLoss);
      source.plugIn();
      await until(() => events.restored.length === 1);
      return events;
    });
    expect(events.lost[0]!.reason).toBe('error');
    expect(events.lost[0]!.message).toBe('usb mic unplugged');
    expect(streamedDuringOutage[0]).toBeGreaterThan(0.4 * 16_000);
    // Unplugged at 700 ms: the last chunk (50 ms) before it was whole.
    expect(metadata.gaps[0]!.start_ms).toBeGreaterThanOrEqual(600);
    expect(metadata.gaps[0]!.start_ms).toBeLessThanOrEqual(700);
    expect(metadata.gaps[0]!.duration_ms).toBeGreaterThan(900);
    expect(events.restored[0]!.attempts).toBeGreaterThan(1);
  });

  test('gives up after giveUpAfterMs: capture ends with SOURCE_FAILED and stop() saves what was captured', async () => {
    const source = new FlakySource({ speed: 1 });
    const { recorder, store } = rigs.make({
      config,
      customSource: source,
      recorder: { reconnect: { giveUpAfterMs: 700 } },
    });
    await recorder.init();
    const events = deviceEvents(recorder);
    const key = await recorder.start();
    await sleep(400);
    source.unplug();
    expect(recorder.inputStatus).toBe('reconnecting');
    expect(recorder.isRecording).toBe(true);
    await until(() => events.errors.length === 1);
    expect(events.errors[0]!.code).toBe('SOURCE_FAILED');
    expect(events.errors[0]!.message).toMatch(/could not be re-opened within 700 ms.*call stop\(\) to save/);
    expect(source.attempts).toBeGreaterThanOrEqual(2);
    expect(recorder.isRecording).toBe(false);
    expect(recorder.inputStatus).toBe('closed');
    const saved = await recorder.stop();
    expect(saved.durationMs).toBeGreaterThan(300);
    expect(await store.exists(key)).toBe(true);
  });

  test('a device opened by index is found again by name when the rescan gives it another index', async () => {
    const source = new FlakySource({ speed: 1 });
    const { recorder } = rigs.make({
      config: { ...config, inputDeviceIndex: 2 },
      customSource: source,
      recorder: { reconnect: {} },
    });
    await recorder.init();
    const events = deviceEvents(recorder);
    await recorder.start();
    await sleep(200);
    source.unplug();
    source.devices = [
      { ...source.devices[0]!, index: 2, name: 'other mic', isDefault: true },
      { ...source.devices[0]!, index: 5, name: 'usb mic', isDefault: false },
    ];
    source.plugIn();
    await until(() => events.restored.length === 1);
    expect(source.opened.at(-1)).toBe(5);
    await recorder.stop();
  });

  test('with reconnect: false a lost device ends capture as before (the error event; stop() saves)', async () => {
    const { recorder } = rigs.make({
      config,
      source: { speed: 4, failAfterMs: 400 },
      recorder: { reconnect: false },
    });
    await recorder.init();
    const events = deviceEvents(recorder);
    await recorder.start();
    await until(() => events.errors.length === 1);
    expect(events.lost).toEqual([]);
    expect(events.errors[0]!.message).toMatch(/the input failed mid-recording/);
    expect((await recorder.stop()).durationMs).toBeCloseTo(400, 0);
  });
});

/** Fault injection: a device that can be unplugged (its capture fails, it cannot be opened) and plugged in again. */
class FlakySource implements AudioSource {
  devices: InputDevice[] = [
    { index: 2, name: 'usb mic', channels: 2, defaultRate: 16_000, hostApi: 'test', isDefault: true },
  ];
  opened: (number | null)[] = [];
  attempts = 0;
  readonly #inner: SyntheticSource;
  #present = true;
  #onError: ((error: Error) => void) | undefined;

  constructor(options: { speed: number }) {
    this.#inner = new SyntheticSource({ generate: testSignal, ...options });
  }

  async listInputDevices(): Promise<InputDevice[]> {
    return this.#present ? this.devices.map((d) => ({ ...d })) : [];
  }

  async start(
    config: AudioConfig,
    onChunk: (chunk: CapturedChunk) => void,
    onError: (error: Error) => void,
  ): Promise<void> {
    this.attempts++;
    if (
      !this.#present ||
      !this.devices.some((d) => d.index === config.inputDeviceIndex || config.inputDeviceIndex === null)
    ) {
      throw new Error(`no device ${config.inputDeviceIndex}`);
    }
    this.opened.push(config.inputDeviceIndex);
    this.#onError = onError;
    await this.#inner.start({ ...config, inputDeviceIndex: 0 }, onChunk, onError);
  }

  async stop(): Promise<void> {
    await this.#inner.stop();
  }

  unplug(): void {
    this.#present = false;
    void this.#inner.stop();
    this.#onError?.(Object.assign(new Error('usb mic unplugged'), { code: 'DEVICE_LOST' }));
  }

  plugIn(): void {
    this.#present = true;
  }
}

/**
 * Stalls after 1000 ms (the first start only), then, as PortAudio does, hands over the last
 * buffered audio while stopping (slowly, as a stuck device does), and one more chunk after stop().
 */
class FlushingSource implements AudioSource {
  readonly #inner = new SyntheticSource({
    generate: testSignal,
    speed: 1,
    stallAfterMs: 1000,
    faultyStarts: 1,
  });
  #end: number | undefined;
  #onChunk: ((chunk: CapturedChunk) => void) | undefined;
  #starts = 0;
  sent = { whileStopping: 0, afterStop: 0 };

  listInputDevices(): Promise<InputDevice[]> {
    return this.#inner.listInputDevices();
  }

  async start(
    config: AudioConfig,
    onChunk: (chunk: CapturedChunk) => void,
    onError: (error: Error) => void,
  ): Promise<void> {
    this.#starts++;
    const bytesPerFrame = 2 * config.channels;
    this.#onChunk = (chunk) => {
      this.#end = chunk.time + (chunk.frames / config.rate) * 1000;
      onChunk(chunk);
    };
    this.#flush = (frames) => {
      const time = this.#end!;
      this.#end = time + (frames / config.rate) * 1000;
      onChunk({ data: new Uint8Array(frames * bytesPerFrame).fill(1), frames, time });
    };
    await this.#inner.start(config, (chunk) => this.#onChunk?.(chunk), onError);
  }

  #flush: ((frames: number) => void) | undefined;

  async stop(): Promise<void> {
    await this.#inner.stop();
    if (this.#starts !== 1 || this.sent.whileStopping > 0) return;
    const flush = this.#flush!;
    await sleep(300);
    flush(200);
    this.sent.whileStopping++;
    setTimeout(() => {
      flush(200);
      this.sent.afterStop++;
    }, 0);
  }
}
