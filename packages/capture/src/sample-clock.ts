/**
 * Maps device frame indices to wall-clock time: `time = anchor + frame / rate`, where the anchor
 * (the wall time of frame 0) is estimated from the callback clock and re-estimated continuously to
 * follow drift between the device clock and the system clock.
 *
 * Every callback gives an estimate `callbackWallTime - frames / rate - inputLatency` of the anchor;
 * scheduling delay (a late-delivered burst of callbacks included) only ever makes such an estimate
 * late, so the minimum is the best one. Two phases:
 *
 * 1. _free_ (until {@link SampleClock.lock}): the anchor is simply the minimum of all estimates, so
 *    a late first burst is corrected as soon as one callback comes on time. Nothing has been
 *    timestamped yet, so the anchor may move freely.
 * 2. _locked_: the anchor slews towards the minimum over a sliding window by at most
 *    {@link SampleClock.MAX_SLEW} of elapsed audio time, so chunk times never jump and always
 *    increase. A window minimum far above the anchor means the device lost input (frames missing
 *    for elapsed time): the anchor jumps forward and the caller is told, to mark an overflow.
 */
export class SampleClock {
  /** Largest correction per unit of audio time once locked: 0.2 %, far above real clock drift (< 0.01 %). */
  static readonly MAX_SLEW = 0.002;
  private anchor = Number.NaN;
  private locked = false;
  private lastFrames = 0;
  private windowMin = Number.POSITIVE_INFINITY;
  private windowStartFrames = 0;
  private prevWindowMin = Number.POSITIVE_INFINITY;
  private lastTime = Number.NEGATIVE_INFINITY;
  private observations = 0;
  private readonly monoToWall: number;
  private readonly windowFrames: number;
  private readonly gapMs: number;

  /** @param rate sample rate in Hz. */
  constructor(private readonly rate: number) {
    // CLOCK_MONOTONIC (process.hrtime, the native callback clock) to ms since the Unix epoch.
    this.monoToWall = performance.timeOrigin + performance.now() - Number(process.hrtime.bigint()) / 1e6;
    this.windowFrames = rate * 2;
    this.gapMs = 150;
  }

  /** Callback readings observed so far. */
  get observed(): number {
    return this.observations;
  }

  /** Whether {@link SampleClock.lock} was called (the anchor only slews from then on). */
  get isLocked(): boolean {
    return this.locked;
  }

  /**
   * Feeds one callback reading: its CLOCK_MONOTONIC time in ms, the device frame count after it
   * and the input latency in ms. Returns true when input was evidently lost before it (locked phase only).
   */
  observe(callbackMonoMs: number, framesAfter: number, latencyMs: number): boolean {
    const estimate = callbackMonoMs + this.monoToWall - (framesAfter / this.rate) * 1000 - latencyMs;
    this.observations++;
    if (!this.locked) {
      // free phase: the earliest estimate wins outright
      if (!(estimate >= this.anchor)) this.anchor = estimate;
      this.lastFrames = framesAfter;
      return false;
    }
    this.windowMin = Math.min(this.windowMin, estimate);
    const best = Math.min(this.windowMin, this.prevWindowMin);
    const elapsedMs = ((framesAfter - this.lastFrames) / this.rate) * 1000;
    this.lastFrames = framesAfter;
    let gap = false;
    // a recent window entirely later than the anchor by much: frames went missing
    if (this.windowMin - this.anchor > this.gapMs && framesAfter - this.windowStartFrames > this.rate / 4) {
      this.anchor = this.windowMin;
      this.prevWindowMin = this.windowMin;
      gap = true;
    } else {
      const step = Math.max(
        -SampleClock.MAX_SLEW * elapsedMs,
        Math.min(SampleClock.MAX_SLEW * elapsedMs, best - this.anchor),
      );
      this.anchor += step;
    }
    if (framesAfter - this.windowStartFrames >= this.windowFrames) {
      this.prevWindowMin = this.windowMin;
      this.windowMin = Number.POSITIVE_INFINITY;
      this.windowStartFrames = framesAfter;
    }
    return gap;
  }

  /**
   * Ends the free phase: from now on the anchor only slews (and jumps forward on lost input).
   * Call it before the first frame is timestamped. Throws if nothing was observed yet.
   */
  lock(): void {
    if (Number.isNaN(this.anchor)) throw new Error('SampleClock.lock() before any observation');
    if (this.locked) return;
    this.locked = true;
    this.windowMin = Number.POSITIVE_INFINITY;
    this.prevWindowMin = this.anchor;
    this.windowStartFrames = this.lastFrames;
  }

  /** The device frame index (fractional) captured at wall-clock time `time` (ms since the Unix epoch), by the current anchor. */
  frameAt(time: number): number {
    return ((time - this.anchor) * this.rate) / 1000;
  }

  /** Wall-clock time in ms of device frame `frame`; strictly increasing across calls with increasing frames. */
  timeOf(frame: number): number {
    let t = this.anchor + (frame / this.rate) * 1000;
    if (!(t > this.lastTime)) t = this.lastTime + 1e-3;
    this.lastTime = t;
    return t;
  }
}
