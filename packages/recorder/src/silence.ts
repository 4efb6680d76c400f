// The recorder's silence warning: watches the captured chunks of a recording for a dead or muted
// input (digital silence, or a peak below a level) and reports `silence` once it has lasted the
// configured time and `sound` when it ends. Time is counted in audio (frames), so gaps from a lost
// device never count as silence (the device events cover those).
import { type SampleFormat, toFloat32 } from '@audex/pcm';
import type { Reporter } from './report.js';

/** Highest absolute sample of a chunk, full scale = 1. */
export function peakOf(data: Uint8Array, sampleFormat: SampleFormat): number {
  if (sampleFormat === 'int16' && data.byteOffset % 2 === 0) {
    const samples = new Int16Array(data.buffer, data.byteOffset, data.byteLength >> 1);
    let max = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      const a = s < 0 ? -s : s;
      if (a > max) max = a;
    }
    return max / 32768;
  }
  const samples = toFloat32(data, sampleFormat);
  let max = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const a = s < 0 ? -s : s;
    if (a > max) max = a;
  }
  return max;
}

/** Watches one recording's input level. */
export class SilenceWatch {
  readonly #threshold: number;
  readonly #afterFrames: number;
  readonly #rate: number;
  readonly #sampleFormat: SampleFormat;
  readonly #report: Reporter;
  /** Capture time of the first silent frame of the current silent run, or null while there is sound. */
  #since: number | null = null;
  #silentFrames = 0;
  #reported = false;

  constructor(
    settings: { afterMs: number; belowDbfs: number },
    shape: { rate: number; sampleFormat: SampleFormat },
    report: Reporter,
  ) {
    this.#threshold = 10 ** (settings.belowDbfs / 20);
    this.#afterFrames = Math.ceil((settings.afterMs * shape.rate) / 1000);
    this.#rate = shape.rate;
    this.#sampleFormat = shape.sampleFormat;
    this.#report = report;
  }

  /** True while a reported silence lasts. */
  get silent(): boolean {
    return this.#reported;
  }

  /** Looks at one captured chunk (its capture time, frames and samples). */
  write(data: Uint8Array, frames: number, time: number): void {
    if (frames === 0) return;
    if (peakOf(data, this.#sampleFormat) < this.#threshold) {
      this.#since ??= time;
      this.#silentFrames += frames;
      if (!this.#reported && this.#silentFrames >= this.#afterFrames) {
        this.#reported = true;
        this.#report.emit('silence', { since: this.#since, durationMs: this.#ms(this.#silentFrames) });
      }
      return;
    }
    if (this.#reported) {
      this.#report.emit('sound', { time, silentMs: this.#ms(this.#silentFrames) });
    }
    this.#since = null;
    this.#silentFrames = 0;
    this.#reported = false;
  }

  #ms(frames: number): number {
    return (frames / this.#rate) * 1000;
  }
}
