import { type CapturedChunk, resolveAudioConfig, SAMPLE_FORMATS, toFloat32 } from '@audex/pcm';
import { afterEach, describe, expect, it } from 'vitest';
import { CaptureError, type CaptureStatus, SyntheticSource } from '../src/index.js';

function collect() {
  const chunks: CapturedChunk[] = [];
  const errors: Error[] = [];
  return {
    chunks,
    errors,
    onChunk: (c: CapturedChunk) => chunks.push(c),
    onError: (e: Error) => errors.push(e),
  };
}

async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!predicate()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('SyntheticSource', () => {
  let source: SyntheticSource | undefined;
  afterEach(async () => {
    await source?.stop();
  });

  it('lists one virtual default input device', async () => {
    source = new SyntheticSource();
    const devices = await source.listInputDevices();
    expect(devices).toEqual([
      {
        index: 0,
        name: 'audex synthetic input',
        channels: 64,
        defaultRate: 48000,
        hostApi: 'synthetic',
        isDefault: true,
      },
    ]);
  });

  it.each(SAMPLE_FORMATS)(
    'generates %s stereo chunks of the right length carrying the requested signal',
    async (format) => {
      source = new SyntheticSource({
        speed: 0,
        durationMs: 100,
        generate: (f, c) => (c === 0 ? 0.25 : -0.5) + f * 0,
      });
      const { chunks, onChunk, onError } = collect();
      await source.start(
        resolveAudioConfig({ format, channels: 2, rate: 8000, chunk: 300 }),
        onChunk,
        onError,
      );
      await until(() => chunks.reduce((n, c) => n + c.frames, 0) === 800);
      expect(chunks.map((c) => c.frames)).toEqual([300, 300, 200]);
      for (const c of chunks) {
        expect(c.data.byteLength).toBe(
          c.frames * 2 * { int8: 1, int16: 2, int24: 3, int32: 4, float32: 4 }[format],
        );
        const f = toFloat32(c.data, format);
        expect(f[0]).toBeCloseTo(0.25, 1);
        expect(f[1]).toBeCloseTo(-0.5, 1);
      }
    },
  );

  it('timestamps each chunk as startTime + frames / rate', async () => {
    source = new SyntheticSource({ speed: 0, durationMs: 1000, startTime: 1_000_000 });
    const { chunks, onChunk, onError } = collect();
    await source.start(resolveAudioConfig({ rate: 16000, chunk: 1600 }), onChunk, onError);
    await until(() => chunks.length === 10);
    expect(chunks.map((c) => c.time)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => 1_000_000 + i * 100));
  });

  it('delivers in real time at speed 1', async () => {
    source = new SyntheticSource();
    const { chunks, onChunk, onError } = collect();
    const t0 = Date.now();
    await source.start(resolveAudioConfig({ rate: 16000, chunk: 160 }), onChunk, onError);
    await new Promise((r) => setTimeout(r, 500));
    await source.stop();
    const frames = chunks.reduce((n, c) => n + c.frames, 0);
    const expected = ((Date.now() - t0) * 16000) / 1000;
    expect(frames).toBeGreaterThan(expected * 0.85);
    expect(frames).toBeLessThanOrEqual(expected + 160);
    expect(chunks[0]!.time).toBeGreaterThanOrEqual(t0);
  });

  it('skips frames at dropAfterFrames, marks the next chunk overflow and counts it', async () => {
    source = new SyntheticSource({ speed: 0, durationMs: 1000, startTime: 0, dropAfterFrames: [3200] });
    const { chunks, onChunk, onError } = collect();
    await source.start(resolveAudioConfig({ rate: 16000, chunk: 1600 }), onChunk, onError);
    await until(() => chunks.length === 9);
    expect(chunks.map((c) => c.overflow ?? false)).toEqual([
      false,
      false,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(chunks[2]!.time).toBe(300);
    expect(source.overflowCount).toBe(1);
  });

  it('reports DEVICE_LOST after failAfterMs, then delivers nothing and stops cleanly', async () => {
    source = new SyntheticSource({ speed: 0, failAfterMs: 250 });
    const statuses: CaptureStatus[] = [];
    source.on('stateChange', ({ to }) => statuses.push(to));
    const { chunks, errors, onChunk, onError } = collect();
    await source.start(resolveAudioConfig({ rate: 16000, chunk: 1600 }), onChunk, onError);
    await until(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(CaptureError);
    expect((errors[0] as CaptureError).code).toBe('DEVICE_LOST');
    expect(chunks.reduce((n, c) => n + c.frames, 0)).toBe(4000);
    expect(source.status).toBe('failed');
    await source.stop();
    expect(statuses).toEqual(['starting', 'capturing', 'failed', 'idle']);
  });

  it('stalls after stallAfterMs: no chunk and no error, still capturing; faultyStarts: 1 makes the next start clean', async () => {
    source = new SyntheticSource({ speed: 0, stallAfterMs: 250, faultyStarts: 1 });
    const first = collect();
    await source.start(resolveAudioConfig({ rate: 16000, chunk: 1600 }), first.onChunk, first.onError);
    await until(() => first.chunks.reduce((n, c) => n + c.frames, 0) === 4000);
    await new Promise((r) => setTimeout(r, 50));
    expect(first.chunks.reduce((n, c) => n + c.frames, 0)).toBe(4000);
    expect(first.chunks.at(-1)!.frames).toBe(800); // the chunk cut by the stall
    expect(first.errors).toEqual([]);
    expect(source.status).toBe('capturing');
    await source.stop();
    const second = collect();
    await source.start(resolveAudioConfig({ rate: 16000, chunk: 1600 }), second.onChunk, second.onError);
    await until(() => second.chunks.reduce((n, c) => n + c.frames, 0) >= 8000);
    expect(second.errors).toEqual([]);
  });

  it('rejects a second start and a device other than 0, listing the available input', async () => {
    source = new SyntheticSource({ speed: 0 });
    await expect(
      source.start(
        resolveAudioConfig({ inputDeviceIndex: 3 }),
        () => {},
        () => {},
      ),
    ).rejects.toThrow(
      /inputDeviceIndex 3 is not an input device; available inputs: 0 "audex synthetic input"/,
    );
    await source.start(
      resolveAudioConfig(),
      () => {},
      () => {},
    );
    await expect(
      source.start(
        resolveAudioConfig(),
        () => {},
        () => {},
      ),
    ).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });

  it('rejects an unknown format naming the allowed ones', async () => {
    source = new SyntheticSource();
    const bad = { ...resolveAudioConfig(), sampleFormat: 'int12' } as unknown as Parameters<
      SyntheticSource['start']
    >[0];
    await expect(
      source.start(
        bad,
        () => {},
        () => {},
      ),
    ).rejects.toThrow(
      /^\[audex\/capture\] sampleFormat "int12" is not a supported sample format; allowed: int8, int16, int24, int32, float32/,
    );
  });
});
