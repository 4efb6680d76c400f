// The recorder's analysis room: what is known about a recording besides its samples. Every
// recording is metered for EBU R128 loudness as its chunks arrive (integrated loudness, loudness
// range and true peak go into the stored metadata; peak/RMS and momentary loudness go out in one
// `level` event per chunk); with the `vad` option, a voice activity detector (Silero VAD from
// @audex/vad-silero, or the model given; loaded in voice-model.ts) marks speech regions on the
// same timeline (gaps fed as silence, so regions are ms from the recording's first frame) and
// reports `speechStart`/`speechEnd` live. The stored audio is never touched. Analysis runs off the
// capture path: a chunk is only converted to float and queued, and the queue is analysed right
// after the current event-loop turn, once the buffer's readers (live streams) have their data.
// Recovery meters a journal read back from the spool (analyseBuffer).
import {
  createLoudnessMeter,
  createVoiceDetector,
  type LoudnessMeter,
  type LoudnessSummary,
  type SpeechEvent,
  type SpeechRegion,
  type VoiceDetector,
} from '@audex/analysis';
import type { FrameBuffer } from '@audex/buffer';
import { type CapturedChunk, type PcmShape, toFloat32 } from '@audex/pcm';
import { RecorderError } from './errors.js';
import { measureLevels } from './levels.js';
import type { Reporter } from './report.js';
import { loadVoiceModel, type VadSettings } from './voice-model.js';

/** What analysis adds to a recording's metadata. */
export interface AnalysisFacts {
  /** Loudness of the whole recording. */
  readonly loudness: LoudnessSummary;
  /** Speech regions, when the recorder runs with `vad`. */
  readonly speech: readonly SpeechRegion[] | undefined;
}

/** Frames per read when metering a recovered recording from the spool. */
const METER_PIECE_FRAMES = 32_768;
/**
 * Queued float samples past which the queue is analysed at once instead of after the turn, so
 * memory stays bounded when the event loop cannot keep up (16 MiB: over 40 s of 48 kHz stereo).
 */
const MAX_QUEUED_SAMPLES = 4 * 1024 * 1024;

/** What waits for analysis: silence for lost input, or a chunk (as float) whose level is sent. */
type Queued =
  | { readonly gapFrames: number }
  | { readonly samples: Float32Array; readonly frames: number; readonly time: number };

/** Live analysis of one recording. */
export class RecordingAnalysis {
  readonly #key: string;
  readonly #shape: PcmShape;
  readonly #meter: LoudnessMeter;
  readonly #vad: VoiceDetector | undefined;
  readonly #report: Reporter;
  /** The detector failed mid-recording: no regions are stored (a warning said so). */
  #vadFailed = false;
  #pending: Promise<unknown> = Promise.resolve();
  #queue: Queued[] = [];
  #queuedSamples = 0;
  #scheduled = false;

  private constructor(key: string, shape: PcmShape, vad: VoiceDetector | undefined, report: Reporter) {
    this.#key = key;
    this.#shape = shape;
    this.#meter = createLoudnessMeter(shape);
    this.#vad = vad;
    this.#report = report;
  }

  /**
   * Sets up the meter and, with `vad` settings, loads the voice model (the runtime once per process).
   * @throws {RecorderError} `MISSING_DEPENDENCY` when @audex/vad-silero is not installed;
   *   `ANALYSIS_FAILED` when the voice model cannot be loaded.
   */
  static async create(
    key: string,
    shape: PcmShape,
    vad: VadSettings | undefined,
    report: Reporter,
  ): Promise<RecordingAnalysis> {
    let detector: VoiceDetector | undefined;
    if (vad) {
      const model = await loadVoiceModel(vad);
      try {
        detector = await createVoiceDetector(shape, model, vad);
      } catch (error) {
        throw new RecorderError(
          'ANALYSIS_FAILED',
          `could not start voice activity detection: ${(error as Error).message}`,
          { key, cause: error },
        );
      }
    }
    return new RecordingAnalysis(key, shape, detector, report);
  }

  /**
   * Takes `gapFrames` of silence (lost input kept on the timeline) and then the chunk the buffer
   * accepted (if any). Only the conversion to float happens now (the source may reuse its buffer);
   * the metering, the voice detector and the chunk's `level` event follow right after the current
   * event-loop turn, in order.
   */
  add(chunk: CapturedChunk | undefined, gapFrames = 0): void {
    if (gapFrames > 0) {
      this.#queue.push({ gapFrames });
      this.#queuedSamples += gapFrames * this.#shape.channels;
    }
    if (chunk && chunk.frames > 0) {
      const samples = toFloat32(chunk.data, this.#shape.sampleFormat);
      this.#queue.push({ samples, frames: chunk.frames, time: chunk.time });
      this.#queuedSamples += samples.length;
    }
    if (this.#queuedSamples > MAX_QUEUED_SAMPLES) {
      this.#drain();
    } else if (!this.#scheduled && this.#queue.length > 0) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#drain();
      });
    }
  }

  /** Analyses everything queued, in order. */
  #drain(): void {
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    this.#queuedSamples = 0;
    const { channels } = this.#shape;
    for (const item of queue) {
      if ('gapFrames' in item) {
        const silence = new Float32Array(item.gapFrames * channels);
        this.#meter.write(silence);
        this.#detect(silence);
        continue;
      }
      this.#meter.write(item.samples);
      this.#detect(item.samples);
      if (this.#report.listens('level')) {
        this.#report.emit('level', {
          ...measureLevels(item.samples, channels, item.frames, item.time),
          momentaryLufs: this.#meter.momentaryLufs,
        });
      }
    }
  }

  #detect(data: Float32Array): void {
    const vad = this.#vad;
    if (!vad || this.#vadFailed) return;
    const run = vad.write(data).then(
      (events) => this.#emit(events),
      (error: unknown) => this.#fail(error),
    );
    this.#pending = run;
  }

  #emit(events: SpeechEvent[]): void {
    for (const event of events) {
      if (event.type === 'speechStart') {
        this.#report.emit('speechStart', { key: this.#key, startMs: event.startMs, atMs: event.atMs });
      } else {
        this.#report.emit('speechEnd', {
          key: this.#key,
          startMs: event.region.startMs,
          endMs: event.region.endMs,
          atMs: event.atMs,
        });
      }
    }
  }

  #fail(error: unknown): void {
    if (this.#vadFailed) return;
    this.#vadFailed = true;
    this.#report.warn({
      code: 'ANALYSIS_FAILED',
      message: `[audex/recorder] voice activity detection of ${JSON.stringify(this.#key)} failed (${(error as Error).message}); the recording goes on and is stored without speech regions`,
      cause: error,
    });
  }

  /** Whether this recording runs voice activity detection. */
  get detectsSpeech(): boolean {
    return this.#vad !== undefined;
  }

  /** Speech regions closed so far (all of them once {@link finish} resolved). */
  get speech(): readonly SpeechRegion[] {
    return this.#vad && !this.#vadFailed ? this.#vad.regions : [];
  }

  /** Ends the analysis (the detector closes an open region at the end) and returns its facts. */
  async finish(): Promise<AnalysisFacts> {
    this.#drain();
    if (this.#vad && !this.#vadFailed) {
      await this.#pending;
      try {
        this.#emit(await this.#vad.end());
      } catch (error) {
        this.#fail(error);
      }
    }
    return {
      loudness: this.#meter.summary(),
      speech: this.#vad && !this.#vadFailed ? [...this.#vad.regions] : undefined,
    };
  }
}

/**
 * Loudness (and, with `vad` settings, speech regions) of an ended buffer, read back from the spool
 * piece by piece: what recovery stores for a recording a crash interrupted. A detector that cannot
 * load leaves the regions out (the recording is saved all the same).
 */
export async function analyseBuffer(
  buffer: FrameBuffer,
  vad: VadSettings | undefined,
): Promise<AnalysisFacts> {
  const shape = { rate: buffer.rate, channels: buffer.channels, sampleFormat: buffer.sampleFormat };
  const meter = createLoudnessMeter(shape);
  const detector = vad
    ? await loadVoiceModel(vad)
        .then((model) => createVoiceDetector(shape, model, vad))
        .catch(() => undefined)
    : undefined;
  let detecting = detector !== undefined;
  for await (const piece of buffer.stream({ chunkFrames: METER_PIECE_FRAMES, endFrame: buffer.frameCount })) {
    meter.write(piece);
    if (detecting)
      detecting = await detector!.write(piece).then(
        () => true,
        () => false,
      );
  }
  if (detecting)
    detecting = await detector!.end().then(
      () => true,
      () => false,
    );
  return { loudness: meter.summary(), speech: detecting ? [...detector!.regions] : undefined };
}
