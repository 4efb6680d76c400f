// Turns per-window speech probabilities into speech regions as soon as each edge is decidable:
// hysteresis (speech above `threshold`, silence below `threshold - 0.15`), a region only once it has
// lasted `minSpeechMs`, closed after `minSilenceMs` of silence, padded by `padMs` on both sides
// (pre-roll and hang-over) without overlapping its neighbour or leaving the audio.

/** A stretch of speech, in ms from the start of the audio. */
export interface SpeechRegion {
  /** Start (pre-roll included), ms. */
  readonly startMs: number;
  /** End (hang-over included), ms. */
  readonly endMs: number;
}

/** What the detector reports, in the order it happens. */
export type SpeechEvent =
  | {
      /** Speech has started (confirmed after `minSpeechMs`). */
      readonly type: 'speechStart';
      /** Where the region starts, ms from the start of the audio (pre-roll included). */
      readonly startMs: number;
      /** Audio time at which it was decided, ms. */
      readonly atMs: number;
    }
  | {
      /** Speech has ended (after `minSilenceMs` of silence, or at the end of the audio). */
      readonly type: 'speechEnd';
      /** The whole region. */
      readonly region: SpeechRegion;
      /** Audio time at which it was decided, ms. */
      readonly atMs: number;
    };

/** Resolved region settings. */
export interface RegionSettings {
  readonly threshold: number;
  readonly minSpeechMs: number;
  readonly minSilenceMs: number;
  readonly padMs: number;
}

export class RegionTracker {
  readonly #s: RegionSettings;
  readonly #negative: number;
  /** 'idle', or a candidate not yet confirmed, or confirmed speech. */
  #phase: 'idle' | 'candidate' | 'speech' = 'idle';
  #speechStart = 0;
  #lastSpeech = 0;
  #regionStart = 0;
  #previousEnd = 0;

  constructor(settings: RegionSettings) {
    this.#s = settings;
    this.#negative = Math.max(0.01, settings.threshold - 0.15);
  }

  /** Whether a confirmed region is open. */
  get speaking(): boolean {
    return this.#phase === 'speech';
  }

  /** Feeds the probability of the window [fromMs, toMs). */
  push(probability: number, fromMs: number, toMs: number): SpeechEvent[] {
    const s = this.#s;
    if (this.#phase === 'idle') {
      if (probability >= s.threshold) {
        this.#phase = 'candidate';
        this.#speechStart = fromMs;
        this.#lastSpeech = toMs;
      }
    } else if (probability >= this.#negative) {
      this.#lastSpeech = toMs;
    } else if (toMs - this.#lastSpeech >= s.minSilenceMs) {
      const events = this.#phase === 'speech' ? [this.#close(this.#lastSpeech + s.padMs, toMs)] : [];
      this.#phase = 'idle';
      return events;
    }
    if (this.#phase === 'candidate' && this.#lastSpeech - this.#speechStart >= s.minSpeechMs) {
      this.#phase = 'speech';
      this.#regionStart = Math.round(Math.max(this.#previousEnd, this.#speechStart - s.padMs, 0));
      return [{ type: 'speechStart', startMs: this.#regionStart, atMs: toMs }];
    }
    return [];
  }

  /** The audio ended at `endMs`: closes a confirmed region (its hang-over cut at the end). */
  end(endMs: number): SpeechEvent[] {
    const phase = this.#phase;
    this.#phase = 'idle';
    if (phase !== 'speech') return [];
    return [this.#close(Math.min(this.#lastSpeech + this.#s.padMs, endMs), endMs)];
  }

  #close(endMs: number, atMs: number): SpeechEvent {
    const region = { startMs: this.#regionStart, endMs: Math.round(endMs) };
    this.#previousEnd = region.endMs;
    return { type: 'speechEnd', region, atMs };
  }
}
