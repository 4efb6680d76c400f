import { dominantFrequency } from '@audex/test-utils/signals';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  diagnostics,
  type InputStream,
  listDevices,
  NaudiodonError,
  type OpenInputOptions,
  openInput,
} from '../src/index.js';
import { int16ToFloat, record } from './helpers.js';

let mic: VirtualMic;
let input: OpenInputOptions;
beforeAll(async () => {
  mic = await startVirtualMic();
  const { defaultInput } = await listDevices();
  input = {
    deviceId: defaultInput!.id,
    channels: 1,
    sampleFormat: 'int16',
    sampleRate: 16000,
    framesPerBuffer: 160,
  };
});
afterAll(async () => {
  await mic?.stop();
});

describe('listDevices', () => {
  it("lists the virtual mic's ALSA devices with the default input, and PortAudio's version", async () => {
    const list = await listDevices();
    expect(list.portAudioVersion).toMatch(/^PortAudio V19/);
    const names = list.devices.filter((d) => d.maxInputChannels > 0).map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['pulse', 'default']));
    expect(list.defaultInput?.name).toBe('default');
    expect(list.defaultInput?.hostApi).toBe('ALSA');
    expect(list.defaultInput?.defaultHighInputLatency).toBeGreaterThan(
      list.defaultInput!.defaultLowInputLatency,
    );
    expect(list.devices.filter((d) => d.isDefaultInput)).toHaveLength(1);
    // the device scan's complaints were recorded, not printed
    expect(diagnostics().join('\n')).toMatch(/^(ALSA lib |JACK: )/m);
  });
});

describe('openInput', () => {
  it('captures a tone through wake-ups of one per wakeFrames frames, with every frame accounted for', async () => {
    const rec = await record(input, 1600);
    try {
      await rec.until(1600, 5000); // the null sink starts in blocks of up to 2 s
      const playback = await mic.playBackground({ frequencies: [1000], toneSeconds: 1.5 });
      await playback.done;
      await rec.until(rec.data().length / 2 + 3200, 3000);
    } finally {
      await rec.stream.close();
    }
    const last = rec.last()!;
    expect(last.dropped).toBe(0);
    expect(last.overflows).toBe(0);
    // nothing is lost or invented: data read = device frames delivered (none dropped)
    expect(rec.data().length / 2).toBe(last.frames);
    // about one wake-up per 1600 frames (100 ms), not one per 10 ms callback
    expect(rec.wakes).toBeLessThanOrEqual(Math.ceil(last.frames / 1600) + 3);
    expect(last.callbacks).toBeGreaterThan(rec.wakes * 5);
    // callback readings: CLOCK_MONOTONIC ms and frame counts, both increasing, 160 frames apart
    const t = rec.reads.flatMap((r) => [...r.timings]);
    for (let i = 2; i + 1 < t.length; i += 2) {
      expect(t[i]).toBeGreaterThan(t[i - 2]!);
      expect(t[i + 1]! - t[i - 1]!).toBe(160);
    }
    // the tone is in there: 0.25 s windows, at least 1 s of them dominated by 1 kHz
    const samples = int16ToFloat(rec.data());
    let toneWindows = 0;
    for (let i = 0; i + 4000 <= samples.length; i += 4000)
      if (dominantFrequency(samples.subarray(i, i + 4000), 16000, [500, 1000, 2000], 0.8)?.freq === 1000)
        toneWindows++;
    expect(toneWindows).toBeGreaterThanOrEqual(4);
  }, 20_000);

  it('counts frames dropped while JavaScript does not read, right after the data read before them', async () => {
    const rec = await record({ ...input, ringFrames: 1600 }, 160);
    try {
      await rec.until(160, 5000);
      const t = performance.now();
      while (performance.now() - t < 400) {
        // the event loop is blocked: the 100 ms ring fills up, the callback drops
      }
      await rec.until(rec.data().length / 2 + 3200, 3000);
    } finally {
      await rec.stream.close();
    }
    const last = rec.last()!;
    expect(last.dropped).toBeGreaterThan(0);
    // every device frame is either read or counted as dropped
    expect(rec.data().length / 2 + last.dropped).toBe(last.frames);
    const firstDrop = rec.reads.findIndex((r) => r.dropped > 0);
    // that read's data fills the ring exactly: the drop started when it was full
    const before = rec.reads.slice(0, firstDrop + 1).reduce((n, r) => n + (r.data?.length ?? 0) / 2, 0);
    expect(before).toBeGreaterThanOrEqual(1600);
  }, 20_000);

  it('setWakeFrames() after a read moves the next wake-up: reads then hold about that many frames', async () => {
    const sizes: number[] = [];
    let done: () => void = () => {};
    const enough = new Promise<void>((resolve) => {
      done = resolve;
    });
    const stream: InputStream = await openInput({ ...input, wakeFrames: 160 }, () => {
      const r = stream.read(160);
      if (r.data) sizes.push(r.data.length / 2);
      stream.setWakeFrames(1600);
      if (sizes.length >= 10) done();
    });
    try {
      await Promise.race([enough, new Promise((r) => setTimeout(r, 10_000))]);
    } finally {
      await stream.close();
    }
    expect(sizes.length).toBeGreaterThanOrEqual(10);
    // past the start-up burst, wake-ups come once 1600 frames wait (10 callbacks of 160), not per
    // callback; a callback between read() and setWakeFrames() may add one early wake-up
    const steady = sizes.slice(2);
    expect(steady.filter((n) => n >= 1600).length).toBeGreaterThanOrEqual(steady.length - 1);
    expect(steady.filter((n) => n === 1600).length).toBeGreaterThanOrEqual(steady.length / 2);
  }, 20_000);

  it('close() returns one promise, finishes the stream and leaves the rest readable', async () => {
    const rec = await record(input, 160);
    await rec.until(160, 5000);
    const closing = rec.stream.close();
    expect(rec.stream.close()).toBe(closing);
    expect(rec.stream.closed).toBe(true);
    await closing;
    const after = rec.stream.read();
    expect(after.finished).toBe(true);
    const total = rec.data().length / 2 + (after.data?.length ?? 0) / 2;
    expect(total).toBe(after.frames);
  }, 20_000);

  it.each([
    [
      { sampleFormat: 'int12' },
      'sampleFormat',
      /sampleFormat "int12" is not allowed; allowed: int8, int16, int24, int32, float32/,
    ],
    [{ channels: 0 }, 'channels', /channels 0 is not allowed; allowed: an integer from 1 to 256/],
    [{ sampleRate: 12 }, 'sampleRate', /sampleRate 12 is not allowed; allowed: 1000 to 768000 Hz/],
    [{ deviceId: -1 }, 'deviceId', /deviceId -1 is not allowed/],
    [{ ringFrames: 0.5 }, 'ringFrames', /ringFrames 0.5 is not allowed/],
  ] as const)('rejects %o naming %s and what is allowed', async (bad, field, message) => {
    const error = await openInput({ ...input, ...bad } as OpenInputOptions, () => {}).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NaudiodonError);
    expect(error).toMatchObject({ code: 'INVALID_OPTIONS', field });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/^\[audex\/naudiodon\] /);
  });

  it("fails to open with PortAudio's reason when the device cannot do it", async () => {
    const error = await openInput({ ...input, deviceId: 999 }, () => {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OPEN_FAILED' });
    expect((error as Error).message).toMatch(
      /cannot open input device 999 .*deviceId 999 is not an input device/,
    );
    const tooMany = await openInput({ ...input, channels: 64 }, () => {}).catch((e: unknown) => e);
    expect((tooMany as Error).message).toMatch(/channels 64 is more than device \d+ has \(32\)/);
    // still usable afterwards
    const rec = await record(input, 160);
    await rec.until(160, 5000);
    await rec.stream.close();
  }, 20_000);
});
