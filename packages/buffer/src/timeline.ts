// The timeline: anchors (frame, time) and gaps; maps wall-clock time to frame index and back.
import { BufferError } from './errors.js';

/** A point where a frame index is pinned to a wall-clock time. */
export interface TimelineAnchor {
  /** Frame index (per-channel sample index from the start of the recording). */
  frame: number;
  /** Capture time of that frame, in ms since the Unix epoch (fractional). */
  time: number;
}

/**
 * Input lost by the device, kept on the timeline as silence (zero frames) so that frame index and
 * time stay consistent: reads of a gap return silence of the right length.
 */
export interface Gap {
  /** First silence frame. */
  startFrame: number;
  /** Number of silence frames. */
  frames: number;
  /** Wall-clock time of `startFrame`, ms since the Unix epoch. */
  startTime: number;
  /** Length of the gap in ms (`frames / rate * 1000`). */
  durationMs: number;
}

/** Frames between drift-following anchors, in seconds of audio: drift is followed once a second. */
const ANCHOR_INTERVAL_S = 1;
/** A chunk later than expected by more than this (or half a chunk, if longer) marks lost input. */
const GAP_THRESHOLD_MS = 20;
/** New anchors never make a segment run slower than this fraction of the nominal rate. */
const MIN_SLOPE_FRACTION = 0.5;

/**
 * Maps frame index to wall-clock time and back: piecewise linear through anchors, nominal rate
 * after the last one. Lookups are binary searches, O(log anchors), in both directions.
 *
 * The placement policy ({@link Timeline.place}) turns chunk capture times into anchors and gaps:
 * - the first chunk anchors frame 0;
 * - a chunk later than expected by more than max(20 ms, half a chunk) — or by more than half a frame
 *   when it reports `overflow` — gets silence frames for the lost time in front of it and a gap;
 * - otherwise, at most once per second of audio, the chunk's time becomes a new anchor, so drift
 *   between the sample clock and the wall clock is followed. Anchor times only increase (a segment
 *   never runs slower than half the nominal rate): early timestamps never move time backwards.
 */
export class Timeline {
  /** Nominal sample rate in Hz. */
  readonly rate: number;
  readonly #msPerFrame: number;
  readonly #anchorInterval: number;
  #frames = new Float64Array(64);
  #times = new Float64Array(64);
  #count = 0;
  readonly #gaps: Gap[] = [];

  /** @param rate nominal sample rate in Hz. */
  constructor(rate: number) {
    this.rate = rate;
    this.#msPerFrame = 1000 / rate;
    this.#anchorInterval = Math.max(1, Math.round(rate * ANCHOR_INTERVAL_S));
  }

  /** Number of anchors. */
  get anchorCount(): number {
    return this.#count;
  }

  /** Gaps (lost input filled with silence), oldest first. */
  get gaps(): readonly Gap[] {
    return this.#gaps;
  }

  /** Time of frame 0, or null before the first anchor. */
  get startTime(): number | null {
    return this.#count === 0 ? null : this.#times[0]!;
  }

  /** A copy of the anchors from index `from` on. */
  anchors(from = 0): TimelineAnchor[] {
    const out: TimelineAnchor[] = [];
    for (let i = from; i < this.#count; i++) out.push({ frame: this.#frames[i]!, time: this.#times[i]! });
    return out;
  }

  /**
   * Adds an anchor after the last one.
   * @throws {BufferError} `INVALID_ARGUMENT` unless both frame and time are greater than the last
   * anchor's (the first anchor must be frame 0).
   */
  addAnchor(frame: number, time: number): void {
    const n = this.#count;
    const ok =
      Number.isFinite(time) &&
      Number.isInteger(frame) &&
      (n === 0 ? frame === 0 : frame > this.#frames[n - 1]! && time > this.#times[n - 1]!);
    if (!ok) {
      throw new BufferError(
        'INVALID_ARGUMENT',
        `anchor (frame ${frame}, time ${time}) must come after the last anchor and the first must be frame 0`,
      );
    }
    if (n === this.#frames.length) {
      const frames = new Float64Array(n * 2);
      frames.set(this.#frames);
      this.#frames = frames;
      const times = new Float64Array(n * 2);
      times.set(this.#times);
      this.#times = times;
    }
    this.#frames[n] = frame;
    this.#times[n] = time;
    this.#count = n + 1;
  }

  /**
   * Records a gap (used by recovery; {@link Timeline.place} and {@link Timeline.fill} record their
   * own). A gap that starts where the last one ends extends it: one outage stays one gap.
   */
  addGap(gap: Gap): void {
    const last = this.#gaps[this.#gaps.length - 1];
    if (last !== undefined && last.startFrame + last.frames === gap.startFrame) {
      last.frames += gap.frames;
      last.durationMs += gap.durationMs;
      return;
    }
    this.#gaps.push({ ...gap });
  }

  /**
   * Extends the timeline from `frame` (its current end) with lost input up to `time`, at the
   * nominal rate: for input that cannot arrive at all (a device away), so readers keep their
   * clock while it is gone. Recorded as a gap, merged with one that ends at `frame`; no anchor is
   * added (the nominal rate after the last anchor already places these frames).
   * @returns the silence frames to insert (0 before the first anchor or when `time` is not past the end).
   */
  fill(frame: number, time: number): number {
    if (this.#count === 0) return 0;
    const expected = this.timeOf(frame);
    const silence = Math.floor((time - expected) / this.#msPerFrame);
    if (!(silence > 0)) return 0;
    this.addGap({
      startFrame: frame,
      frames: silence,
      startTime: expected,
      durationMs: silence * this.#msPerFrame,
    });
    return silence;
  }

  /**
   * Places a chunk of `frames` frames captured at `time` that would start at frame `frame`
   * (the current end of the timeline), updating anchors and gaps.
   * @returns the number of silence frames to insert before the chunk (0 when nothing was lost).
   */
  place(frame: number, time: number, frames: number, overflow: boolean): number {
    if (this.#count === 0) {
      this.addAnchor(frame, time);
      return 0;
    }
    const expected = this.timeOf(frame);
    const lead = time - expected;
    const threshold = overflow
      ? this.#msPerFrame / 2
      : Math.max(GAP_THRESHOLD_MS, (frames * this.#msPerFrame) / 2);
    const lastFrame = this.#frames[this.#count - 1]!;
    if (lead > threshold) {
      const silence = Math.round(lead / this.#msPerFrame);
      if (silence > 0) {
        this.addGap({
          startFrame: frame,
          frames: silence,
          startTime: expected,
          durationMs: silence * this.#msPerFrame,
        });
        // time > expected >= the last anchor's time, so the new anchor keeps time increasing.
        this.addAnchor(frame + silence, time);
        return silence;
      }
    }
    if (frame - lastFrame >= this.#anchorInterval) {
      const lastTime = this.#times[this.#count - 1]!;
      const floor = lastTime + (frame - lastFrame) * this.#msPerFrame * MIN_SLOPE_FRACTION;
      this.addAnchor(frame, Math.max(time, floor));
    }
    return 0;
  }

  /** Index of the last anchor whose frame is <= `frame` (0 when before all). */
  #segmentOfFrame(frame: number): number {
    let lo = 0;
    let hi = this.#count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#frames[mid]! <= frame) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Index of the last anchor whose time is <= `time` (0 when before all). */
  #segmentOfTime(time: number): number {
    let lo = 0;
    let hi = this.#count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#times[mid]! <= time) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  #timeIn(i: number, frame: number): number {
    const f0 = this.#frames[i]!;
    const t0 = this.#times[i]!;
    if (i + 1 >= this.#count) return t0 + (frame - f0) * this.#msPerFrame;
    const f1 = this.#frames[i + 1]!;
    const t1 = this.#times[i + 1]!;
    return t0 + ((frame - f0) * (t1 - t0)) / (f1 - f0);
  }

  /**
   * Capture time of `frame` in ms since the Unix epoch: linear between the surrounding anchors,
   * nominal rate after the last one (and before frame 0).
   * @throws {BufferError} `OUT_OF_RANGE` before the first anchor exists.
   */
  timeOf(frame: number): number {
    if (this.#count === 0) {
      throw new BufferError('OUT_OF_RANGE', 'the timeline is empty: no chunk has been appended yet');
    }
    return this.#timeIn(this.#segmentOfFrame(frame), frame);
  }

  /**
   * The first frame (>= 0) whose capture time is >= `time`. Exact with respect to
   * {@link Timeline.timeOf}: `timeOf(f) >= time` and, for f > 0, `timeOf(f - 1) < time`.
   * @throws {BufferError} `OUT_OF_RANGE` before the first anchor exists.
   */
  frameAt(time: number): number {
    if (this.#count === 0) {
      throw new BufferError('OUT_OF_RANGE', 'the timeline is empty: no chunk has been appended yet');
    }
    if (time <= this.#times[0]!) return 0;
    const i = this.#segmentOfTime(time);
    const f0 = this.#frames[i]!;
    const t0 = this.#times[i]!;
    const slope =
      i + 1 < this.#count ? (this.#frames[i + 1]! - f0) / (this.#times[i + 1]! - t0) : 1 / this.#msPerFrame;
    let f = Math.max(0, Math.ceil(f0 + (time - t0) * slope));
    // The estimate is within a frame of the answer; settle it against timeOf so both directions agree.
    while (this.timeOf(f) < time) f++;
    while (f > 0 && this.timeOf(f - 1) >= time) f--;
    return f;
  }
}
