// The recorder's public types: options, statuses, events, the stored segment and its metadata.
import type { VadOptions, VoiceModel } from '@audex/analysis';
import type { AudioSource } from '@audex/capture';
import type { SampleFormat } from '@audex/pcm';
import type { RecorderError } from './errors.js';
import type { StoreFormat } from './stored-format.js';

/**
 * Where an {@link AudioRecorder} is in its life:
 * `'idle'` (constructed) → `init()` → `'initialized'` → `start()` → `'recording'` → `stop()` →
 * `'stopping'` → `'initialized'` … → `close()` → `'closed'` (terminal).
 */
export type RecorderStatus = 'idle' | 'initialized' | 'recording' | 'stopping' | 'closed';

/**
 * A pino-compatible logger: pass a `pino()` instance (or any object with these four methods).
 * The recorder logs structured objects with a message; it is silent when no logger is given.
 */
export interface RecorderLogger {
  /** Fine-grained events (a journal recovered, an upload attempt). */
  debug(obj: object, msg?: string): void;
  /** Lifecycle: recording started, stored. */
  info(obj: object, msg?: string): void;
  /** Something went wrong but was handled (a retry, a clamped range). */
  warn(obj: object, msg?: string): void;
  /** Something failed (an upload after every retry, the device vanishing). */
  error(obj: object, msg?: string): void;
}

/** Options of `new AudioRecorder(store, config, options)`. All optional. */
export interface AudioRecorderOptions {
  /**
   * What to capture from. Default: a `PortAudioSource` from `@audex/capture`, loaded lazily on
   * first use so a custom source never loads the native `@audex/naudiodon` module.
   */
  source?: AudioSource;
  /**
   * Directory for the crash journal of each recording (created if missing). Recordings that were
   * not stored (a crash, a failed upload) stay here until `init()` or `recover()` saves them, so
   * use a stable, private directory per application. Default `<os.tmpdir()>/audex-spool`.
   */
  spoolDir?: string;
  /** Structured logger (pino-compatible). Default: silent. */
  logger?: RecorderLogger;
  /**
   * Most recent audio kept in RAM, in ms; older audio is read back from the spool file, so memory
   * stays bounded however long the recording. Default `30000`.
   */
  memoryMs?: number;
  /**
   * Ends each recording's capture by itself after exactly this much audio, in ms of samples (the
   * frame count is `round(maxDurationMs × rate / 1000)`, the chunk that crosses it is cut there):
   * a `maxDuration` event fires, streams flush and end, and `stop()` then saves it. From 1 ms to a
   * year. Default: no limit. (`audex record --duration` uses it.)
   */
  maxDurationMs?: number;
  /**
   * How often the journal is flushed and fsynced, in ms, from 10 to 1000. A crash loses at most
   * about this much audio. Default `500`.
   */
  flushIntervalMs?: number;
  /** Upload attempts after the first failed one, at `stop()` and in recovery. Default `3`. */
  uploadRetries?: number;
  /** Delay before the first upload retry in ms, doubled for each further retry. Default `500`. */
  retryDelayMs?: number;
  /** Whether `init()` recovers and uploads unfinished recordings found in `spoolDir`. Default `true`. */
  recoverOnInit?: boolean;
  /**
   * Voice activity detection (Silero VAD), off by default. `true` or settings (`threshold`,
   * `minSpeechMs`, `minSilenceMs`, `padMs`, `model`; see {@link VoiceActivityOptions}): speech
   * regions go into the stored metadata (`speech`, `speech_count`, `speech_ms`) and
   * `speechStart`/`speechEnd` events fire live. The stored audio is untouched. The named Silero
   * models run in `@audex/vad-silero`, an optional peer dependency (159 MB with its WebAssembly
   * runtime): install it to use `vad`. The model loads at each `start()`: `MISSING_DEPENDENCY`
   * there when the package is not installed, `ANALYSIS_FAILED` when the model cannot load.
   */
  vad?: boolean | VoiceActivityOptions;
  /**
   * The format recordings are stored as: `'wav'` (default) or `'flac'` (lossless, about half the
   * size of the WAV for speech). The key ends `.wav` or `.flac` and metadata `content_type`
   * follows (`audio/wav`, `audio/flac`). FLAC stores int8, int16 and int24 captures bit for bit; it
   * is refused (`INVALID_OPTIONS`) for int32 and float32 captures, which it would quantise to
   * 24-bit, and for more than 8 channels. Recovery stores a recording in the format it was
   * recorded for (the journal header names it), whatever the recovering recorder's option.
   */
  storeFormat?: StoreFormat;
  /**
   * Surviving a lost or stalled device: the recording stays open, the device is re-opened with
   * back-off (the same device by name, or the new default when `inputDeviceIndex` is `null`), and
   * the outage becomes one gap on the same timeline (silence; live streams keep their clock);
   * `deviceLost`/`deviceRestored` events say so. `false`: a lost device ends capture (the
   * `'error'` event; `stop()` saves what was captured). Default: on for the built-in PortAudio
   * source; off for a `source` you pass (a file or test signal that stops delivering has usually
   * ended) unless you give this option.
   */
  reconnect?: ReconnectOptions | false;
  /**
   * Instant start with pre-roll, in ms (0 to 60000). With more than 0, `init()` opens the input and
   * keeps the last `preRollMs` of audio in a ring; `start()` then resolves at once and the
   * recording begins `preRollMs` before the call (`pre_roll_ms` in its metadata: how much it got),
   * but never before the previous recording ended, so back-to-back recordings are contiguous.
   * Privacy: the microphone is open (and listened to) from `init()` until `close()`, also while
   * nothing is recorded. Default `0`: the input opens at `start()` and closes at `stop()`.
   */
  preRollMs?: number;
  /**
   * Gapless rotation: the recording is stored as consecutive files on one sample clock, a new file
   * every `everyMs` of audio or before a file would exceed `maxBytes` (whichever comes first); the
   * files concatenate to the continuous capture, sample for sample. Each file is uploaded as it
   * closes (and then leaves the spool) with `sequence`, `previous_key` and `recording_id` in its
   * metadata and a `stored` event; `stop()` stores and returns the last. Streams are unaffected.
   */
  rotate?: RotateOptions;
  /**
   * The silence warning: a `silence` event when the input has been below `belowDbfs` (digital
   * silence included) for `afterMs` while recording, and a `sound` event when it ends. Default
   * `{ afterMs: 10000, belowDbfs: -60 }`; `false` turns it off.
   */
  silence?: SilenceOptions | false;
}

/** The `vad` option's settings: those of `@audex/analysis`'s detector, and the model. */
export interface VoiceActivityOptions extends VadOptions {
  /**
   * The voice model: `'silero-v5'` (default) or `'silero-v6'`, run by `@audex/vad-silero` (loaded
   * with a dynamic import at `start()`), or any `VoiceModel` (e.g. `createSileroModel({
   * onnxRuntime })` from `@audex/vad-silero`, or a model of your own).
   */
  model?: 'silero-v5' | 'silero-v6' | VoiceModel;
}

/** Settings of {@link AudioRecorderOptions.reconnect}. */
export interface ReconnectOptions {
  /**
   * Stop re-opening the device after it has been gone this long, in ms; capture then ends as it
   * would without reconnect (an `'error'` event; `stop()` saves what was captured). `Infinity`
   * never gives up. Default `60000`.
   */
  giveUpAfterMs?: number;
  /**
   * The watchdog: no chunk for this long past when the next one was due (one chunk after the last)
   * means the input stalled without an error (a hung driver or audio server), in ms, from 100 to
   * 60000; it is then re-opened like a lost device. Default `1000`.
   */
  watchdogMs?: number;
}

/** Settings of {@link AudioRecorderOptions.rotate}; give at least one. */
export interface RotateOptions {
  /** Audio per file, in ms of the timeline (gaps included), at least 1000. */
  everyMs?: number;
  /** Largest stored file (WAV header included), in bytes, at least 65536. */
  maxBytes?: number;
}

/** Settings of {@link AudioRecorderOptions.silence}. */
export interface SilenceOptions {
  /** How long the input must stay below the level before `silence` fires, in ms (100 to 86400000). Default `10000`. */
  afterMs?: number;
  /** The level, in dBFS of the sample peak (-120 to 0); digital silence is always below it. Default `-60`. */
  belowDbfs?: number;
}

/** Where the input is: {@link AudioRecorder.inputStatus}. */
export type InputStatus = 'closed' | 'opening' | 'open' | 'reconnecting';

/** The input was lost (an error from the source) or stalled (the watchdog). */
export interface DeviceLostEvent {
  /** When it was noticed, ms since the Unix epoch. */
  time: number;
  /** Capture time just after the last frame received before it (ms epoch); `null` if none came. */
  lastAudioAt: number | null;
  /** `'error'`: the source reported it; `'stall'`: no audio for longer than the watchdog allows. */
  reason: 'error' | 'stall';
  /** What happened, for people. */
  message: string;
  /** The source's error (reason `'error'`). */
  error?: Error;
}

/** The input is back: audio flows again after a {@link DeviceLostEvent}. */
export interface DeviceRestoredEvent {
  /** Capture time of the first frame after the outage, ms since the Unix epoch. */
  time: number;
  /**
   * The outage in ms, from the end of the last audio before it to this frame by the source's
   * clock (`0` when none was lost); a recording holds it as one gap of about this length.
   */
  gapMs: number;
  /** Re-open attempts it took. */
  attempts: number;
}

/** The input has been silent (below the level) for the configured time while recording. */
export interface SilenceEvent {
  /** Capture time of the first silent frame, ms since the Unix epoch. */
  since: number;
  /** How long it has been silent, in ms of audio. */
  durationMs: number;
}

/** Sound returned after a {@link SilenceEvent}. */
export interface SoundEvent {
  /** Capture time of the first frame above the level, ms since the Unix epoch. */
  time: number;
  /** How long the silence lasted, in ms of audio. */
  silentMs: number;
}

/** Rotation closed a file and opened the next (option `rotate`). */
export interface RotatedEvent {
  /** Key of the new file. */
  key: string;
  /** Its sequence number (the first file is 0). */
  sequence: number;
  /** Key of the file just closed (it is being uploaded). */
  previousKey: string;
}

/** Where a {@link StreamOptions.from | stream} starts. */
export type StreamStart = 'start' | 'now' | Date | number;

/** Output shape shared by `stream()` and `segment()`. */
export interface OutputOptions {
  /** Any registered codec format (`'pcm'`, `'wav'`, `'mp3'`, `'opus'`, or one you registered). */
  format?: string;
  /** Output channels (mixed down or up from the capture's). Default: the capture's channels. */
  channels?: number;
  /** Output sample rate in Hz (band-limited resampling). Default: the capture rate. */
  rate?: number;
  /** Sample format given to the encoder (and of `'pcm'`/`'wav'` output). Default: the capture format. */
  sampleFormat?: SampleFormat;
  /** Bitrate in bit/s for lossy codecs. Default: the codec's (MP3 128 000, Opus 64 000). */
  bitrate?: number;
}

/** Options of `AudioRecorder.stream()`. */
export interface StreamOptions extends OutputOptions {
  /**
   * Captured frames (at the capture rate) per yielded chunk. Every chunk but the last holds exactly
   * this much audio; the last, shorter one is flushed when the recording stops. Continuous codecs
   * (MP3, Opus) may yield slightly shifted byte boundaries since they encode in frames.
   * Default: the config's `chunk` (1024).
   */
  chunkSize?: number;
  /**
   * Output format. `'wav'` chunks are standalone WAV files (as in the reference); every other
   * format is one continuous stream whose chunks concatenate to one valid file. Default `'pcm'`.
   */
  format?: string;
  /**
   * Where to start: `'start'` (default, the beginning of the recording, as the reference),
   * `'now'` (live: only audio captured from now on), or a wall-clock time (`Date` or ms since the
   * Unix epoch), clamped to the recording.
   */
  from?: StreamStart;
  /** Aborting ends the stream cleanly (no error): the iteration simply finishes. */
  signal?: AbortSignal;
}

/** Options of `AudioRecorder.segment()`. */
export interface SegmentOptions extends OutputOptions {
  /**
   * Output format: `'pcm'` (default, as the reference: raw interleaved samples in `sampleFormat`,
   * int24 packed as 3 bytes, no header) or any registered codec (`'wav'`, `'mp3'`, `'opus'`, …),
   * which returns one complete file.
   */
  format?: string;
  /**
   * Loudness-normalise the segment: `true` for EBU R128 (-23 LUFS, -1 dBTP) or a target and
   * true-peak ceiling. Peaks that the gain would push over the ceiling are limited (at most 12 dB).
   */
  normalize?: boolean | { targetLufs?: number; truePeakDbtp?: number };
  /**
   * Keep only speech: the parts of the range inside the recording's speech regions (option `vad`),
   * joined in order. A range without speech is an `OUT_OF_RANGE` error; without `vad` an
   * `INVALID_OPTIONS` error.
   */
  speech?: boolean;
}

/** Options of `AudioRecorder.stop()`. */
export interface StopOptions {
  /**
   * Whether `stop()` reads the whole recording's raw PCM back into `AudioSegment.frames`. Default
   * `true` (as the reference); pass `false` for long recordings: `frames` is then an empty
   * `Uint8Array` (the recording is stored either way).
   */
  returnPcm?: boolean;
  /**
   * The reference's (and SPEC's) spelling of {@link StopOptions.returnPcm}: `stop({ frames: false })`.
   * A boolean, not a frame count. Giving both with different values is an `INVALID_OPTIONS` error.
   */
  frames?: boolean;
}

/** A stored recording, as `stop()` returns it: the reference's `AudioSegment`. */
export interface AudioSegment {
  /** Store key the recording (WAV, or FLAC with `storeFormat: 'flac'`) was uploaded to. */
  key: string;
  /** Duration from the sample count (frames ÷ rate), in ms, gaps included. */
  durationMs: number;
  /** Wall-clock time of the first sample. */
  startedAt: Date;
  /** Wall-clock time just after the last sample. */
  endedAt: Date;
  /** Raw PCM in the capture format (int24 packed as 3 bytes); empty with `stop({ frames: false })`. */
  frames: Uint8Array;
}

/** A gap in the input (lost audio) as stored in a recording's metadata. */
export interface GapMetadata {
  /** Frame index where the gap starts on the recording's timeline. */
  position: number;
  /** Frames of silence that stand in for the lost input. */
  length: number;
  /** Offset of the gap from the start of the recording, in ms. */
  start_ms: number;
  /** Length of the gap in ms. */
  duration_ms: number;
}

/**
 * Metadata stored with every recording: the reference's keys (first seven) plus loss accounting.
 * Values keep their JSON types (numbers stay numbers).
 */
export interface RecordingMetadata {
  [key: string]: unknown;
  /** `'audio/wav'`, or `'audio/flac'` with `storeFormat: 'flac'`. */
  content_type: string;
  /** Duration from samples, in ms. */
  duration_ms: number;
  /** Capture rate in Hz. */
  sample_rate: number;
  /** Capture channels. */
  channels: number;
  /** ISO 8601 time of the first sample. */
  started_at: string;
  /** ISO 8601 time just after the last sample. */
  ended_at: string;
  /** Frames on the timeline (captured + silence standing in for gaps). */
  frame_count: number;
  /** Capture sample format. */
  sample_format: SampleFormat;
  /** Chunks the device flagged as preceded by lost input. */
  overflow_count: number;
  /** Lost input kept on the timeline as silence (the first few; S3 metadata is limited to 2 KB). */
  gaps: GapMetadata[];
  /** Number of gaps on the timeline (all of them, listed or not). */
  gap_count: number;
  /** Frames of silence standing in for lost input, over all gaps. */
  gap_frames: number;
  /** Frames actually captured. */
  captured_frames: number;
  /** Wall-clock span of the recording in ms (start() to stop()), to compare with `captured_frames`. */
  wall_clock_ms: number;
  /** Present and `true` on recordings saved by crash recovery. */
  recovered?: boolean;
  /** Audio before the `start()` call, in ms (option `preRollMs`; on the first file of a recording). */
  pre_roll_ms?: number;
  /** Position of this file in its recording, from 0 (option `rotate`). */
  sequence?: number;
  /** Key of the file before this one in the recording, `null` for the first (option `rotate`). */
  previous_key?: string | null;
  /** Id shared by every file of one recording (option `rotate`). */
  recording_id?: string;
  /** EBU R128 integrated loudness in LUFS; `null` for silence. */
  loudness_lufs?: number | null;
  /** EBU R128 loudness range in LU. */
  loudness_range_lu?: number;
  /** True peak over all channels in dBTP; `null` for silence. */
  true_peak_dbtp?: number | null;
  /**
   * Speech regions (option `vad`), as many as fit S3's 2 KB of metadata; `speech_count` and
   * `speech_ms` always hold the totals.
   */
  speech?: SpeechMetadata[];
  /** Number of speech regions (all of them, listed or not). */
  speech_count?: number;
  /** Total length of the speech regions, ms. */
  speech_ms?: number;
}

/** Peak and RMS level of one captured chunk, per channel, linear in [0, 1] (full scale = 1). */
export interface LevelEvent {
  /** Capture time of the chunk's first frame, ms since the Unix epoch. */
  time: number;
  /** Frames in the chunk. */
  frames: number;
  /** Highest absolute sample per channel. */
  peak: number[];
  /** Root mean square per channel. */
  rms: number[];
  /**
   * EBU R128 momentary loudness of the recording's last 400 ms, in LUFS (updated every 100 ms;
   * `-Infinity` during the first 400 ms and in silence).
   */
  momentaryLufs: number;
}

/** Speech began (option `vad`): fired about `minSpeechMs` after the onset. */
export interface SpeechStartEvent {
  /** The recording's key. */
  key: string;
  /** Start of the region, ms from the recording's first frame (pre-roll included). */
  startMs: number;
  /** Recording time at which it was decided, ms from the first frame. */
  atMs: number;
}

/** Speech ended (option `vad`): fired about `minSilenceMs` after the last speech, or at `stop()`. */
export interface SpeechEndEvent {
  /** The recording's key. */
  key: string;
  /** Start of the region, ms from the recording's first frame (pre-roll included). */
  startMs: number;
  /** End of the region, ms from the recording's first frame (hang-over included). */
  endMs: number;
  /** Recording time at which it was decided, ms from the first frame. */
  atMs: number;
}

/** A speech region in stored metadata, ms from the recording's first frame. */
export interface SpeechMetadata {
  /** Start, ms (pre-roll included). */
  start_ms: number;
  /** End, ms (hang-over included). */
  end_ms: number;
}

/** Lost input: the device flagged an overflow, or a chunk arrived later than its samples allow. */
export interface OverflowEvent {
  /** `'device'`: the source flagged it; `'gap'`: detected from timestamps. */
  reason: 'device' | 'gap';
  /** Capture time of the chunk after the loss, ms since the Unix epoch. */
  time: number;
  /** Overflows flagged by the device so far in this recording. */
  overflowCount: number;
  /** Frames of silence the timeline holds for this loss (0 when nothing was detected as missing). */
  gapFrames: number;
}

/** Codes of {@link RecorderWarning}. */
export type RecorderWarningCode =
  | 'NO_RECORDING'
  | 'RANGE_CLAMPED'
  | 'UPLOAD_RETRY'
  | 'SOURCE_STOP_FAILED'
  | 'RECOVERY_DAMAGED'
  | 'RECOVERY_SKIPPED'
  | 'BAD_CHUNK'
  | 'ANALYSIS_FAILED';

/** Something the recorder handled but an app may want to show or log. */
export interface RecorderWarning {
  /** What happened, machine-readable. */
  code: RecorderWarningCode;
  /** Human-readable, starting with `[audex/recorder]`. */
  message: string;
  /** The underlying error, if any. */
  cause?: unknown;
}

/** A recording saved by crash recovery (`init()` or `recover()`). */
export interface RecoveredRecording {
  /** Store key it was uploaded to (the key `start()` gave it). */
  key: string;
  /** Duration from samples, in ms. */
  durationMs: number;
  /** Wall-clock time of the first sample. */
  startedAt: Date;
  /** Wall-clock time just after the last recovered sample. */
  endedAt: Date;
  /** Frames on the timeline. */
  frameCount: number;
  /** Damaged journal parts that were skipped (the rest was kept). */
  errors: Error[];
}

/** A status transition. */
export interface StateChange {
  /** Status before. */
  from: RecorderStatus;
  /** Status after. */
  to: RecorderStatus;
}

/** Events of {@link AudioRecorder}, with their listener arguments. */
export interface RecorderEvents {
  /** The status changed. */
  stateChange: [change: StateChange];
  /** Input level of each captured chunk (computed only while someone listens). */
  level: [level: LevelEvent];
  /** Input was lost. */
  overflow: [overflow: OverflowEvent];
  /** A failure outside any call: the device vanished, a chunk was rejected. */
  error: [error: RecorderError];
  /** A recording left by a crash or a failed upload was saved. */
  recovered: [recording: RecoveredRecording];
  /** Something handled that an app may want to show. */
  warning: [warning: RecorderWarning];
  /** Speech began in the running recording (option `vad`). */
  speechStart: [event: SpeechStartEvent];
  /** Speech ended in the running recording (option `vad`). */
  speechEnd: [event: SpeechEndEvent];
  /** The running recording reached `maxDurationMs`: capture ended; call `stop()` to save it. */
  maxDuration: [event: { key: string; durationMs: number }];
  /** A recording (or, with `rotate`, one of its files) was uploaded. */
  stored: [segment: { key: string; metadata: RecordingMetadata }];
  /** The input device was lost or stalled; with `reconnect`, it is being re-opened. */
  deviceLost: [event: DeviceLostEvent];
  /** The input device is back and audio flows again. */
  deviceRestored: [event: DeviceRestoredEvent];
  /** The input has been silent for `silence.afterMs` while recording. */
  silence: [event: SilenceEvent];
  /** Sound returned after a `silence` event. */
  sound: [event: SoundEvent];
  /** Rotation opened the next file (option `rotate`). */
  rotated: [event: RotatedEvent];
}
