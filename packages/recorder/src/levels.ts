// Input levels of one captured chunk (peak and RMS per channel), for the recorder's level event.
import type { LevelEvent } from './types.js';

/** Peak and RMS per channel of one chunk of interleaved float samples (`frames` whole frames), full scale = 1. */
export function measureLevels(
  samples: Float32Array,
  channels: number,
  frames: number,
  time: number,
): Omit<LevelEvent, 'momentaryLufs'> {
  const peak = new Array<number>(channels).fill(0);
  const rms = new Array<number>(channels).fill(0);
  for (let c = 0; c < channels; c++) {
    let max = 0;
    let sum = 0;
    for (let i = c; i < samples.length; i += channels) {
      const s = samples[i]!;
      const a = s < 0 ? -s : s;
      if (a > max) max = a;
      sum += s * s;
    }
    peak[c] = max;
    rms[c] = frames > 0 ? Math.sqrt(sum / frames) : 0;
  }
  return { time, frames, peak, rms };
}
