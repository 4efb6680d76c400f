// Owns PortAudioSource: the AudioSource on the microphone through @audex/naudiodon (device
// listing, the lifecycle status and its events); one CaptureSession does each capture.
import { EventEmitter } from 'node:events';
import { listDevices } from '@audex/naudiodon';
import type { AudioConfigInput, CapturedChunk } from '@audex/pcm';
import { CaptureSession } from './capture-session.js';
import { resolveCaptureConfig } from './config.js';
import { CaptureError } from './errors.js';
import type { AudioSource, CaptureEvents, CaptureStatus, InputDevice } from './types.js';

/** Options of {@link PortAudioSource}. */
export interface PortAudioSourceOptions {
  /** How long `start()` waits for the first audio before failing with `START_TIMEOUT`, in ms. Default 5000. */
  startTimeoutMs?: number;
  /** No new audio for this long while capturing means the device is gone (`DEVICE_LOST`), in ms. Default 3000. */
  stallTimeoutMs?: number;
  /** Latency to ask PortAudio for, in ms. Default: the device's default high input latency (safe, not minimal). */
  suggestedLatencyMs?: number;
  /** Capacity of the native input ring, in seconds of audio: how long JavaScript may stall without loss. Default 10. */
  bufferSeconds?: number;
}

/**
 * The default {@link AudioSource}: microphone input through PortAudio (`@audex/naudiodon`, whose
 * audio callback never allocates or blocks and wakes JavaScript once a chunk is ready). Chunks
 * carry sample-clock timestamps anchored to the wall clock; lost input is marked `overflow` and
 * counted; a vanished device ends the capture with a `DEVICE_LOST` error. Observable: `status`
 * and one `stateChange` event.
 */
export class PortAudioSource extends EventEmitter<CaptureEvents> implements AudioSource {
  readonly #options: Required<Omit<PortAudioSourceOptions, 'suggestedLatencyMs'>> & {
    suggestedLatencyMs: number;
  };
  #status: CaptureStatus = 'idle';
  #session: CaptureSession | undefined;
  /** The previous session's close: a new start() waits for it before scanning devices. */
  #closing: Promise<void> = Promise.resolve();
  #overflows = 0;
  #claimed = false;
  #startLatency = Number.NaN;

  /** @param options timeouts, latency and buffering; see {@link PortAudioSourceOptions}. */
  constructor(options: PortAudioSourceOptions = {}) {
    super();
    this.#options = {
      startTimeoutMs: options.startTimeoutMs ?? 5000,
      stallTimeoutMs: options.stallTimeoutMs ?? 3000,
      bufferSeconds: options.bufferSeconds ?? 10,
      suggestedLatencyMs: options.suggestedLatencyMs ?? 0,
    };
  }

  /** The current lifecycle status. */
  get status(): CaptureStatus {
    return this.#status;
  }

  /** Chunks marked `overflow` (lost input) since the last `start()`. */
  get overflowCount(): number {
    return this.#session?.overflowChunks ?? this.#overflows;
  }

  /** Milliseconds the last successful `start()` took from opening the stream to resolving: the audio system's start-up plus the ~120 ms clock warm-up (NaN before any). */
  get startLatencyMs(): number {
    return this.#startLatency;
  }

  /**
   * Every PortAudio input device, with its host API and whether it is the default input.
   * PortAudio enumerates afresh when no stream is open, so set `PULSE_SERVER` etc. before calling.
   * Waits for this source's previous stream to finish closing.
   */
  async listInputDevices(): Promise<InputDevice[]> {
    await this.#closing;
    const { devices } = await listDevices();
    return devices
      .filter((d) => d.maxInputChannels > 0)
      .map((d) => ({
        index: d.id,
        name: d.name,
        channels: d.maxInputChannels,
        defaultRate: d.defaultSampleRate,
        hostApi: d.hostApi,
        isDefault: d.isDefaultInput,
      }));
  }

  /**
   * Opens the input and resolves once audio is really flowing (callbacks deliver data; a ~120 ms
   * warm-up fixes the sample clock's anchor). Audio starts with the frame the sample clock puts at
   * the instant it resolves: anything captured before is dropped.
   *
   * @throws {CaptureError} `INVALID_STATE` when not idle; `INVALID_CONFIG`/`DEVICE_NOT_FOUND` for a
   * bad config (listing the available inputs); `OPEN_FAILED` when PortAudio refuses the stream;
   * `START_TIMEOUT` when no audio arrives within `startTimeoutMs`. Nothing stays open after a throw.
   */
  async start(
    config: AudioConfigInput,
    onChunk: (chunk: CapturedChunk) => void,
    onError: (error: Error) => void,
  ): Promise<void> {
    if (this.#status !== 'idle' || this.#claimed) {
      throw new CaptureError(
        'INVALID_STATE',
        `start() called while ${this.#claimed ? 'starting' : this.#status}; call stop() first`,
      );
    }
    this.#claimed = true; // until the status says so: a second start() during the device scan fails
    try {
      const { config: cfg, device } = resolveCaptureConfig(config, await this.listInputDevices());
      this.#setStatus('starting');
      this.#overflows = 0;
      const t0 = performance.now();
      const session: CaptureSession = await CaptureSession.open(
        {
          device,
          rate: cfg.rate,
          channels: cfg.channels,
          chunk: cfg.chunk,
          sampleFormat: cfg.sampleFormat,
          startTimeoutMs: this.#options.startTimeoutMs,
          stallTimeoutMs: this.#options.stallTimeoutMs,
          ringFrames: Math.ceil(cfg.rate * this.#options.bufferSeconds),
          suggestedLatencyMs: this.#options.suggestedLatencyMs,
        },
        {
          chunk: onChunk,
          fault: (error) => {
            if (this.#session !== session) return;
            this.#closing = session.close();
            this.#setStatus('failed', error);
            onError(error);
          },
        },
      );
      this.#startLatency = performance.now() - t0;
      this.#session = session;
      this.#setStatus('capturing');
    } catch (error) {
      this.#setStatus('idle');
      throw error;
    } finally {
      this.#claimed = false;
    }
  }

  /**
   * Stops capturing: delivers every frame captured up to the instant `stop()` is called, by the
   * sample clock (waiting at most 300 ms for them to come through the input latency; a last partial
   * chunk included) and nothing after, closes the stream and resolves. Resolves also when idle, and
   * after a fault (even with the audio server gone).
   */
  async stop(): Promise<void> {
    const stopAt = Date.now();
    const session = this.#session;
    if (!session) {
      if (this.#status === 'failed') this.#setStatus('idle');
      return;
    }
    if (this.#status === 'capturing') this.#setStatus('stopping');
    this.#closing = session.stop(stopAt);
    await this.#closing;
    this.#overflows = session.overflowChunks;
    this.#session = undefined;
    this.#setStatus('idle');
  }

  #setStatus(to: CaptureStatus, error?: Error): void {
    const from = this.#status;
    if (from === to) return;
    this.#status = to;
    this.emit('stateChange', error ? { from, to, error } : { from, to });
  }
}
