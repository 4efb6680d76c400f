// The demo's one live recording: starts and stops the recorder and fans levels and the live waveform
// out to the page's WebSocket clients.
import type { AudioSource, InputDevice } from '@audex/capture';
import { toFloat32 } from '@audex/pcm';
import { AudioRecorder, RecorderError, type StoreFormat } from '@audex/recorder';
import type { Store } from '@audex/store';
import { createSileroModel } from '@audex/vad-silero';
import type { WebSocket } from 'ws';
import { HttpError } from './http-error.js';

/** Shown whenever there is no input device to record from. */
export const NO_DEVICE_HINT =
  'No audio input device found. Connect a microphone; or, in a clone of the audex repository, start its virtual microphone with ' +
  '\'eval "$(node tooling/test-utils/bin/virtual-mic.mjs start)"\' in the shell that runs the demo, then restart it ' +
  '(play a file into the microphone with "node tooling/test-utils/bin/virtual-mic.mjs play FILE"), ' +
  'or restart the demo with AUDEX_SOURCE=synthetic for a built-in test tone.';

/** Columns of the live waveform per second of audio (one min/max pair per 10 ms). */
const WAVE_COLUMNS_PER_SECOND = 100;
/** Rate the live waveform is computed at: plenty for a 10 ms envelope, cheap to stream. */
const WAVE_RATE = 8000;

/** Messages pushed to every WebSocket client, as JSON. */
export type LiveMessage =
  | { type: 'state'; recording: boolean; key: string | null; startedAt: number | null; device: number | null }
  | { type: 'level'; peak: number; rms: number; lufs: number | null; elapsedMs: number }
  | { type: 'wave'; min: number[]; max: number[] }
  | { type: 'saved'; key: string; durationMs: number }
  | { type: 'error'; message: string };

/** The voice model of every recording (Silero v5; nothing loads until a recording starts). */
const sileroModel = createSileroModel();

/** Options of {@link LiveSession}. */
export interface LiveSessionOptions {
  /** Where recordings are saved. */
  store: Store;
  /** Creates the capture source (the microphone, or the synthetic tone). */
  createSource: () => AudioSource;
  /** Recorder journal directory; default the recorder's own. */
  spoolDir?: string;
  /** Format recordings are stored in; default `'wav'`. */
  storeFormat?: StoreFormat;
}

/**
 * The one recording the demo runs at a time: starts and stops an `AudioRecorder`, and fans its
 * level events and a live PCM stream (as a min/max envelope) out to WebSocket clients.
 */
export class LiveSession {
  readonly #options: LiveSessionOptions;
  readonly #clients = new Set<WebSocket>();
  #recorder: AudioRecorder | undefined;
  #key: string | null = null;
  #startedAt: number | null = null;
  #device: number | null = null;
  #busy: Promise<unknown> = Promise.resolve();
  #waveAbort: AbortController | undefined;

  constructor(options: LiveSessionOptions) {
    this.#options = options;
  }

  /** True while recording. */
  get recording(): boolean {
    return this.#recorder !== undefined;
  }

  /** The current state message. */
  state(): LiveMessage {
    return {
      type: 'state',
      recording: this.recording,
      key: this.#key,
      startedAt: this.#startedAt,
      device: this.#device,
    };
  }

  /** Input devices of the configured source. */
  async devices(): Promise<InputDevice[]> {
    return this.#options.createSource().listInputDevices();
  }

  /** Registers a WebSocket client; it gets the state at once and every message after. */
  addClient(socket: WebSocket): void {
    this.#clients.add(socket);
    socket.on('close', () => this.#clients.delete(socket));
    socket.on('error', () => this.#clients.delete(socket));
    socket.send(JSON.stringify(this.state()));
  }

  #broadcast(message: LiveMessage): void {
    const text = JSON.stringify(message);
    for (const client of this.#clients) {
      if (client.readyState === client.OPEN && client.bufferedAmount < 1 << 20) client.send(text);
    }
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(task, task);
    this.#busy = run.catch(() => {});
    return run;
  }

  /** Starts recording from `device` (null: the default input). 409 if already recording. */
  start(device: number | null): Promise<{ key: string }> {
    return this.#serial(async () => {
      if (this.#recorder) throw new HttpError(409, 'already recording; stop first');
      const source = this.#options.createSource();
      const devices = await source.listInputDevices();
      if (devices.length === 0) throw new HttpError(503, NO_DEVICE_HINT);
      if (device !== null && !devices.some((d) => d.index === device)) {
        throw new HttpError(
          400,
          `device ${device} is not an input device; available: ${devices.map((d) => `${d.index} (${d.name})`).join(', ')}`,
        );
      }
      const { spoolDir, storeFormat } = this.#options;
      const recorder = new AudioRecorder(
        this.#options.store,
        { inputDeviceIndex: device },
        // Voice activity on: speech regions go into each recording's metadata (shown on its waveform).
        // The demo depends on @audex/vad-silero and hands the model over (loaded at the first start()).
        {
          source,
          vad: { model: sileroModel },
          ...(spoolDir ? { spoolDir } : {}),
          ...(storeFormat ? { storeFormat } : {}),
        },
      );
      recorder.on('level', (level) => {
        const elapsedMs = this.#startedAt === null ? 0 : Date.now() - this.#startedAt;
        this.#broadcast({
          type: 'level',
          peak: Math.max(0, ...level.peak),
          rms: Math.max(0, ...level.rms),
          // Below the -70 LUFS absolute gate is silence for R128 (and digital silence reads about -270).
          lufs: level.momentaryLufs > -70 ? Math.round(level.momentaryLufs * 10) / 10 : null,
          elapsedMs,
        });
      });
      recorder.on('error', (error) => {
        this.#broadcast({ type: 'error', message: `capture failed: ${error.message}` });
        void this.stop().catch(() => {});
      });
      try {
        await recorder.init();
        this.#key = await recorder.start('web');
      } catch (error) {
        await recorder.close().catch(() => {});
        throw new HttpError(503, `could not start recording: ${(error as Error).message}`, { cause: error });
      }
      this.#recorder = recorder;
      this.#startedAt = Date.now();
      this.#device = device;
      this.#waveAbort = new AbortController();
      void this.#pumpWave(recorder, this.#waveAbort.signal);
      this.#broadcast(this.state());
      return { key: this.#key };
    });
  }

  async #pumpWave(recorder: AudioRecorder, signal: AbortSignal): Promise<void> {
    const perColumn = WAVE_RATE / WAVE_COLUMNS_PER_SECOND;
    let lo = 0;
    let hi = 0;
    let filled = 0;
    let min: number[] = [];
    let max: number[] = [];
    let lastSent = Date.now();
    try {
      for await (const chunk of recorder.stream({
        format: 'pcm',
        sampleFormat: 'float32',
        from: 'now',
        channels: 1,
        rate: WAVE_RATE,
        signal,
      })) {
        const samples = toFloat32(chunk, 'float32');
        for (let i = 0; i < samples.length; i += 1) {
          const v = samples[i]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
          filled += 1;
          if (filled === perColumn) {
            min.push(Math.round(lo * 1000) / 1000);
            max.push(Math.round(hi * 1000) / 1000);
            lo = 0;
            hi = 0;
            filled = 0;
          }
        }
        if (min.length > 0 && Date.now() - lastSent >= 50) {
          this.#broadcast({ type: 'wave', min, max });
          min = [];
          max = [];
          lastSent = Date.now();
        }
      }
    } catch (error) {
      if (!signal.aborted)
        this.#broadcast({ type: 'error', message: `live waveform stopped: ${(error as Error).message}` });
    }
  }

  /** Stops and saves the recording. 409 if not recording. */
  stop(): Promise<{ key: string; durationMs: number }> {
    return this.#serial(async () => {
      const recorder = this.#recorder;
      if (!recorder) throw new HttpError(409, 'not recording');
      try {
        const segment = await recorder.stop({ frames: false });
        this.#broadcast({ type: 'saved', key: segment.key, durationMs: segment.durationMs });
        return { key: segment.key, durationMs: segment.durationMs };
      } catch (error) {
        if (error instanceof RecorderError && error.code === 'UPLOAD_FAILED') {
          const message = `the recording could not be saved to the store (${error.message}); its audio is kept in ${recorder.spoolDir} and is saved when the next recording starts`;
          this.#broadcast({ type: 'error', message });
          throw new HttpError(503, message, { cause: error });
        }
        throw error;
      } finally {
        this.#waveAbort?.abort();
        this.#recorder = undefined;
        this.#key = null;
        this.#startedAt = null;
        await recorder.close().catch(() => {});
        this.#broadcast(this.state());
      }
    });
  }

  /** Stops (saving) any recording and disconnects clients. */
  async close(): Promise<void> {
    if (this.#recorder) await this.stop().catch(() => {});
    for (const client of this.#clients) client.close(1001, 'server shutting down');
    this.#clients.clear();
  }
}
