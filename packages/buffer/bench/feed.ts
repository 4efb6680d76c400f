import type { FrameBuffer } from '../src/index.js';

/** 48 kHz stereo float32, as the benchmark asks. */
export const RATE = 48_000;
export const CHANNELS = 2;
export const BPF = 8;
/** Frames per appended chunk (100 ms). */
export const CHUNK = 4800;

/** One reusable chunk of a 440 Hz tone. */
export function toneChunk(): Uint8Array {
  const f = new Float32Array(CHUNK * CHANNELS);
  for (let i = 0; i < CHUNK; i++) f[2 * i] = f[2 * i + 1] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / RATE);
  return new Uint8Array(f.buffer);
}

/**
 * Appends `minutes` of audio as fast as possible. `yieldEvery` chunks the producer gives the event
 * loop a turn (0: never, the pure synchronous worst case).
 */
export async function feed(buffer: FrameBuffer, minutes: number, yieldEvery: number): Promise<void> {
  const data = toneChunk();
  const chunks = (minutes * 60 * RATE) / CHUNK;
  const t0 = 1_700_000_000_000;
  for (let i = 0; i < chunks; i++) {
    buffer.append({ data, frames: CHUNK, time: t0 + (i * CHUNK * 1000) / RATE });
    if (yieldEvery > 0 && i % yieldEvery === 0) await new Promise((r) => setImmediate(r));
  }
}
