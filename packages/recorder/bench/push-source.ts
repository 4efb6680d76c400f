// A hand-driven AudioSource for the recorder benchmarks: push() delivers chunks synchronously.
import type { AudioSource, InputDevice } from '@audex/capture';
import { type AudioConfig, type CapturedChunk, fromFloat32 } from '@audex/pcm';

/** Distinct chunk buffers cycled through, as a capture delivers fresh memory (none allocated per push). */
const POOL = 16;

/**
 * An AudioSource the benchmark drives by hand: `push()` delivers chunks synchronously, so a
 * measurement controls exactly when audio arrives. Payloads are a tone in the config's sample
 * format, prepared once in a small pool of distinct buffers (the buffer copies what it is given).
 */
export class PushSource implements AudioSource {
  #onChunk: ((chunk: CapturedChunk) => void) | undefined;
  #config: AudioConfig | undefined;
  #pool: Uint8Array[] = [];
  #frames = 0;
  #pushed = 0;
  readonly startTime: number;

  constructor(startTime = Date.UTC(2026, 0, 1)) {
    this.startTime = startTime;
  }

  async listInputDevices(): Promise<InputDevice[]> {
    return [
      {
        index: 0,
        name: 'bench push source',
        channels: 2,
        defaultRate: 48_000,
        hostApi: 'bench',
        isDefault: true,
      },
    ];
  }

  async start(config: AudioConfig, onChunk: (chunk: CapturedChunk) => void): Promise<void> {
    this.#config = config;
    this.#onChunk = onChunk;
    this.#frames = 0;
    this.#pool = Array.from({ length: POOL }, (_, p) => {
      const samples = new Float32Array(config.chunk * config.channels);
      for (let i = 0; i < samples.length; i++) samples[i] = 0.25 * Math.sin((p * samples.length + i) / 7);
      return fromFloat32(samples, config.sampleFormat);
    });
  }

  /** Delivers `count` chunks at once; returns the frames delivered so far. */
  push(count = 1): number {
    const config = this.#config!;
    for (let i = 0; i < count; i++) {
      this.#onChunk!({
        data: this.#pool[this.#pushed++ % POOL]!,
        frames: config.chunk,
        time: this.startTime + (this.#frames / config.rate) * 1000,
      });
      this.#frames += config.chunk;
    }
    return this.#frames;
  }

  async stop(): Promise<void> {
    this.#onChunk = undefined;
  }
}
