import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameBuffer, recoverJournals } from '@audex/buffer';
import type { AudioSource, InputDevice } from '@audex/capture';
import {
  type AudioConfig,
  type AudioConfigInput,
  BYTES_PER_SAMPLE,
  type CapturedChunk,
  concatBytes,
  PcmError,
  resolveAudioConfig,
} from '@audex/pcm';
import type { Store } from '@audex/store';
import { encodedStream } from './encoded-stream.js';
import { describeValue, RecorderError } from './errors.js';
import { measureLevels } from './levels.js';
import { buildMetadata, type RecordingTimes, recordingSpan } from './metadata.js';
import { createConverter, createOutputEncoder, encoding, resolveOutput } from './output-format.js';
import { type OwnerRecord, ownerStamp, Spool, type SpooledRecording } from './spool.js';
import { TypedEmitter } from './typed-emitter.js';
import type {
  AudioRecorderOptions,
  AudioSegment,
  RecorderEvents,
  RecorderLogger,
  RecorderStatus,
  RecorderWarning,
  RecordingMetadata,
  RecoveredRecording,
  SegmentOptions,
  StopOptions,
  StreamOptions,
  StreamStart,
} from './types.js';
import { type RetryPolicy, uploadRecording } from './upload.js';

/** Options after validation, with defaults applied. */
interface ResolvedOptions {
  readonly spoolDir: string;
  readonly memoryMs: number;
  readonly flushIntervalMs: number;
  readonly uploadRetries: number;
  readonly retryDelayMs: number;
  readonly recoverOnInit: boolean;
  readonly logger: RecorderLogger;
}

/** One recording: its buffer, key and wall-clock facts. */
interface Recording {
  readonly id: string;
  readonly key: string;
  readonly buffer: FrameBuffer;
  readonly times: RecordingTimes;
  /** Capture ended (stop() or a source failure); no chunk is taken after this. */
  captureEnded: boolean;
  /** Set once a store has the recording. */
  stored: boolean;
  /** Metadata of the last upload attempt (kept for recover() after a failed stop()). */
  metadata: RecordingMetadata | undefined;
  /** The buffer's end(), once called (a source failure ends it before stop()). */
  ending: Promise<void> | undefined;
}

const SILENT: RecorderLogger = { debug() {}, info() {}, warn() {}, error() {} };
const EMPTY = new Uint8Array(0);

/**
 * Records audio from an `AudioSource` (from `@audex/capture`) onto a sample-accurate, crash-safe timeline; streams
 * it encoded while recording; cuts time ranges; and saves each recording as a WAV to a `Store`.
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
 * `'stopping'`) → `close()` → `'closed'`; each transition emits `stateChange`.
 */
export class AudioRecorder extends TypedEmitter<RecorderEvents> implements AsyncDisposable {
  /** Where recordings are saved. */
  readonly store: Store;
  /** The validated capture config (defaults merged). */
  readonly config: Readonly<AudioConfig>;
  readonly #options: ResolvedOptions;
  readonly #spool: Spool;
  #source: AudioSource | undefined;
  #status: RecorderStatus = 'idle';
  /** The current or last recording (segment() reads it) until the next start() or clearFrames(). */
  #current: Recording | undefined;
  /** Recordings whose upload failed, kept for recover() (their journals stay in the spool). */
  readonly #pending = new Map<string, Recording>();
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
    const logger = options?.logger ?? SILENT;
    super((error, event) => logger.error({ err: error, event }, 'audex recorder event listener threw'));
    if (
      store === null ||
      typeof store !== 'object' ||
      typeof store.upload !== 'function' ||
      typeof store.keyBuilder?.build !== 'function'
    ) {
      throw new RecorderError(
        'INVALID_OPTIONS',
        `store must implement the Store interface (keyBuilder, upload, …), got ${describeValue(store)}`,
        { field: 'store' },
      );
    }
    try {
      this.config = resolveAudioConfig(config);
    } catch (error) {
      if (error instanceof PcmError) {
        throw new RecorderError('INVALID_CONFIG', error.message.replace(/^\[audex\/pcm\] /, ''), {
          cause: error,
          ...(error.field ? { field: error.field } : {}),
        });
      }
      throw error;
    }
    this.store = store;
    this.#options = resolveOptions(options, logger);
    this.#source = options.source;
    this.#spool = new Spool(this.#options.spoolDir);
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
    return this.#status === 'recording' && this.#current !== undefined && !this.#current.captureEnded;
  }

  /**
   * Key of the current recording (from `start()`), or of the last one until the next `start()` or
   * `clearFrames()`; `null` when there is none.
   */
  get currentSegmentKey(): string | null {
    return this.#current?.key ?? null;
  }

  /**
   * Frames on the timeline of the current (or last) recording so far, gaps included; 0 when there
   * is none. Divide by `config.rate` for seconds.
   */
  get frameCount(): number {
    return this.#current?.buffer.frameCount ?? 0;
  }

  /** Absolute spool directory (journals of unfinished recordings live under it). */
  get spoolDir(): string {
    return this.#spool.dir;
  }

  /**
   * Resolves once `status` is `target` (at once if it is), or rejects with `RecorderError`
   * `TIMEOUT` after `timeoutMs` ms (default 30 000).
   */
  waitForStatus(target: RecorderStatus, timeoutMs = 30_000): Promise<void> {
    if (this.#status === target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onChange = ({ to }: { to: RecorderStatus }): void => {
        if (to !== target) return;
        clearTimeout(timer);
        this.off('stateChange', onChange);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('stateChange', onChange);
        reject(
          new RecorderError(
            'TIMEOUT',
            `status did not become "${target}" within ${timeoutMs} ms (it is "${this.#status}")`,
          ),
        );
      }, timeoutMs);
      this.on('stateChange', onChange);
    });
  }

  /**
   * Prepares the spool and, unless `recoverOnInit` is `false`, recovers recordings left
   * unfinished by a crash (or a failed upload) and uploads them as WAV with `recovered: true` in
   * their metadata. Recovery failures become `'warning'` events; the journals stay for a later try.
   * Calling it again when initialized does nothing and returns `[]`.
   *
   * @returns what was recovered (also emitted as `'recovered'` events).
   * @throws {RecorderError} `CLOSED`; `INVALID_CONFIG` when `inputDeviceIndex` names no input device
   *   of the source; `SOURCE_FAILED` when the source cannot list its devices.
   */
  init(): Promise<RecoveredRecording[]> {
    return this.#serial(async () => {
      this.#assertNotClosed('init');
      if (this.#status !== 'idle') return [];
      if (this.config.inputDeviceIndex !== null) await this.#checkDevice(this.config.inputDeviceIndex);
      const recovered = this.#options.recoverOnInit ? await this.#recoverAll() : [];
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
      return this.#recoverAll();
    });
  }

  /**
   * Starts a recording: clears the previous one's frames, opens the input and returns the key the
   * recording will be stored under: `store.keyBuilder.build(...prefixes, '<uuid>.wav')`, e.g.
   * `'audex/session-1/3f…e1.wav'`.
   *
   * @throws {RecorderError} `NOT_INITIALIZED`, `CLOSED`, `ALREADY_RECORDING`; `INVALID_KEY` for a
   *   prefix the key builder rejects (empty, `..`, …); `SOURCE_FAILED` when the input cannot be
   *   opened (nothing stays open). The recorder stays usable after each.
   */
  start(...prefixes: string[]): Promise<string> {
    return this.#serial(async () => {
      this.#assertInitialized('start');
      if (this.#status === 'recording' || this.#status === 'stopping') {
        throw new RecorderError(
          'ALREADY_RECORDING',
          `start() called while already recording ${JSON.stringify(this.#current?.key)}; call stop() first`,
        );
      }
      const id = randomUUID();
      let key: string;
      try {
        for (const prefix of prefixes) {
          if (typeof prefix !== 'string' || prefix.length === 0) {
            throw new Error(`key prefixes must be non-empty strings, got ${describeValue(prefix)}`);
          }
        }
        key = this.store.keyBuilder.build(...prefixes, `${id}.wav`);
      } catch (error) {
        throw new RecorderError(
          'INVALID_KEY',
          `invalid key prefixes ${JSON.stringify(prefixes)}: ${(error as Error).message}`,
          { field: 'prefixes', cause: error },
        );
      }
      const source = await this.#getSource();
      await this.#discardCurrent();
      const requestedAt = Date.now();
      const owner: OwnerRecord = { key, requestedAt, ...ownerStamp() };
      let buffer: FrameBuffer;
      try {
        const spoolDir = await this.#spool.create(id, owner);
        buffer = await FrameBuffer.create({
          spoolDir,
          id,
          sampleFormat: this.config.sampleFormat,
          channels: this.config.channels,
          rate: this.config.rate,
          memoryMs: this.#options.memoryMs,
          flushIntervalMs: this.#options.flushIntervalMs,
          meta: { ...owner, config: { ...this.config } },
          onError: (error) => this.#onJournalError(key, error),
        });
      } catch (error) {
        await this.#spool.remove(id).catch(() => {});
        throw new RecorderError(
          'SPOOL_FAILED',
          `could not create the journal in ${this.#spool.dir}: ${(error as Error).message}`,
          { key, cause: error },
        );
      }
      const recording: Recording = {
        id,
        key,
        buffer,
        times: { requestedAt, stoppedAt: requestedAt },
        captureEnded: false,
        stored: false,
        metadata: undefined,
        ending: undefined,
      };
      this.#current = recording;
      try {
        await source.start(
          this.config,
          (chunk) => this.#onChunk(recording, chunk),
          (error) => this.#onSourceError(recording, error),
        );
      } catch (error) {
        this.#current = undefined;
        await buffer.clear().catch(() => {});
        await this.#spool.remove(id).catch(() => {});
        throw new RecorderError('SOURCE_FAILED', `could not open the input: ${(error as Error).message}`, {
          cause: error,
        });
      }
      this.#setStatus('recording');
      this.#options.logger.info({ key, config: this.config }, 'audex recording started');
      return key;
    });
  }

  /**
   * Stops the recording and uploads a WAV of all of it (RF64 beyond 4 GiB), streamed from the spool
   * with bounded memory, with metadata `content_type, duration_ms, sample_rate, channels,
   * started_at, ended_at, frame_count` plus loss accounting (`overflow_count`, `gaps`,
   * `gap_count`, `gap_frames`, `captured_frames`, `wall_clock_ms`, `sample_format`). Store
   * failures are retried (`uploadRetries`). Streams see the end of the recording and flush.
   *
   * @returns the stored recording; `frames` holds its PCM unless `frames: false`.
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
    if (options === null || typeof options !== 'object') {
      throw new RecorderError(
        'INVALID_OPTIONS',
        `stream options must be an object, got ${describeValue(options)}`,
      );
    }
    const chunkFrames = options.chunkSize ?? this.config.chunk;
    if (!Number.isInteger(chunkFrames) || chunkFrames < 1 || chunkFrames > this.config.rate * 60) {
      throw new RecorderError(
        'INVALID_OPTIONS',
        `chunkSize must be an integer number of frames from 1 to ${this.config.rate * 60} (60 s), got ${describeValue(chunkFrames)}`,
        { field: 'chunkSize' },
      );
    }
    const from = options.from ?? 'start';
    const fromMs = parseStreamStart(from);
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new RecorderError(
        'INVALID_OPTIONS',
        `signal must be an AbortSignal, got ${describeValue(signal)}`,
        {
          field: 'signal',
        },
      );
    }
    const spec = resolveOutput(options, this.config, 'pcm');
    const encoder = createOutputEncoder(spec);
    const recording = this.#current;
    if (!recording || !this.isRecording) {
      this.#warn({
        code: 'NO_RECORDING',
        message: '[audex/recorder] stream() called with no recording running; the stream ends at once',
      });
      return emptyStream();
    }
    const buffer = recording.buffer;
    const startFrame = this.#streamStartFrame(buffer, from, fromMs);
    return encodedStream({
      openCursor: () => buffer.cursor({ startFrame }),
      chunkFrames,
      spec,
      converter: createConverter(this.config, spec),
      encoder,
      standalone: spec.codec.format === 'wav',
      signal,
    });
  }

  /**
   * Cuts exactly the samples captured in `[startedAt, endedAt)` out of the current recording and
   * encodes them as one complete file (WAV by default), while recording or after `stop()` until
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
    const startMs = parseTime(startedAt, 'startedAt');
    const endMs = parseTime(endedAt, 'endedAt');
    if (endMs <= startMs) {
      throw new RecorderError(
        'INVALID_RANGE',
        `segment range is ${endMs < startMs ? 'reversed' : 'empty'}: endedAt ${iso(endMs)} must be after startedAt ${iso(startMs)}`,
        { field: 'endedAt' },
      );
    }
    const spec = resolveOutput(options ?? {}, this.config, 'wav');
    const recording = this.#current;
    const buffer = recording?.buffer;
    if (!buffer || buffer.startTime === null || buffer.endTime === null || buffer.frameCount === 0) {
      throw new RecorderError(
        'NO_RECORDING',
        recording
          ? 'segment() called before any audio was captured'
          : 'segment() called with no recording; call start() first',
      );
    }
    const recStart = buffer.startTime;
    const recEnd = buffer.endTime;
    if (endMs <= recStart || startMs >= recEnd) {
      throw new RecorderError(
        'OUT_OF_RANGE',
        `segment ${iso(startMs)} – ${iso(endMs)} lies outside the recording, which spans ${iso(recStart)} – ${iso(recEnd)}`,
        { field: endMs <= recStart ? 'endedAt' : 'startedAt' },
      );
    }
    const from = Math.max(startMs, recStart);
    const to = Math.min(endMs, recEnd);
    if (from !== startMs || to !== endMs) {
      this.#warn({
        code: 'RANGE_CLAMPED',
        message: `[audex/recorder] segment ${iso(startMs)} – ${iso(endMs)} clamped to the recording: ${iso(from)} – ${iso(to)}`,
      });
    }
    let data: Uint8Array;
    try {
      ({ data } = await buffer.readTimeRange(from, to));
    } catch (error) {
      if ((error as { code?: string }).code === 'CLEARED') {
        throw new RecorderError('NO_RECORDING', 'the recording was cleared while segment() read it', {
          cause: error,
        });
      }
      throw new RecorderError('OUT_OF_RANGE', `could not read the segment: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const converter = createConverter(this.config, spec);
    const pcm = encoding(spec, () => concatBytes([converter.write(data), converter.end()]));
    const frameBytes = spec.shape.channels * BYTES_PER_SAMPLE[spec.shape.sampleFormat];
    const encoder = createOutputEncoder(spec, pcm.byteLength / frameBytes);
    return encoding(spec, () => concatBytes([encoder.write(pcm), encoder.end()]));
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
    const source = await this.#getSource();
    try {
      return await source.listInputDevices();
    } catch (error) {
      throw new RecorderError('SOURCE_FAILED', `could not list input devices: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * Stops an active recording first (uploading it), then releases everything. The last
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
          await this.#stopRecording(this.#current, { frames: false });
        } catch (error) {
          failure = error;
        }
      }
      await this.#discardCurrent().catch((error: unknown) => {
        this.#options.logger.warn({ err: error }, 'audex could not delete a stored recording from the spool');
      });
      for (const recording of this.#pending.values()) {
        await recording.buffer.close().catch(() => {});
        this.#spool.release(recording.id);
      }
      this.#pending.clear();
      this.#setStatus('closed');
      if (failure !== undefined) throw failure;
    });
  }

  /** `await using recorder = new AudioRecorder(…)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals ----

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
    this.#options.logger.warn({ code: warning.code, err: warning.cause }, warning.message);
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

  async #getSource(): Promise<AudioSource> {
    if (this.#source) return this.#source;
    try {
      // Loaded on first use so that a custom source never loads the native naudiodon module.
      const { PortAudioSource } = await import('@audex/capture');
      this.#source = new PortAudioSource();
      return this.#source;
    } catch (error) {
      throw new RecorderError(
        'SOURCE_FAILED',
        `could not load the default PortAudio source: ${(error as Error).message}; pass options.source`,
        { cause: error },
      );
    }
  }

  async #checkDevice(index: number): Promise<void> {
    const devices = await this.listInputDevices();
    if (devices.some((d) => d.index === index)) return;
    const list = devices.map((d) => `${d.index} (${d.name})`).join(', ') || 'none';
    throw new RecorderError(
      'INVALID_CONFIG',
      `inputDeviceIndex ${index} is not an input device; available input devices: ${list}`,
      { field: 'inputDeviceIndex' },
    );
  }

  #onChunk(recording: Recording, chunk: CapturedChunk): void {
    if (recording.captureEnded) return;
    const buffer = recording.buffer;
    const gapsBefore = buffer.gaps.length;
    try {
      buffer.append(chunk);
    } catch (error) {
      const wrapped = new RecorderError(
        'SOURCE_FAILED',
        `the source delivered a chunk the buffer rejected: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
      this.#options.logger.error({ err: error }, wrapped.message);
      this.emit('error', wrapped);
      return;
    }
    const newGap = buffer.gaps.length > gapsBefore ? buffer.gaps[buffer.gaps.length - 1] : undefined;
    if (chunk.overflow || newGap) {
      this.emit('overflow', {
        reason: chunk.overflow ? 'device' : 'gap',
        time: chunk.time,
        overflowCount: buffer.overflowCount,
        gapFrames: newGap?.frames ?? 0,
      });
    }
    if (this.listenerCount('level') > 0) {
      this.emit(
        'level',
        measureLevels(chunk.data, this.config.sampleFormat, this.config.channels, chunk.time),
      );
    }
  }

  #onSourceError(recording: Recording, error: Error): void {
    if (recording.captureEnded) return;
    recording.captureEnded = true;
    recording.times.stoppedAt = Date.now();
    const wrapped = new RecorderError(
      'SOURCE_FAILED',
      `the input failed mid-recording (${error.message}); capture ended, call stop() to save the ${((recording.buffer.frameCount / this.config.rate) * 1000).toFixed(0)} ms captured`,
      { cause: error, key: recording.key },
    );
    this.#options.logger.error({ err: error, key: recording.key }, wrapped.message);
    // Ending the buffer lets streams flush and finish now rather than at stop().
    recording.ending = recording.buffer.end();
    recording.ending.catch((endError: unknown) => {
      this.#options.logger.error({ err: endError }, 'audex could not end the buffer after a source failure');
    });
    this.emit('error', wrapped);
  }

  #streamStartFrame(buffer: FrameBuffer, from: StreamStart, fromMs: number | undefined): number {
    if (from === 'start') return 0;
    const now = buffer.frameCount;
    if (from === 'now' || fromMs === undefined) return now;
    if (buffer.startTime === null || buffer.endTime === null) return 0;
    if (fromMs <= buffer.startTime) return 0;
    if (fromMs >= buffer.endTime) return now;
    return Math.min(now, buffer.frameAt(fromMs));
  }

  async #stopRecording(recording: Recording, options: StopOptions): Promise<AudioSegment> {
    if (options === null || typeof options !== 'object') {
      throw new RecorderError(
        'INVALID_OPTIONS',
        `stop options must be an object, got ${describeValue(options)}`,
      );
    }
    this.#setStatus('stopping');
    if (!recording.captureEnded) {
      recording.captureEnded = true;
      recording.times.stoppedAt = Date.now();
    }
    try {
      await this.#source?.stop();
    } catch (error) {
      this.#warn({
        code: 'SOURCE_STOP_FAILED',
        message: `[audex/recorder] the source failed to stop cleanly: ${(error as Error).message}`,
        cause: error,
      });
    }
    const buffer = recording.buffer;
    try {
      const ending = recording.ending ?? buffer.end();
      recording.ending = ending;
      await ending;
    } catch (error) {
      this.#setStatus('initialized');
      throw new RecorderError(
        'UPLOAD_FAILED',
        `could not finish the recording's journal: ${(error as Error).message}`,
        {
          key: recording.key,
          cause: error,
        },
      );
    }
    recording.metadata = buildMetadata(buffer, recording.times);
    try {
      recording.metadata = await this.#upload(recording, recording.metadata);
    } catch (error) {
      this.#pending.set(recording.id, recording);
      this.#options.logger.error(
        { err: error, key: recording.key },
        'audex upload failed; recording kept in the spool',
      );
      this.#setStatus('initialized');
      throw error;
    }
    this.#setStatus('initialized');
    const { start, end } = recordingSpan(buffer, recording.times);
    const frames = options.frames === false ? EMPTY : await buffer.read(0, buffer.frameCount);
    this.emit('stored', { key: recording.key, metadata: recording.metadata });
    this.#options.logger.info(
      { key: recording.key, frames: buffer.frameCount, overflows: buffer.overflowCount },
      'audex recording stored',
    );
    return {
      key: recording.key,
      durationMs: (buffer.frameCount / buffer.rate) * 1000,
      startedAt: new Date(start),
      endedAt: new Date(end),
      frames,
    };
  }

  /** Uploads with retries, then marks the journal stored. */
  async #upload(recording: Recording, metadata: RecordingMetadata): Promise<RecordingMetadata> {
    const stored = await uploadRecording(
      this.store,
      recording.buffer,
      recording.key,
      metadata,
      this.#retryPolicy(recording.key),
    );
    recording.stored = true;
    await this.#spool.markStored(recording.id, recording.key);
    return stored;
  }

  /** Forgets the current recording: deletes its frames and journal unless it still awaits a store. */
  async #discardCurrent(): Promise<void> {
    const recording = this.#current;
    if (!recording) return;
    this.#current = undefined;
    // Not in a store yet (failed upload): its journal stays, in #pending, for recover() / a later init().
    if (!recording.stored) return;
    await recording.buffer.clear();
    await this.#spool.remove(recording.id);
  }

  async #recoverAll(): Promise<RecoveredRecording[]> {
    const recovered: RecoveredRecording[] = [];
    // Recordings of this recorder whose upload failed: their buffers are still open.
    for (const recording of [...this.#pending.values()]) {
      try {
        const metadata = {
          ...(recording.metadata ?? buildMetadata(recording.buffer, recording.times)),
          recovered: true,
        };
        await this.#upload(recording, metadata);
      } catch (error) {
        this.#warn({
          code: 'RECOVERY_SKIPPED',
          message: `[audex/recorder] could not yet save ${JSON.stringify(recording.key)}: ${(error as Error).message}`,
          cause: error,
        });
        continue;
      }
      this.#pending.delete(recording.id);
      if (recording !== this.#current) {
        await recording.buffer.clear().catch(() => {});
        await this.#spool.remove(recording.id);
      }
      recovered.push(this.#reportRecovered(recording.key, recording.buffer, recording.times, []));
    }
    let abandoned: SpooledRecording[];
    try {
      abandoned = await this.#spool.abandoned();
    } catch (error) {
      this.#warn({
        code: 'RECOVERY_SKIPPED',
        message: `[audex/recorder] could not read the spool ${this.#spool.dir}: ${(error as Error).message}`,
        cause: error,
      });
      return recovered;
    }
    for (const spooled of abandoned) {
      try {
        recovered.push(...(await this.#recoverSpooled(spooled)));
      } catch (error) {
        this.#warn({
          code: 'RECOVERY_SKIPPED',
          message: `[audex/recorder] could not recover ${spooled.dir}: ${(error as Error).message}; it stays in the spool`,
          cause: error,
        });
      }
    }
    return recovered;
  }

  /** Saves the journals of one abandoned recording directory; deletes it once all is stored. */
  async #recoverSpooled(spooled: SpooledRecording): Promise<RecoveredRecording[]> {
    if (await this.#spool.isStored(spooled.id)) {
      // Stored before the crash; only the cleanup was missed.
      await this.#spool.remove(spooled.id);
      return [];
    }
    let complete = true;
    const journals = await recoverJournals(spooled.dir, {
      onUnrecoverable: (journal) => {
        complete = false;
        this.#warn({
          code: 'RECOVERY_DAMAGED',
          message: `[audex/recorder] journal ${journal.id} in ${spooled.dir} is unreadable and was left in place: ${journal.error.message}`,
          cause: journal.error,
        });
      },
    });
    const out: RecoveredRecording[] = [];
    for (const journal of journals) {
      const { buffer, meta } = journal;
      try {
        if (buffer.frameCount === 0) continue; // nothing was captured before the crash
        for (const error of journal.errors) {
          this.#warn({
            code: 'RECOVERY_DAMAGED',
            message: `[audex/recorder] journal ${journal.id} was damaged; kept what was readable: ${error.message}`,
            cause: error,
          });
        }
        const key =
          spooled.owner?.key ??
          (typeof meta.key === 'string'
            ? meta.key
            : this.store.keyBuilder.build('recovered', `${journal.id}.wav`));
        const requestedAt =
          spooled.owner?.requestedAt ||
          (typeof meta.requestedAt === 'number' ? meta.requestedAt : 0) ||
          (buffer.startTime ?? 0);
        const times: RecordingTimes = { requestedAt, stoppedAt: buffer.endTime ?? requestedAt };
        const metadata = buildMetadata(buffer, times, { recovered: true });
        await uploadRecording(this.store, buffer, key, metadata, this.#retryPolicy(key));
        out.push(this.#reportRecovered(key, buffer, times, journal.errors));
      } catch (error) {
        complete = false;
        this.#warn({
          code: 'RECOVERY_SKIPPED',
          message: `[audex/recorder] could not save recovered journal ${journal.id}: ${(error as Error).message}; it stays in the spool`,
          cause: error,
        });
      } finally {
        await buffer.close().catch(() => {});
      }
    }
    if (complete) await this.#spool.remove(spooled.id);
    return out;
  }

  #retryPolicy(key: string): RetryPolicy {
    return {
      retries: this.#options.uploadRetries,
      delayMs: this.#options.retryDelayMs,
      onRetry: (error, attempt) =>
        this.#warn({
          code: 'UPLOAD_RETRY',
          message: `[audex/recorder] upload of ${JSON.stringify(key)} failed (${(error as Error).message}); retry ${attempt} of ${this.#options.uploadRetries}`,
          cause: error,
        }),
    };
  }

  #onJournalError(key: string, error: Error): void {
    const wrapped = new RecorderError(
      'SPOOL_FAILED',
      `writing the crash journal of ${JSON.stringify(key)} failed: ${error.message}; audio stays in memory but may not survive a crash`,
      { key, cause: error },
    );
    this.#options.logger.error({ err: error, key }, wrapped.message);
    this.emit('error', wrapped);
  }

  #reportRecovered(
    key: string,
    buffer: FrameBuffer,
    times: RecordingTimes,
    errors: Error[],
  ): RecoveredRecording {
    const { start, end } = recordingSpan(buffer, times);
    const result: RecoveredRecording = {
      key,
      durationMs: (buffer.frameCount / buffer.rate) * 1000,
      startedAt: new Date(start),
      endedAt: new Date(end),
      frameCount: buffer.frameCount,
      errors,
    };
    this.#options.logger.info({ key, frames: buffer.frameCount }, 'audex recovered an unfinished recording');
    this.emit('recovered', result);
    return result;
  }
}

function emptyStream(): AsyncGenerator<Uint8Array, void, undefined> {
  return (async function* () {})();
}

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString();
}

function parseTime(value: Date | number, field: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new RecorderError(
      'INVALID_RANGE',
      `${field} must be a valid Date or a finite number of ms since the Unix epoch, got ${describeValue(value)}`,
      { field },
    );
  }
  return ms;
}

function parseStreamStart(from: StreamStart): number | undefined {
  if (from === 'start' || from === 'now') return undefined;
  if (from instanceof Date || typeof from === 'number') {
    const ms = from instanceof Date ? from.getTime() : from;
    if (Number.isFinite(ms)) return ms;
  }
  throw new RecorderError(
    'INVALID_OPTIONS',
    `from must be 'start', 'now', a Date or ms since the Unix epoch, got ${describeValue(from)}`,
    { field: 'from' },
  );
}

function resolveOptions(options: AudioRecorderOptions, logger: RecorderLogger): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new RecorderError('INVALID_OPTIONS', `options must be an object, got ${describeValue(options)}`);
  }
  const { source } = options;
  if (
    source !== undefined &&
    (source === null ||
      typeof source.start !== 'function' ||
      typeof source.stop !== 'function' ||
      typeof source.listInputDevices !== 'function')
  ) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      'source must implement AudioSource (listInputDevices, start, stop)',
      { field: 'source' },
    );
  }
  for (const method of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[method] !== 'function') {
      throw new RecorderError('INVALID_OPTIONS', `logger must have a ${method}() method (pino-compatible)`, {
        field: 'logger',
      });
    }
  }
  const spoolDir = options.spoolDir ?? join(tmpdir(), 'audex-spool');
  if (typeof spoolDir !== 'string' || spoolDir.length === 0 || spoolDir.includes('\0')) {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `spoolDir must be a non-empty path, got ${describeValue(spoolDir)}`,
      {
        field: 'spoolDir',
      },
    );
  }
  const number = (
    field: keyof AudioRecorderOptions,
    fallback: number,
    min: number,
    max: number,
    integer: boolean,
  ): number => {
    const value = options[field] ?? fallback;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    ) {
      throw new RecorderError(
        'INVALID_OPTIONS',
        `${field} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${describeValue(value)}`,
        { field },
      );
    }
    return value;
  };
  const recoverOnInit = options.recoverOnInit ?? true;
  if (typeof recoverOnInit !== 'boolean') {
    throw new RecorderError(
      'INVALID_OPTIONS',
      `recoverOnInit must be a boolean, got ${describeValue(recoverOnInit)}`,
      {
        field: 'recoverOnInit',
      },
    );
  }
  return {
    spoolDir,
    memoryMs: number('memoryMs', 30_000, 1, 24 * 3_600_000, false),
    flushIntervalMs: number('flushIntervalMs', 500, 10, 1000, false),
    uploadRetries: number('uploadRetries', 3, 0, 20, true),
    retryDelayMs: number('retryDelayMs', 500, 0, 60_000, false),
    recoverOnInit,
    logger,
  };
}
