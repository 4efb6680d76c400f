import type { AudioSource, InputDevice } from '@audex/capture';
import type { AudioConfig, CapturedChunk } from '@audex/pcm';

/**
 * An AudioSource the benchmark drives by hand: `push()` delivers one chunk synchronously, so a
 * measurement controls exactly when audio arrives. The payload is one preallocated chunk of a
 * tone (the buffer copies what it is given).
 */
export class PushSource implements AudioSource {
  #onChunk: ((chunk: CapturedChunk) => void) | undefined;
  #config: AudioConfig | undefined;
  #data: Uint8Array = new Uint8Array(0);
  #frames = 0;
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
    const samples = new Int16Array(config.chunk * config.channels);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin(i / 7));
    this.#data = new Uint8Array(samples.buffer);
  }

  /** Delivers `count` chunks at once; returns the frames delivered so far. */
  push(count = 1): number {
    const config = this.#config!;
    for (let i = 0; i < count; i++) {
      this.#onChunk!({
        data: this.#data,
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
