// Owns the JavaScript face of one open input stream: reading what the callback put in the ring,
// with the counters and callback times of the same instant, and closing it once.
import type { NativeStream } from './binding.js';

// Indices of the state array the native read() fills (capture.h StateIndex).
const FRAMES = 0;
const DROPPED = 1;
const OVERFLOWS = 2;
const CALLBACKS = 3;
const FINISHED = 4;
const TIMINGS = 5;
const STATE_LENGTH = 6;
// The native timing ring holds 256 readings; read() takes them all.
const MAX_TIMINGS = 256;

/** What one {@link InputStream.read} returns. */
export interface InputRead {
  /**
   * Every whole frame waiting in the ring, interleaved in the stream's sample format, or `null`
   * when none is. Frames arrive in device order; lost frames are counted in `dropped`, never
   * silently skipped.
   */
  data: Buffer | null;
  /** Device frames delivered so far, dropped ones included (the device frame index after the newest callback). */
  frames: number;
  /**
   * Frames dropped so far because the ring was full (JavaScript did not read for longer than the
   * ring holds). After a drop, nothing is written until everything before it was read, so the
   * frames dropped since the previous read come right after this read's `data`.
   */
  dropped: number;
  /** Callbacks PortAudio flagged with an input overflow so far (the device or audio server lost input). */
  overflows: number;
  /** PortAudio callbacks so far. */
  callbacks: number;
  /** True once PortAudio reported the stream finished: the device failed or was closed. */
  finished: boolean;
  /**
   * Callback readings since the previous read (up to the newest 256), as pairs
   * `[CLOCK_MONOTONIC ms, device frames after that callback]`: the clock of `process.hrtime`.
   */
  timings: Float64Array;
}

/**
 * An open PortAudio input stream. Its callback (on PortAudio's audio thread) copies into a
 * preallocated ring and never allocates, locks or waits; it wakes JavaScript (the `onWake`
 * passed to {@link openInput}) once `nextWakeFrames` frames are waiting, when input is lost and
 * when the stream finishes. Nothing polls.
 */
export class InputStream {
  readonly #native: NativeStream;
  readonly #state = new Float64Array(STATE_LENGTH);
  readonly #timings = new Float64Array(MAX_TIMINGS * 2);
  #closing: Promise<void> | undefined;
  #abandoned = false;

  /** @internal Created by {@link openInput}. */
  constructor(native: NativeStream) {
    this.#native = native;
  }

  /** The input latency PortAudio reports for the open stream, in ms. */
  get latencyMs(): number {
    return this.#native.latencyMs;
  }

  /** Whether {@link InputStream.close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Takes everything waiting in the ring (whole frames) with the counters of the same instant.
   * Never blocks. `nextWakeFrames` (default 1) sets when the next wake-up comes: once that many
   * frames are waiting.
   */
  read(nextWakeFrames = 1): InputRead {
    const wake = Math.max(1, Math.min(2 ** 30, Math.floor(nextWakeFrames)));
    const data = this.#native.read(this.#state, this.#timings, Number.isFinite(wake) ? wake : 1);
    const s = this.#state;
    return {
      data,
      frames: s[FRAMES]!,
      dropped: s[DROPPED]!,
      overflows: s[OVERFLOWS]!,
      callbacks: s[CALLBACKS]!,
      finished: s[FINISHED] === 1,
      timings: this.#timings.slice(0, s[TIMINGS]! * 2),
    };
  }

  /**
   * Sets when the next wake-up comes: once `frames` frames wait in the ring (at least 1). For a
   * reader that only knows its next threshold after handling a read (e.g. the frames that complete
   * its pending chunk).
   */
  setWakeFrames(frames: number): void {
    const n = Math.max(1, Math.min(2 ** 30, Math.floor(frames)));
    this.#native.setWakeFrames(Number.isFinite(n) ? n : 1);
  }

  /**
   * True when {@link InputStream.close} gave up on a stream whose abort did not finish within 2 s
   * (libpulse can deadlock when the PulseAudio server dies mid-stream): the stream is left to
   * itself, PortAudio stays initialised (device lists are no longer rescanned in this process) and
   * everything else goes on.
   */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /**
   * Aborts and closes the stream (on the PortAudio thread, after anything queued there before)
   * and releases PortAudio; resolves within ~2 s even when the audio system hangs (see
   * {@link InputStream.abandoned}). Every call returns the same promise. What was still in the
   * ring stays readable.
   */
  close(): Promise<void> {
    this.#closing ??= this.#native.close().then((closed) => {
      this.#abandoned = closed === false;
    });
    return this.#closing;
  }
}
