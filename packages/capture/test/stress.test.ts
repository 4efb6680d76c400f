import { type CapturedChunk, resolveAudioConfig } from '@audex/pcm';
import { startVirtualMic, type VirtualMic } from '@audex/test-utils/virtual-mic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CaptureError, PortAudioSource } from '../src/index.js';

// Start/stop and device-loss loops on the real virtual microphone: every PortAudio call goes
// through @audex/naudiodon's one PortAudio thread, and a start() after a loss waits for the
// lost stream's close before it scans devices.
let mic: VirtualMic;
beforeAll(async () => {
  mic = await startVirtualMic();
});
afterAll(async () => {
  await mic?.stop();
});

const config = resolveAudioConfig({ sampleFormat: 'int16', channels: 1, rate: 16000, chunk: 320 });

describe('PortAudioSource under start/stop and device-loss loops', () => {
  it('12 start/stop cycles on one source, some stopped at once, each delivering contiguous chunks', async () => {
    const source = new PortAudioSource();
    for (let i = 0; i < 12; i++) {
      const chunks: CapturedChunk[] = [];
      const errors: Error[] = [];
      await source.start(
        config,
        (c) => chunks.push(c),
        (e) => errors.push(e),
      );
      if (i % 3 !== 0) await new Promise((r) => setTimeout(r, 150));
      await source.stop();
      expect(errors).toEqual([]);
      expect(source.status).toBe('idle');
      expect(source.overflowCount).toBe(0);
      for (let k = 1; k < chunks.length; k++) {
        const a = chunks[k - 1]!;
        expect(Math.abs(chunks[k]!.time - a.time - (a.frames / config.rate) * 1000)).toBeLessThan(5);
      }
      if (i % 3 !== 0) expect(chunks.length).toBeGreaterThan(0);
    }
  }, 120_000);

  it('4 times: the audio server is killed, DEVICE_LOST arrives, and stop() then start() from the error handler capture again', async () => {
    const source = new PortAudioSource({ stallTimeoutMs: 2000 });
    for (let i = 0; i < 4; i++) {
      const own = await startVirtualMic();
      try {
        const chunks: CapturedChunk[] = [];
        const lost = new Promise<CaptureError>((resolve) => {
          void source.start(
            config,
            (c) => chunks.push(c),
            (e) => resolve(e as CaptureError),
          );
        });
        while (source.status !== 'capturing') await new Promise((r) => setTimeout(r, 20));
        for (let k = 0; k < 100 && chunks.length < 2; k++) await new Promise((r) => setTimeout(r, 20));
        void own.kill(); // SIGKILL is sent before kill() first awaits; not taken for a crash
        const error = await lost;
        expect(error.code).toBe('DEVICE_LOST');
        expect(source.status).toBe('failed');
        // straight from the fault, with nothing awaited in between: the restart's device scan
        // waits for the lost stream's close
        Object.assign(process.env, mic.env);
        const again: CapturedChunk[] = [];
        await source.stop();
        await source.start(
          config,
          (c) => again.push(c),
          (e) => {
            throw e;
          },
        );
        await new Promise((r) => setTimeout(r, 200));
        await source.stop();
        expect(again.length).toBeGreaterThan(0);
        expect(source.status).toBe('idle');
      } finally {
        await own.stop();
        Object.assign(process.env, mic.env);
      }
    }
  }, 120_000);
});
