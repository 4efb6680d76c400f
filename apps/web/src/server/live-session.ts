// The demo's one live recording: starts and stops the recorder and fans levels, the live waveform
// and the input's state (open with pre-roll, reconnecting, silent, the file of a rotation) out to the
// page's WebSocket clients. With pre-roll the recorder is kept initialised (the microphone open)
// while a page is connected, so a click starts recording at once, reaching back.
import type { AudioSource, InputDevice } from '@audex/capture';
import { toFloat32 } from '@audex/pcm';
import { AudioRecorder, type InputStatus, RecorderError, type StoreFormat } from '@audex/recorder';
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
/** The silence warning's default wait, as the recorder's. */
const DEFAULT_SILENCE_MS = 10_000;

/** Messages pushed to every WebSocket client, as JSON. */
export type LiveMessage =
  | {
      type: 'state';
      recording: boolean;
      key: string | null;
      startedAt: number | null;
      device: number | null;
      /** The input: closed, opening, open (with pre-roll also between recordings) or reconnecting. */
      input: InputStatus;
      /** Pre-roll in ms (0: the microphone opens at start). */
      preRollMs: number;
      /** File of the recording being written (rotation), from 1. */
      file: number;
      /** The input has been silent for `silenceMs` (while recording). */
      silent: boolean;
      /** How long the input must be silent before `silent`, in ms. */
      silenceMs: number;
      /** The last outage of this recording, in ms, once the input is back; null if none. */
      lastOutageMs: number | null;
    }
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
  /** Pre-roll in ms: the microphone stays open while a page is connected; default 0. */
  preRollMs?: number;
  /** A file per this much audio (rotation), in ms; default none. */
  rotateMs?: number;
  /** The silence warning after this many ms below -60 dBFS; default 10000. */
  silenceMs?: number;
}

/**
 * The one recording the demo runs at a time: starts and stops an `AudioRecorder`, and fans its
 * level events and a live PCM stream (as a min/max envelope) out to WebSocket clients.
 */
export class LiveSession {
  readonly #options: LiveSessionOptions;
  readonly #clients = new Set<WebSocket>();
  /** The recorder: recording, or (with pre-roll) initialised and waiting with the input open. */
  #recorder: AudioRecorder | undefined;
  /** The device the recorder was made for (null: the default input). */
  #recorderDevice: number | null = null;
  /** With the recorder made for the default input: that input's index when it was opened. */
  #armedDefault: number | null = null;
  #recording = false;
  #key: string | null = null;
  #startedAt: number | null = null;
  #device: number | null = null;
  #file = 1;
  #silent = false;
  #lastOutageMs: number | null = null;
  #busy: Promise<unknown> = Promise.resolve();
  #waveAbort: AbortController | undefined;

  constructor(options: LiveSessionOptions) {
    this.#options = options;
  }

  /** True while recording. */
  get recording(): boolean {
    return this.#recording;
  }

  /** The current state message. */
  state(): LiveMessage {
    return {
      type: 'state',
      recording: this.recording,
      key: this.#key,
      startedAt: this.#startedAt,
      device: this.#device,
      input: this.#recorder?.inputStatus ?? 'closed',
      preRollMs: this.#options.preRollMs ?? 0,
      file: this.#file,
      silent: this.#silent,
      silenceMs: this.#options.silenceMs ?? DEFAULT_SILENCE_MS,
      lastOutageMs: this.#lastOutageMs,
    };
  }

  /** Input devices of the configured source. */
  async devices(): Promise<InputDevice[]> {
    return this.#options.createSource().listInputDevices();
  }

  /**
   * Registers a WebSocket client; it gets the state at once and every message after. With pre-roll
   * the first client opens the microphone and the last one to leave closes it (when not recording).
   */
  addClient(socket: WebSocket): void {
    this.#clients.add(socket);
    const gone = () => {
      if (!this.#clients.delete(socket)) return;
      if (this.#clients.size === 0) this.#serial(() => this.#disarm()).catch(() => {});
    };
    socket.on('close', gone);
    socket.on('error', gone);
    socket.send(JSON.stringify(this.state()));
    if ((this.#options.preRollMs ?? 0) > 0) {
      // No device or a failed open: the page is told (its status line); recording can still be tried.
      this.#serial(() => this.#arm(null)).catch((error: Error) =>
        this.#broadcast({ type: 'error', message: error.message }),
      );
    }
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

  /** A recorder for `device`, initialised (with pre-roll, its input open); an idle one for another device is closed. */
  async #arm(device: number | null): Promise<AudioRecorder> {
    // The page asks for the device it shows selected, by index: the default input, armed as null, is it.
    if (this.#recorder && (this.#recorderDevice === device || this.#armedDefault === device)) {
      return this.#recorder;
    }
    await this.#disarm(true);
    const source = this.#options.createSource();
    const devices = await source.listInputDevices();
    if (devices.length === 0) throw new HttpError(503, NO_DEVICE_HINT);
    if (device !== null && !devices.some((d) => d.index === device)) {
      throw new HttpError(
        400,
        `device ${device} is not an input device; available: ${devices.map((d) => `${d.index} (${d.name})`).join(', ')}`,
      );
    }
    const recorder = this.#newRecorder(source, device);
    this.#recorder = recorder;
    this.#recorderDevice = device;
    this.#armedDefault = device === null ? (devices.find((d) => d.isDefault)?.index ?? null) : null;
    this.#broadcast(this.state());
    try {
      await recorder.init();
      // With pre-roll a click must start at once: load the voice model now, not at the first start().
      if ((this.#options.preRollMs ?? 0) > 0) await sileroModel.open().catch(() => {});
    } catch (error) {
      this.#recorder = undefined;
      await recorder.close().catch(() => {});
      this.#broadcast(this.state());
      throw new HttpError(503, `could not open the input: ${(error as Error).message}`, { cause: error });
    }
    this.#broadcast(this.state());
    return recorder;
  }

  /** Closes an idle recorder (the microphone): when no page is left, or before another device. */
  async #disarm(always = false): Promise<void> {
    const recorder = this.#recorder;
    if (!recorder || this.#recording || (!always && this.#clients.size > 0)) return;
    this.#recorder = undefined;
    await recorder.close().catch(() => {});
    this.#broadcast(this.state());
  }

  #newRecorder(source: AudioSource, device: number | null): AudioRecorder {
    const { spoolDir, storeFormat, preRollMs = 0, rotateMs, silenceMs = DEFAULT_SILENCE_MS } = this.#options;
    const recorder = new AudioRecorder(
      this.#options.store,
      { inputDeviceIndex: device },
      // Voice activity on: speech regions go into each recording's metadata (shown on its waveform).
      // The demo depends on @audex/vad-silero and hands the model over (loaded at the first start()).
      {
        source,
        vad: { model: sileroModel },
        // An unplugged microphone or a restarted audio server is re-opened; the outage is a gap.
        reconnect: {},
        silence: { afterMs: silenceMs },
        ...(preRollMs > 0 ? { preRollMs } : {}),
        ...(rotateMs !== undefined ? { rotate: { everyMs: rotateMs } } : {}),
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
    const changed = () => this.#broadcast(this.state());
    recorder.on('deviceLost', changed);
    recorder.on('deviceRestored', ({ gapMs }) => {
      if (this.#recording) this.#lastOutageMs = gapMs;
      changed();
    });
    recorder.on('rotated', ({ key, sequence }) => {
      this.#file = sequence + 1;
      this.#key = key;
      changed();
    });
    recorder.on('silence', () => {
      this.#silent = true;
      changed();
    });
    recorder.on('sound', () => {
      this.#silent = false;
      changed();
    });
    recorder.on('stored', ({ key, metadata }) => {
      // A rotated file stored while recording goes on (stop() reports the last one).
      if (recorder.status === 'recording')
        this.#broadcast({ type: 'saved', key, durationMs: metadata.duration_ms });
    });
    recorder.on('error', (error) => {
      if (error.code !== 'SOURCE_FAILED') {
        this.#broadcast({ type: 'error', message: error.message });
        return;
      }
      this.#broadcast({ type: 'error', message: `capture failed: ${error.message}` });
      if (this.#recording) void this.stop().catch(() => {});
      else this.#serial(() => this.#disarm(true)).catch(() => {});
    });
    return recorder;
  }

  /** Starts recording from `device` (null: the default input). 409 if already recording. */
  start(device: number | null): Promise<{ key: string }> {
    return this.#serial(async () => {
      if (this.#recording) throw new HttpError(409, 'already recording; stop first');
      const recorder = await this.#arm(device);
      try {
        this.#key = await recorder.start('web');
      } catch (error) {
        this.#recorder = undefined;
        await recorder.close().catch(() => {});
        throw new HttpError(503, `could not start recording: ${(error as Error).message}`, { cause: error });
      }
      this.#recording = true;
      this.#startedAt = Date.now();
      this.#device = device;
      this.#file = 1;
      this.#silent = false;
      this.#lastOutageMs = null;
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

  /**
   * Stops and saves the recording (with rotation, the last file; the others were saved as they
   * closed). With pre-roll the microphone stays open for the next one while a page is connected.
   * 409 if not recording.
   */
  stop(): Promise<{ key: string; durationMs: number }> {
    return this.#serial(async () => {
      const recorder = this.#recorder;
      if (!recorder || !this.#recording) throw new HttpError(409, 'not recording');
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
        this.#recording = false;
        this.#key = null;
        this.#startedAt = null;
        this.#silent = false;
        if (
          (this.#options.preRollMs ?? 0) === 0 ||
          this.#clients.size === 0 ||
          recorder.inputStatus === 'closed'
        ) {
          this.#recorder = undefined;
          await recorder.close().catch(() => {});
        }
        this.#broadcast(this.state());
      }
    });
  }

  /** Stops (saving) any recording, closes the microphone and disconnects clients. */
  async close(): Promise<void> {
    if (this.#recording) await this.stop().catch(() => {});
    for (const client of this.#clients) client.close(1001, 'server shutting down');
    this.#clients.clear();
    await this.#serial(() => this.#disarm(true));
  }
}
