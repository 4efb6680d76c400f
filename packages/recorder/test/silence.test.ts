import { describe, expect, test } from 'vitest';
import type { SilenceEvent, SoundEvent } from '../src/index.js';
import { rigsPerTest, waitForFrames } from './helpers.js';

const rigs = rigsPerTest();
const RATE = 16_000;
const T0 = Date.UTC(2026, 0, 1);

/** 1 s of tone, 3 s of near-silence (-70 dBFS), 1 s of tone, 1.5 s of digital silence. */
function signal(frame: number): number {
  const t = frame / RATE;
  const tone = 0.3 * Math.sin(2 * Math.PI * 440 * t);
  if (t < 1) return tone;
  if (t < 4) return 0.0003 * Math.sin(2 * Math.PI * 440 * t);
  if (t < 5) return tone;
  return 0;
}

describe('silence warning', () => {
  test('silence after afterMs below the level (digital silence or not), sound when it ends; times on the capture clock', async () => {
    const { recorder } = rigs.make({
      config: { rate: RATE, chunk: 800 },
      source: { generate: signal, durationMs: 6500, startTime: T0 },
      recorder: { silence: { afterMs: 2000 } },
    });
    const events: (SilenceEvent | SoundEvent)[] = [];
    recorder.on('silence', (e) => events.push(e));
    recorder.on('sound', (e) => events.push(e));
    await recorder.init();
    await recorder.start();
    await waitForFrames(recorder, 6.5 * RATE);
    await recorder.stop();
    expect(events).toEqual([
      { since: T0 + 1000, durationMs: 2000 },
      { time: T0 + 4000, silentMs: 3000 },
    ]);
  });

  test('off with silence: false; a higher level catches a quiet input', async () => {
    const quiet = rigs.make({
      config: { rate: RATE, chunk: 800 },
      source: { generate: signal, durationMs: 6500, startTime: T0 },
      recorder: { silence: { afterMs: 500, belowDbfs: -6 } },
    });
    const off = rigs.make({
      config: { rate: RATE, chunk: 800 },
      source: { generate: signal, durationMs: 6500, startTime: T0 },
      recorder: { silence: false },
    });
    const seen: string[] = [];
    quiet.recorder.on('silence', () => seen.push('quiet'));
    off.recorder.on('silence', () => seen.push('off'));
    for (const { recorder } of [quiet, off]) {
      await recorder.init();
      await recorder.start();
      await waitForFrames(recorder, 6.5 * RATE);
      await recorder.stop();
    }
    // -6 dBFS is above the 0.3 tone (-10.5 dBFS): everything is "silent" from the first frame.
    expect(seen).toEqual(['quiet']);
  });
});
