// The recorder's analysis room: what is known about a recording besides its samples. Every
// recording is metered for EBU R128 loudness as its chunks arrive (integrated loudness, loudness
// range and true peak go into the stored metadata, momentary loudness into each `level` event);
// with the `vad` option, a voice activity detector (Silero VAD from @audex/vad-silero, or the
// model given; loaded in voice-model.ts) marks speech regions on the same timeline (gaps fed as
// silence, so regions are ms from the recording's first frame) and reports
// `speechStart`/`speechEnd` live. The stored audio is never touched. Recovery meters a journal
// read back from the spool (analyseBuffer).
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
import { bytesPerFrame, type PcmShape } from '@audex/pcm';
import { RecorderError } from './errors.js';
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

  /** Momentary loudness (last 400 ms) in LUFS; `-Infinity` before 400 ms or in silence. */
  get momentaryLufs(): number {
    return this.#meter.momentaryLufs;
  }

  /** Adds `gapFrames` of silence (lost input kept on the timeline), then the chunk's samples. */
  write(data: Uint8Array, gapFrames = 0): void {
    if (gapFrames > 0) {
      const silence = new Uint8Array(
        gapFrames * bytesPerFrame(this.#shape.sampleFormat, this.#shape.channels),
      );
      this.#meter.write(silence);
      this.#detect(silence);
    }
    this.#meter.write(data);
    this.#detect(data);
  }

  #detect(data: Uint8Array): void {
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
