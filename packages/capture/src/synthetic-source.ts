// Owns SyntheticSource: the AudioSource that generates test signals in any shape, in real time or
// faster, with simulated overflows, device loss and stalls.
import { EventEmitter } from 'node:events';
import { type AudioConfig, type CapturedChunk, fromFloat32 } from '@audex/pcm';
import { resolveCaptureConfig } from './config.js';
import { CaptureError } from './errors.js';
import type { AudioSource, CaptureEvents, CaptureStatus, InputDevice } from './types.js';

/** Options of {@link SyntheticSource}. */
export interface SyntheticSourceOptions {
  /**
   * The signal: sample value in [-1, 1] of `channel` at absolute `frame` (frame 0 = start, dropped
   * frames still count). Default: a 440 Hz sine at amplitude 0.5 on every channel.
   */
  generate?: (frame: number, channel: number, rate: number) => number;
  /** Stop delivering after this much audio, in ms (a last partial chunk included); then nothing more arrives. Default: unlimited. */
  durationMs?: number;
  /**
   * Pace relative to real time: `1` (default) delivers each chunk when its last frame would have
   * been captured; `2` twice as fast; `0` as fast as possible, yielding to the event loop with
   * `setImmediate` between chunks.
   */
  speed?: number;
  /** Wall-clock time of frame 0, in ms since the Unix epoch. Default: `Date.now()` when `start()` is called. */
  startTime?: number;
  /**
   * Simulated lost input: at each of these frame positions, `dropFrames` frames are skipped (they
   * never arrive, timestamps jump over them) and the next chunk is marked `overflow: true`.
   */
  dropAfterFrames?: number[];
  /** Frames skipped at each `dropAfterFrames` position. Default: one chunk (`config.chunk`). */
  dropFrames?: number;
  /**
   * Simulated device loss: after this much delivered audio (in ms of audio, i.e. wall time at
   * `speed` 1), `onError` receives a `CaptureError` with code `DEVICE_LOST` and delivery ends.
   */
  failAfterMs?: number;
  /**
   * Simulated stall (a hung driver or audio server): after this much delivered audio, in ms, no
   * chunk arrives any more and no error is reported either; the source stays `capturing` until
   * `stop()`. What a watchdog has to catch.
   */
  stallAfterMs?: number;
  /**
   * How many `start()`s get the simulated faults (`dropAfterFrames`, `failAfterMs`,
   * `stallAfterMs`); later ones run clean, like a device that came back. Default: every start.
   */
  faultyStarts?: number;
}

const TICK_MS = 10;

/** The one device a {@link SyntheticSource} lists. */
export const SYNTHETIC_DEVICE: Readonly<InputDevice> = Object.freeze({
  index: 0,
  name: 'audex synthetic input',
  channels: 64,
  defaultRate: 48_000,
  hostApi: 'synthetic',
  isDefault: true,
});

/**
 * An {@link AudioSource} that generates a signal instead of recording one: deterministic audio
 * in any sample format, channel count, rate and chunk size, in real time or faster, with optional
 * simulated overflows and device loss. The reference implementation of the contract, for tests.
 */
export class SyntheticSource extends EventEmitter<CaptureEvents> implements AudioSource {
  readonly #options: Readonly<SyntheticSourceOptions>;
  #status: CaptureStatus = 'idle';
  #overflows = 0;
  #starts = 0;
  #run: { cancelled: boolean; timer: NodeJS.Timeout | NodeJS.Immediate | undefined } | undefined;

  /** @param options signal, pace and simulated faults; see {@link SyntheticSourceOptions}. */
  constructor(options: SyntheticSourceOptions = {}) {
    super();
    if (options.speed !== undefined && !(options.speed >= 0 && Number.isFinite(options.speed))) {
      throw new CaptureError('INVALID_CONFIG', `speed must be a finite number >= 0, got ${options.speed}`, {
        field: 'speed',
      });
    }
    this.#options = Object.freeze({ ...options });
  }

  /** The current lifecycle status. */
  get status(): CaptureStatus {
    return this.#status;
  }

  /** How many chunks were marked `overflow` since the last `start()`. */
  get overflowCount(): number {
    return this.#overflows;
  }

  /** Lists the single synthetic device (index 0, default, up to 64 channels). */
  async listInputDevices(): Promise<InputDevice[]> {
    return [{ ...SYNTHETIC_DEVICE }];
  }

  /**
   * Starts generating. Resolves at once; chunks then arrive at the configured pace.
   *
   * @throws {CaptureError} `INVALID_STATE` when not idle; `INVALID_CONFIG`/`DEVICE_NOT_FOUND` for a bad config.
   */
  async start(
    config: AudioConfig,
    onChunk: (chunk: CapturedChunk) => void,
    onError: (error: Error) => void,
  ): Promise<void> {
    if (this.#status !== 'idle') {
      throw new CaptureError('INVALID_STATE', `start() called while ${this.#status}; call stop() first`);
    }
    const { config: cfg } = resolveCaptureConfig(config, [SYNTHETIC_DEVICE]);
    this.#setStatus('starting');
    this.#overflows = 0;
    this.#starts++;
    const faulty = this.#starts <= (this.#options.faultyStarts ?? Number.POSITIVE_INFINITY);
    const o = faulty
      ? this.#options
      : { ...this.#options, dropAfterFrames: [], failAfterMs: undefined, stallAfterMs: undefined };
    const { rate, channels, chunk, sampleFormat: format } = cfg;
    const generate =
      o.generate ??
      ((frame: number, _c: number, r: number) => 0.5 * Math.sin((2 * Math.PI * 440 * frame) / r));
    const speed = o.speed ?? 1;
    const startTime = o.startTime ?? Date.now();
    const endFrame =
      o.durationMs === undefined ? Number.POSITIVE_INFINITY : Math.round((o.durationMs * rate) / 1000);
    const failFrame =
      o.failAfterMs === undefined ? Number.POSITIVE_INFINITY : Math.round((o.failAfterMs * rate) / 1000);
    const stallFrame =
      o.stallAfterMs === undefined ? Number.POSITIVE_INFINITY : Math.round((o.stallAfterMs * rate) / 1000);
    const drops = [...(o.dropAfterFrames ?? [])].sort((a, b) => a - b);
    const dropFrames = o.dropFrames ?? chunk;
    const samples = new Float32Array(chunk * channels);
    const run: { cancelled: boolean; timer: NodeJS.Timeout | NodeJS.Immediate | undefined } = {
      cancelled: false,
      timer: undefined,
    };
    this.#run = run;
    let position = 0; // next frame to generate, on the source's own clock
    let delivered = 0; // frames handed out (position minus dropped), paces real-time delivery
    let pendingOverflow = false;
    const t0 = performance.now();

    // Produces the next chunk; returns false when the run has ended.
    const step = (): boolean => {
      if (position >= failFrame) {
        run.cancelled = true;
        this.#setStatus(
          'failed',
          new CaptureError('DEVICE_LOST', 'synthetic device lost (failAfterMs reached)'),
        );
        onError(
          new CaptureError(
            'DEVICE_LOST',
            `synthetic input device 0 vanished after ${o.failAfterMs} ms of audio`,
            { deviceIndex: 0 },
          ),
        );
        return false;
      }
      while (drops.length > 0 && drops[0]! <= position) {
        drops.shift();
        position += dropFrames;
        pendingOverflow = true;
      }
      const frames = Math.min(chunk, endFrame - position, failFrame - position, stallFrame - position);
      if (frames <= 0) {
        if (position >= failFrame) return step();
        // Ended, or stalled: nothing more, and (stalled) no word about it either.
        run.cancelled = true;
        return false;
      }
      const view = frames === chunk ? samples : samples.subarray(0, frames * channels);
      for (let f = 0; f < frames; f++) {
        for (let c = 0; c < channels; c++) view[f * channels + c] = generate(position + f, c, rate);
      }
      const out: CapturedChunk = {
        data: fromFloat32(view, format),
        frames,
        time: startTime + (position / rate) * 1000,
      };
      if (pendingOverflow) {
        out.overflow = true;
        pendingOverflow = false;
        this.#overflows++;
      }
      position += frames;
      delivered += frames;
      onChunk(out);
      return true;
    };

    const pump = (): void => {
      if (run.cancelled) return;
      if (speed === 0) {
        if (step()) run.timer = setImmediate(pump);
        return;
      }
      const due = ((performance.now() - t0) * speed * rate) / 1000;
      while (!run.cancelled && delivered + chunk <= due + 1e-6) {
        if (!step()) return;
      }
      // A final partial chunk is due once its last frame is.
      const last = Math.min(endFrame, failFrame, stallFrame);
      if (!run.cancelled && last - position < chunk && delivered + last - position <= due) {
        if (!step()) return;
      }
      if (!run.cancelled) run.timer = setTimeout(pump, Math.min(TICK_MS, (chunk / rate / speed) * 1000));
    };
    this.#setStatus('capturing');
    run.timer =
      speed === 0 ? setImmediate(pump) : setTimeout(pump, Math.min(TICK_MS, (chunk / rate / speed) * 1000));
  }

  /** Stops generating; resolves at once, also when idle or after a simulated fault. */
  async stop(): Promise<void> {
    const run = this.#run;
    this.#run = undefined;
    if (run) {
      run.cancelled = true;
      if (run.timer !== undefined) {
        clearTimeout(run.timer as NodeJS.Timeout);
        clearImmediate(run.timer as NodeJS.Immediate);
      }
    }
    if (this.#status === 'idle') return;
    if (this.#status !== 'failed') this.#setStatus('stopping');
    this.#setStatus('idle');
  }

  #setStatus(to: CaptureStatus, error?: Error): void {
    const from = this.#status;
    if (from === to) return;
    this.#status = to;
    this.emit('stateChange', error ? { from, to, error } : { from, to });
  }
}
