// The recorder's public face and lifecycle: the AudioRecorder class, its status machine, call-order
// rules and events. Each call hands its work to a room: options.ts (validation), input.ts (the
// source, kept alive and re-opened), pre-roll.ts (the Feed: pre-roll ring and exact cuts),
// recording.ts (one recording: its files, rotation, the outage on the timeline), output.ts
// (stream/segment), upload.ts (the stored file, retries) and recovery.ts (the spool and crash
// recovery). See ARCHITECTURE.md at the repository root.
import { randomUUID } from 'node:crypto';
import type { InputDevice } from '@audex/capture';
import type { AudioConfig, AudioConfigInput } from '@audex/pcm';
import type { Store } from '@audex/store';
import { describeValue, RecorderError } from './errors.js';
import { LiveInput } from './input.js';
import { type RecorderSettings, resolveSettings } from './options.js';
import { cutSegment, openStream } from './output.js';
import { Recording } from './recording.js';
import { Spool } from './recovery.js';
import type { Reporter } from './report.js';
import { TypedEmitter } from './typed-emitter.js';
import type {
  AudioRecorderOptions,
  AudioSegment,
  InputStatus,
  RecorderEvents,
  RecorderStatus,
  RecorderWarning,
  RecoveredRecording,
  SegmentOptions,
  StopOptions,
  StreamOptions,
} from './types.js';
import { Uploader } from './upload.js';

/** `stop()` options: whether to return the PCM (`returnPcm`, or the reference's `frames`). */
function resolveReturnPcm(options: StopOptions): boolean {
  if (options === null || typeof options !== 'object') {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `stop options must be an object, got ${describeValue(options)}`,
    );
  }
  const { returnPcm, frames } = options;
  for (const [field, value] of [
    ['returnPcm', returnPcm],
    ['frames', frames],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean') {
      throw new RecorderError('INVALID_OPTIONS', `${field} must be a boolean, got ${describeValue(value)}`, {
        field,
      });
    }
  }
  if (returnPcm !== undefined && frames !== undefined && returnPcm !== frames) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `returnPcm (${returnPcm}) and its alias frames (${frames}) disagree; give one of them`,
      { field: 'returnPcm' },
    );
  }
  return returnPcm ?? frames ?? true;
}

/**
 * Records audio from an `AudioSource` (from `@audex/capture`) onto a sample-accurate, crash-safe timeline; streams
 * it encoded while recording; cuts time ranges; and saves each recording as a WAV (or FLAC: option
 * `storeFormat`) to a `Store`.
 * The TypeScript form of the reference `AudioRecorder`.
 *
 * ```ts
 * await using recorder = new AudioRecorder(new LocalStore({ root: './recordings' }));
 * await recorder.init();
 * const key = await recorder.start('session-1');
 * // … later
 * const saved = await recorder.stop({ frames: false });
 * ```
 *
 * Status: `'idle'` → `init()` → `'initialized'` ⇄ (`start()` → `'recording'` → `stop()` →
 * `'stopping'`) → `close()` → `'closed'`; each transition emits `stateChange`; wait for one with
 * `entersState(recorder, status, timeoutMs)`.
 */
export class AudioRecorder extends TypedEmitter<RecorderEvents> implements AsyncDisposable {
  /** Where recordings are saved. */
  readonly store: Store;
  /** The validated capture config (defaults merged). */
  readonly config: Readonly<AudioConfig>;
  readonly #settings: RecorderSettings;
  readonly #report: Reporter;
  readonly #spool: Spool;
  readonly #input: LiveInput;
  #status: RecorderStatus = 'idle';
  /** The current or last recording (segment() reads it) until the next start() or clearFrames(). */
  #current: Recording | undefined;
  /** Serialises init/start/stop/clearFrames/recover/close so call order is well defined. */
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * @param store - where recordings are uploaded; any object implementing `Store`.
   * @param config - capture config, merged with the defaults (int16, mono, 16 kHz, 1024-frame chunks,
   *   default device).
   * @param options - source, spool directory, logger, memory bound, retries; see {@link AudioRecorderOptions}.
   * @throws {RecorderError} `INVALID_CONFIG` for a bad config (its `cause` is the `PcmError`),
   *   `INVALID_OPTIONS` for a bad store or option. Nothing is opened.
   */
  constructor(store: Store, config: AudioConfigInput = {}, options: AudioRecorderOptions = {}) {
    const settings = resolveSettings(store, config, options);
    super((error, event) =>
      settings.logger.error({ err: error, event }, 'audex recorder event listener threw'),
    );
    this.#settings = settings;
    this.store = settings.store;
    this.config = settings.config;
    this.#report = {
      emit: (event, ...args) => this.emit(event, ...args),
      listens: (event) => this.listenerCount(event) > 0,
      warn: (warning) => this.#warn(warning),
      logger: settings.logger,
    };
    const uploader = new Uploader(
      settings.store,
      { retries: settings.uploadRetries, retryDelayMs: settings.retryDelayMs },
      this.#report,
    );
    this.#spool = new Spool(settings, uploader, this.#report);
    this.#input = new LiveInput(settings, this.#report, {
      lost: (event) => this.emit('deviceLost', event),
      away: () => this.#recordingNow()?.inputLost(),
      reopened: () => this.#recordingNow()?.inputBack(),
      restored: (event) => {
        this.#recordingNow()?.inputBack();
        this.emit('deviceRestored', event);
      },
      ended: (why, cause) => {
        const recording = this.#recordingNow();
        if (recording) recording.inputEnded(why, cause);
        else {
          this.emit(
            'error',
            new RecorderError('SOURCE_FAILED', `${why}; the next start() opens the input again`, { cause }),
          );
        }
      },
    });
  }

  /** Where the recorder is in its life; see {@link RecorderStatus}. */
  get status(): RecorderStatus {
    return this.#status;
  }

  /**
   * True while audio is being captured: after `start()` and until `stop()`, or until the source
   * fails (the device vanished); then `status` stays `'recording'` until `stop()` saves the audio.
   */
  get isRecording(): boolean {
    return this.#status === 'recording' && this.#current?.capturing === true;
  }

  /**
   * Key of the current recording (from `start()`; with `rotate`, of the file being recorded), or of
   * the last one until the next `start()` or `clearFrames()`; `null` when there is none.
   */
  get currentSegmentKey(): string | null {
    return this.#current?.current.key ?? null;
  }

  /**
   * Frames on the timeline of the current (or last) recording so far, gaps included (with
   * `rotate`, over all its files); 0 when there is none. Divide by `config.rate` for seconds.
   */
  get frameCount(): number {
    return this.#current?.frameCount ?? 0;
  }

  /**
   * Where the input is: `'closed'`, `'opening'`, `'open'` (audio flows; with `preRollMs` also
   * between recordings) or `'reconnecting'` (the device was lost and is being re-opened).
   */
  get inputStatus(): InputStatus {
    return this.#input.status;
  }

  /** Absolute spool directory (journals of unfinished recordings live under it). */
  get spoolDir(): string {
    return this.#spool.dir;
  }

  /**
   * Prepares the spool and, unless `recoverOnInit` is `false`, recovers recordings left
   * unfinished by a crash (or a failed upload) and uploads them (in the format each was recorded
   * for: WAV or FLAC) with `recovered: true` in
   * their metadata. Recovery failures become `'warning'` events; the journals stay for a later try.
   * Calling it again when initialized does nothing and returns `[]`.
   *
   * With `preRollMs`, it then opens the input (resolving once audio flows) and keeps it open until
   * `close()`.
   *
   * @returns what was recovered (also emitted as `'recovered'` events).
   * @throws {RecorderError} `CLOSED`; `INVALID_CONFIG` when `inputDeviceIndex` names no input device
   *   of the source; `SOURCE_FAILED` when the source cannot list its devices (or, with
   *   `preRollMs`, cannot be opened: the recorder stays idle).
   */
  init(): Promise<RecoveredRecording[]> {
    return this.#serial(async () => {
      this.#assertNotClosed('init');
      if (this.#status !== 'idle') return [];
      if (this.config.inputDeviceIndex !== null) await this.#input.checkDevice(this.config.inputDeviceIndex);
      const recovered = this.#settings.recoverOnInit ? await this.#spool.recover(this.#current) : [];
      if (this.#settings.preRollMs > 0) await this.#input.open();
      this.#setStatus('initialized');
      return recovered;
    });
  }

  /**
   * Saves every recording that is not yet in the store: those whose upload failed in this recorder,
   * and journals in the spool left by a crashed process. Usable any time after construction.
   *
   * @returns what was saved (also emitted as `'recovered'` events); failures become warnings.
   * @throws {RecorderError} `CLOSED`.
   */
  recover(): Promise<RecoveredRecording[]> {
    return this.#serial(async () => {
      this.#assertNotClosed('recover');
      return this.#spool.recover(this.#current);
    });
  }

  /**
   * Starts a recording: clears the previous one's frames, opens the input and returns the key the
   * recording will be stored under: `store.keyBuilder.build(...prefixes, '<uuid>.wav')`, e.g.
   * `'audex/session-1/3f…e1.wav'` (`.flac` with `storeFormat: 'flac'`).
   *
   * @throws {RecorderError} `NOT_INITIALIZED`, `CLOSED`, `ALREADY_RECORDING`; `INVALID_KEY` for a
   *   prefix the key builder rejects (empty, `..`, …); `SOURCE_FAILED` when the input cannot be
   *   opened (nothing stays open); `SPOOL_FAILED` when the journal cannot be created. The recorder
   *   stays usable after each.
   */
  start(...prefixes: string[]): Promise<string> {
    // Pre-roll reaches back from the call, even when it waits behind a stop() still uploading.
    const requestedAt = Date.now();
    return this.#serial(async () => {
      this.#assertInitialized('start');
      if (this.#status === 'recording' || this.#status === 'stopping') {
        throw new RecorderError(
          'ALREADY_RECORDING',
          `start() called while already recording ${JSON.stringify(this.#current?.current.key)}; call stop() first`,
        );
      }
      const id = randomUUID();
      await this.#input.source();
      await this.#discardCurrent();
      let place: Awaited<ReturnType<Spool['claim']>>;
      try {
        place = await this.#spool.claim(id);
      } catch (error) {
        throw new RecorderError(
          'SPOOL_FAILED',
          `could not create the journal in ${this.#spool.dir}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const recording = await Recording.create(
        { id, prefixes, place },
        this.#settings,
        this.#report,
        this.#spool,
      );
      this.#current = recording;
      let first: number | null;
      try {
        first = await this.#input.attach(recording, requestedAt);
      } catch (error) {
        this.#current = undefined;
        await this.#spool.abandon(recording);
        throw error;
      }
      if (this.#settings.preRollMs > 0)
        recording.current.preRollMs = first === null ? 0 : Math.max(0, requestedAt - first);
      if (this.#input.status === 'reconnecting') recording.inputLost();
      this.#setStatus('recording');
      this.#settings.logger.info({ key: recording.key, config: this.config }, 'audex recording started');
      return recording.key;
    });
  }

  /**
   * Stops the recording and uploads a WAV of all of it (RF64 beyond 4 GiB; or a FLAC with
   * `storeFormat: 'flac'`), streamed from the spool with bounded memory, with metadata `content_type, duration_ms, sample_rate, channels,
   * started_at, ended_at, frame_count` plus loss accounting (`overflow_count`, `gaps`,
   * `gap_count`, `gap_frames`, `captured_frames`, `wall_clock_ms`, `sample_format`). Store
   * failures are retried (`uploadRetries`). Streams see the end of the recording and flush.
   *
   * @returns the stored recording; `frames` holds its raw PCM unless `returnPcm: false` (the
   *   reference's `frames: false`).
   * @throws {RecorderError} `NOT_RECORDING`, `NOT_INITIALIZED`, `CLOSED`; `UPLOAD_FAILED` when the
   *   store refused it after every retry: the recording then stays in the spool (and `segment()`
   *   still works) until `recover()` or a later `init()` saves it.
   */
  stop(options: StopOptions = {}): Promise<AudioSegment> {
    return this.#serial(async () => {
      this.#assertInitialized('stop');
      const recording = this.#current;
      if (this.#status !== 'recording' || !recording) {
        throw new RecorderError(
          'NOT_RECORDING',
          'stop() called with no recording running; call start() first',
        );
      }
      return this.#stopRecording(recording, options);
    });
  }

  /**
   * Streams the running recording, encoded, while it records. Each stream has its own position,
   * so any number can run at once and a slow consumer never slows capture or other streams
   * (nothing is dropped: it catches up from the spool). Each step costs the same however long the
   * recording is. When the recording stops, the last partial chunk is flushed and the encoder
   * finalised; then the iteration ends. MP3 and Opus come out as one continuous stream (the
   * chunks concatenate to one valid file); `'wav'` chunks are standalone files, as in the
   * reference. With no recording running, it ends at once and emits a `'warning'`.
   *
   * @throws {RecorderError} at the call: `NOT_INITIALIZED`, `CLOSED`, `INVALID_OPTIONS` (bad
   *   chunkSize, from, format, …). During iteration: `STREAM_FAILED` (e.g. the recording was
   *   cleared under it), `ENCODE_FAILED` (the codec threw).
   */
  stream(options: StreamOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
    this.#assertInitialized('stream');
    return openStream(this.isRecording ? this.#current : undefined, this.config, options, this.#report);
  }

  /**
   * Cuts exactly the samples captured in `[startedAt, endedAt)` out of the current recording: raw
   * PCM in the capture format by default (as the reference), or one complete file in
   * `options.format` (`'wav'`, `'mp3'`, …), while recording or after `stop()` until
   * the next `start()` or `clearFrames()`. Times are wall-clock (`Date` or ms since the Unix epoch)
   * on the timeline derived from the sample clock. A range that only partly overlaps the
   * recording is clamped to it (a `'warning'` says so); gaps in the input come back as silence.
   *
   * @throws {RecorderError} `NOT_INITIALIZED`, `CLOSED`; `INVALID_RANGE` for a reversed, empty or
   *   non-finite range; `OUT_OF_RANGE` when it does not overlap the recording; `NO_RECORDING`
   *   when nothing was recorded (or it was cleared); `INVALID_OPTIONS` for bad output options;
   *   `ENCODE_FAILED` when the codec throws.
   */
  async segment(
    startedAt: Date | number,
    endedAt: Date | number,
    options: SegmentOptions = {},
  ): Promise<Uint8Array> {
    this.#assertInitialized('segment');
    return cutSegment(this.#current, this.config, { startedAt, endedAt }, options, this.#report);
  }

  /**
   * Drops the frames of the last recording (and deletes its journal once a store has it).
   * `segment()` then has nothing to cut. Does nothing when there is nothing to clear.
   *
   * @throws {RecorderError} `ALREADY_RECORDING` while recording (stop first), `CLOSED`.
   */
  clearFrames(): Promise<void> {
    return this.#serial(async () => {
      this.#assertNotClosed('clearFrames');
      if (this.#status === 'recording' || this.#status === 'stopping') {
        throw new RecorderError(
          'ALREADY_RECORDING',
          'clearFrames() called while recording; call stop() first',
        );
      }
      await this.#discardCurrent();
    });
  }

  /**
   * The input devices of the source (for the default PortAudio source: every device with input
   * channels, with host API and default flag).
   * @throws {RecorderError} `CLOSED`; `SOURCE_FAILED` when the source cannot list them.
   */
  async listInputDevices(): Promise<InputDevice[]> {
    this.#assertNotClosed('listInputDevices');
    return this.#input.listDevices();
  }

  /**
   * Stops an active recording first (uploading it), closes the input (kept open with
   * `preRollMs`), then releases everything. The last
   * recording's journal is deleted once a store has it; one that could not be stored stays in the
   * spool for a later `init()`. Closing twice does nothing.
   *
   * @throws {RecorderError} the `stop()` failure (e.g. `UPLOAD_FAILED`), after the recorder is closed.
   */
  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#status === 'closed') return;
      let failure: unknown;
      if (this.#status === 'recording' && this.#current) {
        try {
          await this.#stopRecording(this.#current, { returnPcm: false });
        } catch (error) {
          failure = error;
        }
      }
      await this.#input.close();
      await this.#discardCurrent().catch((error: unknown) => {
        this.#settings.logger.warn(
          { err: error },
          'audex could not delete a stored recording from the spool',
        );
      });
      await this.#spool.releaseKept();
      this.#setStatus('closed');
      if (failure !== undefined) throw failure;
    });
  }

  /** `await using recorder = new AudioRecorder(…)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #stopRecording(recording: Recording, options: StopOptions): Promise<AudioSegment> {
    const returnPcm = resolveReturnPcm(options);
    const stopAt = Date.now();
    this.#setStatus('stopping');
    let file: Awaited<ReturnType<Recording['finish']>>;
    try {
      await this.#input.detach(stopAt);
      file = await recording.finish(stopAt);
    } finally {
      this.#setStatus('initialized');
    }
    this.#settings.logger.info({ key: file.key, frames: recording.frameCount }, 'audex recording stored');
    return file.toSegment(returnPcm);
  }

  /** Forgets the current recording (its files go once a store has it; a kept one stays for recover()). */
  async #discardCurrent(): Promise<void> {
    const recording = this.#current;
    if (!recording) return;
    this.#current = undefined;
    await this.#spool.discard(recording);
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  #setStatus(to: RecorderStatus): void {
    const from = this.#status;
    if (from === to) return;
    this.#status = to;
    this.emit('stateChange', { from, to });
  }

  #warn(warning: RecorderWarning): void {
    this.#settings.logger.warn({ code: warning.code, err: warning.cause }, warning.message);
    this.emit('warning', warning);
  }

  #assertNotClosed(method: string): void {
    if (this.#status === 'closed') {
      throw new RecorderError(
        'CLOSED',
        `${method}() called on a closed recorder; create a new AudioRecorder`,
      );
    }
  }

  #assertInitialized(method: string): void {
    this.#assertNotClosed(method);
    if (this.#status === 'idle') {
      throw new RecorderError(
        'NOT_INITIALIZED',
        `${method}() called before init(); call await recorder.init() first`,
      );
    }
  }

  /** The recording chunks go to now, if any. */
  #recordingNow(): Recording | undefined {
    return this.#status === 'recording' || this.#status === 'stopping' ? this.#current : undefined;
  }
}
