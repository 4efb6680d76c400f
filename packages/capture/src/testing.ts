import {
  type AudioConfig,
  bytesPerFrame,
  type CapturedChunk,
  resolveAudioConfig,
  SAMPLE_FORMATS,
  type SampleFormat,
} from '@audex/pcm';
import { describe, expect, it } from 'vitest';
import type { AudioSource } from './types.js';

/** Options of {@link testAudioSource}. */
export interface AudioSourceSuiteOptions {
  /** Sample formats to check. Default: all five. */
  formats?: readonly SampleFormat[];
  /** Channel counts to check. Default `[1, 2]`. */
  channels?: readonly number[];
  /** Rate of the format × channels runs, in Hz. Default 16000. */
  rate?: number;
  /** How long each capture runs, in ms of wall time. Default 400. */
  captureMs?: number;
  /** Timeout of each test, in ms. Default 20000. */
  timeoutMs?: number;
}

/**
 * The conformance suite of the {@link AudioSource} plug point. Call it inside a vitest test file
 * with a factory returning a fresh, idle source; any implementation should pass it:
 *
 * ```ts
 * testAudioSource('MySource', () => new MySource());
 * ```
 */
export function testAudioSource(
  name: string,
  factory: () => AudioSource | Promise<AudioSource>,
  options: AudioSourceSuiteOptions = {},
): void {
  const formats = options.formats ?? SAMPLE_FORMATS;
  const channelCounts = options.channels ?? [1, 2];
  const rate = options.rate ?? 16_000;
  const captureMs = options.captureMs ?? 400;
  const timeout = options.timeoutMs ?? 20_000;

  async function capture(
    source: AudioSource,
    config: AudioConfig,
  ): Promise<{ chunks: CapturedChunk[]; errors: Error[]; late: number }> {
    const chunks: CapturedChunk[] = [];
    const errors: Error[] = [];
    let stopped = false;
    let late = 0;
    await source.start(
      config,
      (c) => {
        if (stopped) late++;
        chunks.push(c);
      },
      (e) => errors.push(e),
    );
    await new Promise((r) => setTimeout(r, captureMs));
    await source.stop();
    stopped = true;
    await new Promise((r) => setTimeout(r, 50));
    return { chunks, errors, late };
  }

  describe(`AudioSource conformance: ${name}`, () => {
    it('lists input devices with index, name, channels, defaultRate, hostApi and isDefault', async () => {
      const source = await factory();
      const devices = await source.listInputDevices();
      expect(devices.length).toBeGreaterThan(0);
      for (const d of devices) {
        expect(Number.isInteger(d.index)).toBe(true);
        expect(typeof d.name).toBe('string');
        expect(d.channels).toBeGreaterThan(0);
        expect(d.defaultRate).toBeGreaterThan(0);
        expect(typeof d.hostApi).toBe('string');
        expect(typeof d.isDefault).toBe('boolean');
      }
      expect(devices.filter((d) => d.isDefault).length).toBeLessThanOrEqual(1);
    });

    const cases = formats.flatMap((format) => channelCounts.map((channels) => ({ format, channels })));
    it.each(cases)(
      'delivers $format x $channels ch chunks of the right byte length with increasing timestamps, and nothing after stop()',
      async ({ format, channels }) => {
        const source = await factory();
        const config = resolveAudioConfig({ format, channels, rate, chunk: 512 });
        const { chunks, errors, late } = await capture(source, config);
        expect(errors).toEqual([]);
        expect(late).toBe(0);
        expect(chunks.length).toBeGreaterThan(0);
        let prev = Number.NEGATIVE_INFINITY;
        for (const c of chunks) {
          expect(c.data).toBeInstanceOf(Uint8Array);
          expect(c.frames).toBeGreaterThan(0);
          expect(c.data.byteLength).toBe(c.frames * bytesPerFrame(format, channels));
          expect(Number.isFinite(c.time)).toBe(true);
          expect(c.time).toBeGreaterThan(prev);
          prev = c.time;
        }
        // consecutive chunks are one chunk apart on the timeline (5 ms slack), unless input was lost
        for (let i = 1; i < chunks.length; i++) {
          const a = chunks[i - 1]!;
          const b = chunks[i]!;
          if (b.overflow) continue;
          expect(Math.abs(b.time - a.time - (a.frames / rate) * 1000)).toBeLessThan(5);
        }
        // times are wall-clock times of now-ish
        expect(Math.abs(chunks[0]!.time - Date.now())).toBeLessThan(60_000);
      },
      timeout,
    );

    it(
      'rejects a second start() while capturing, and stays usable',
      async () => {
        const source = await factory();
        const config = resolveAudioConfig({ rate });
        await source.start(
          config,
          () => {},
          () => {},
        );
        try {
          await expect(
            source.start(
              config,
              () => {},
              () => {},
            ),
          ).rejects.toThrow(/start/);
        } finally {
          await source.stop();
        }
        const { chunks } = await capture(source, config);
        expect(chunks.length).toBeGreaterThan(0);
      },
      timeout,
    );

    it(
      'rejects invalid configs naming the value, opening nothing',
      async () => {
        const source = await factory();
        const base = resolveAudioConfig({ rate });
        const bad: [Partial<Record<keyof AudioConfig, unknown>>, RegExp][] = [
          [{ sampleFormat: 'int12' }, /int12.*int8, int16, int24, int32, float32/],
          [{ rate: 0 }, /rate.*0/],
          [{ channels: 0 }, /channels.*0/],
          [{ chunk: 0 }, /chunk.*0/],
          [{ inputDeviceIndex: 9999 }, /9999/],
        ];
        for (const [patch, message] of bad) {
          await expect(
            source.start(
              { ...base, ...patch } as AudioConfig,
              () => {},
              () => {},
            ),
          ).rejects.toThrow(message);
        }
        const { chunks } = await capture(source, base);
        expect(chunks.length).toBeGreaterThan(0);
      },
      timeout,
    );

    it('resolves stop() when idle', async () => {
      const source = await factory();
      await expect(source.stop()).resolves.toBeUndefined();
    });
  });
}
