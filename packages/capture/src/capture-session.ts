// Owns one PortAudio capture from open to close: the warm-up that fixes the sample clock, turning
// each wake-up's ring contents into chunks cut exactly at the start and stop frames, the drain on
// stop, and the detection of a lost device.

import { type InputRead, type InputStream, NaudiodonError, openInput } from '@audex/naudiodon';
import { bytesPerFrame, type CapturedChunk, convertSampleFormat, type SampleFormat } from '@audex/pcm';
import { CaptureError } from './errors.js';
import { SampleClock } from './sample-clock.js';
import type { InputDevice } from './types.js';

// After audio starts flowing, the clock's anchor stays free for this long (and at least this many
// callbacks) so that a late first burst does not set it: ~0.1 s on top of the audio system's start-up.
const WARMUP_MS = 120;
const WARMUP_CALLBACKS = 4;
// stop() waits at most this long for frames captured before the stop instant to arrive.
const DRAIN_WAIT_MS = 300;
// Never wait longer than this for PortAudio to close a stream (it runs on PortAudio's own
// thread, so a later device scan still waits for it there, never overlaps it).
const CLOSE_WAIT_MS = 3000;

/** What a {@link CaptureSession} opens: the resolved shape and device. */
export interface SessionSpec {
  device: InputDevice;
  rate: number;
  channels: number;
  /** Frames per emitted chunk. */
  chunk: number;
  sampleFormat: SampleFormat;
  startTimeoutMs: number;
  stallTimeoutMs: number;
  /** Ring capacity in frames. */
  ringFrames: number;
  /** 0 = the device's default high input latency. */
  suggestedLatencyMs: number;
}

/** Where a session delivers. */
export interface SessionSink {
  chunk(chunk: CapturedChunk): void;
  /** The capture ended by itself (`DEVICE_LOST`); no chunk follows. */
  fault(error: CaptureError): void;
}

// PortAudio's paInt8 through ALSA's pulse plugin delivers garbage (measured here), so int8 is
// captured as int16 and narrowed here.
const NATIVE_FORMAT: Record<SampleFormat, SampleFormat> = {
  int8: 'int16',
  int16: 'int16',
  int24: 'int24',
  int32: 'int32',
  float32: 'float32',
};

type Phase = 'warming' | 'capturing' | 'draining' | 'ended';

/** One open input stream, from `open()` to its close. */
export class CaptureSession {
  readonly #spec: SessionSpec;
  readonly #sink: SessionSink;
  readonly #clock: SampleClock;
  readonly #frameBytes: number;
  readonly #nativeFrameBytes: number;
  #stream: InputStream | undefined;
  #phase: Phase = 'warming';
  #closed: Promise<void> | undefined;

  // chunk assembly
  #pending: Uint8Array;
  #pendingBytes = 0;
  #pendingStart = 0; // device frame index of #pending[0]
  /** Device frames received or skipped (cut off or dropped) so far. */
  #received = 0;
  // Frames delivered are exactly [#firstFrame, #endFrame): both cuts come from the sample clock
  // (the frame captured when start() resolves / when stop() is called), not from wake-up timing.
  #firstFrame = Number.POSITIVE_INFINITY;
  #endFrame = Number.POSITIVE_INFINITY;

  // what the stream reported so far
  #seenOverflows = 0;
  #seenDropped = 0;
  #seenCallbacks = 0;
  #overflowNext = false;
  #overflowChunks = 0;

  // warm-up and drain
  #held: InputRead[] = [];
  #flowingAt = Number.NaN;
  #warmed: { resolve: () => void; reject: (error: Error) => void } | undefined;
  #drained: (() => void) | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #lastProgress = 0;

  private constructor(spec: SessionSpec, sink: SessionSink) {
    this.#spec = spec;
    this.#sink = sink;
    this.#clock = new SampleClock(spec.rate);
    this.#frameBytes = bytesPerFrame(spec.sampleFormat, spec.channels);
    this.#nativeFrameBytes = bytesPerFrame(NATIVE_FORMAT[spec.sampleFormat], spec.channels);
    this.#pending = new Uint8Array(spec.chunk * this.#frameBytes);
  }

  /**
   * Opens the stream and resolves once audio is really flowing and the clock's anchor is fixed;
   * audio starts with the frame the clock puts at that instant.
   *
   * @throws {CaptureError} `OPEN_FAILED` or `START_TIMEOUT`; nothing stays open after a throw.
   */
  static async open(spec: SessionSpec, sink: SessionSink): Promise<CaptureSession> {
    const session = new CaptureSession(spec, sink);
    await session.#open();
    return session;
  }

  /** Chunks marked `overflow` so far. */
  get overflowChunks(): number {
    return this.#overflowChunks;
  }

  async #open(): Promise<void> {
    const { device, sampleFormat, channels, rate } = this.#spec;
    try {
      this.#stream = await openInput(
        {
          deviceId: device.index,
          channels,
          sampleFormat: NATIVE_FORMAT[sampleFormat],
          sampleRate: rate,
          framesPerBuffer: callbackFrames(rate),
          ringFrames: this.#spec.ringFrames,
          suggestedLatencyMs: Math.round(this.#spec.suggestedLatencyMs),
          wakeFrames: 1, // every callback while warming up
        },
        () => this.#onWake(),
      );
    } catch (error) {
      const reason =
        error instanceof NaudiodonError && error.cause instanceof Error
          ? error.cause.message
          : String((error as Error).message);
      const said = error instanceof NaudiodonError ? error.diagnostics : [];
      throw new CaptureError(
        'OPEN_FAILED',
        `cannot open input device ${device.index} "${device.name}" (${device.hostApi}) with ${sampleFormat}, ${channels} ch, ${rate} Hz: ${reason.replace(/^\[audex\/naudiodon\] /, '')}; the device's default rate is ${device.defaultRate} Hz and it has ${device.channels} input channels${said.length > 0 ? `; the audio system said: ${said.join(' | ')}` : ''}`,
        { deviceIndex: device.index, cause: error },
      );
    }
    // Wait for audio to flow: the audio system may take a while (PulseAudio's null sink renders
    // in blocks of up to 2 s until a client asks for low latency). Then keep reading for a short
    // warm-up while the clock's anchor is still free: the first callbacks can come as a late burst,
    // and only callbacks that come on time give the true anchor (estimates are only ever late).
    let timeout: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#warmed = { resolve, reject };
        timeout = setTimeout(() => {
          reject(
            new CaptureError(
              'START_TIMEOUT',
              `input device ${device.index} "${device.name}" (${device.hostApi}) delivered no audio within ${this.#spec.startTimeoutMs} ms of opening (callbacks so far: ${this.#seenCallbacks})`,
              { deviceIndex: device.index },
            ),
          );
        }, this.#spec.startTimeoutMs);
        this.#onWake(); // anything that came before the handler was in place
      });
    } catch (error) {
      this.#phase = 'ended';
      await this.close();
      throw error;
    } finally {
      clearTimeout(timeout);
      this.#warmed = undefined;
    }
    // Audio starts when start() resolves: the frame the sample clock puts at this instant.
    this.#clock.lock();
    this.#firstFrame = Math.max(0, Math.round(this.#clock.frameAt(Date.now())));
    this.#phase = 'capturing';
    for (const r of this.#held) this.#consume(r);
    this.#held = [];
    this.#lastProgress = performance.now();
    this.#stallTimer = setTimeout(() => this.#checkStall(), this.#spec.stallTimeoutMs);
    // The next wake-up (still set to every callback) reads in the capturing phase, so the first
    // fault can only come after start() has resolved.
  }

  /**
   * Delivers every frame captured up to `stopAt` (ms since the epoch, by the sample clock),
   * waiting at most 300 ms for them to come through the input latency, then a last partial chunk,
   * and closes the stream.
   */
  async stop(stopAt: number): Promise<void> {
    if (this.#phase === 'capturing') {
      this.#phase = 'draining';
      clearTimeout(this.#stallTimer);
      this.#endFrame = Math.max(this.#firstFrame, Math.round(this.#clock.frameAt(stopAt)));
      this.#read();
      if (this.#phase === 'draining' && this.#received < this.#endFrame) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          this.#drained = resolve;
          timer = setTimeout(resolve, DRAIN_WAIT_MS);
        });
        clearTimeout(timer);
        this.#drained = undefined;
      }
      if (this.#phase === 'draining') {
        this.#phase = 'ended';
        this.#flushPartial();
      }
    }
    this.#phase = 'ended';
    await this.close();
  }

  /** Closes the stream (once; waits at most 3 s). */
  close(): Promise<void> {
    clearTimeout(this.#stallTimer);
    if (!this.#closed) {
      const stream = this.#stream;
      let timer: NodeJS.Timeout | undefined;
      this.#closed = stream
        ? Promise.race([
            stream.close().catch(() => {}),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, CLOSE_WAIT_MS);
            }),
          ]).finally(() => clearTimeout(timer))
        : Promise.resolve();
    }
    return this.#closed;
  }

  #onWake(): void {
    if (this.#phase === 'warming') this.#warmUp();
    else if (this.#phase === 'capturing' || this.#phase === 'draining') this.#read();
  }

  #warmUp(): void {
    if (!this.#stream || !this.#warmed) return;
    const r = this.#stream.read(1);
    this.#observe(r);
    if (r.data || r.dropped > 0) this.#held.push(r);
    const now = performance.now();
    if (Number.isNaN(this.#flowingAt) && r.frames > 0) this.#flowingAt = now;
    if (
      !Number.isNaN(this.#flowingAt) &&
      now - this.#flowingAt >= WARMUP_MS &&
      this.#clock.observed >= WARMUP_CALLBACKS
    )
      this.#warmed.resolve();
    else if (r.finished) {
      const { device } = this.#spec;
      this.#warmed.reject(
        new CaptureError(
          'OPEN_FAILED',
          `input device ${device.index} "${device.name}" (${device.hostApi}) stopped while starting (callbacks so far: ${r.callbacks})`,
          { deviceIndex: device.index },
        ),
      );
    }
  }

  /** Takes what the ring holds and asks to be woken once the pending chunk can be completed. */
  #read(): void {
    if (!this.#stream) return;
    const r = this.#stream.read(this.#spec.chunk);
    this.#observe(r);
    this.#consume(r);
    if (this.#phase === 'draining' && this.#received >= this.#endFrame) {
      this.#drained?.();
      return;
    }
    if (r.finished && r.data === null) {
      this.#lost('the stream is no longer active');
      return;
    }
    // Wake once the frames that complete the pending chunk are in (after any still to be cut
    // before the first delivered frame), or, draining, the frames up to the stop frame. Set after
    // consuming: the threshold depends on what this read added to the pending chunk.
    const toCut = Math.max(0, this.#firstFrame - this.#received);
    this.#stream.setWakeFrames(
      this.#phase === 'draining'
        ? Math.max(1, this.#endFrame - this.#received)
        : toCut + this.#spec.chunk - this.#pendingBytes / this.#frameBytes,
    );
  }

  #checkStall(): void {
    if (this.#phase !== 'capturing') return;
    this.#read();
    if (this.#phase !== 'capturing') return;
    const silentFor = performance.now() - this.#lastProgress;
    if (silentFor >= this.#spec.stallTimeoutMs) {
      this.#lost(`nothing for ${Math.round(silentFor)} ms (stream still open)`);
      return;
    }
    this.#stallTimer = setTimeout(() => this.#checkStall(), this.#spec.stallTimeoutMs - silentFor);
  }

  #lost(why: string): void {
    if (this.#phase === 'ended') return;
    const { device } = this.#spec;
    this.#phase = 'ended';
    this.#drained?.();
    this.#flushPartial();
    void this.close();
    this.#sink.fault(
      new CaptureError(
        'DEVICE_LOST',
        `input device ${device.index} "${device.name}" (${device.hostApi}) stopped delivering audio: ${why}; the device was unplugged or its audio server died`,
        { deviceIndex: device.index },
      ),
    );
  }

  /** Feeds the callback readings to the clock; notes progress and overflow flags. */
  #observe(r: InputRead): void {
    if (r.callbacks !== this.#seenCallbacks) {
      this.#seenCallbacks = r.callbacks;
      this.#lastProgress = performance.now();
    }
    const latencyMs = this.#stream?.latencyMs ?? 0;
    const t = r.timings;
    for (let i = 0; i + 1 < t.length; i += 2) {
      if (this.#clock.observe(t[i]!, t[i + 1]!, latencyMs)) this.#overflowNext = true;
    }
    if (r.overflows !== this.#seenOverflows) {
      this.#seenOverflows = r.overflows;
      if (this.#phase !== 'warming') this.#overflowNext = true;
    }
  }

  /** Cuts one read's frames to [firstFrame, endFrame) and assembles them into chunks. */
  #consume(r: InputRead): void {
    const nfb = this.#nativeFrameBytes;
    const buf = r.data;
    const total = buf ? buf.length / nfb : 0;
    if (buf && total > 0) {
      const from = Math.min(total, Math.max(0, this.#firstFrame - this.#received));
      const to = Math.max(from, Math.min(total, this.#endFrame - this.#received));
      this.#received += from;
      if (to > from) {
        const raw = buf.subarray(from * nfb, to * nfb);
        this.#append(this.#spec.sampleFormat === 'int8' ? convertSampleFormat(raw, 'int16', 'int8') : raw);
      }
      this.#received += total - to;
    }
    if (r.dropped !== this.#seenDropped) {
      // The ring was full: the frames after this read's data never arrived (after a drop the
      // callback writes nothing until everything before it was read). Keep the gap on the timeline.
      this.#flushPartial();
      this.#received += r.dropped - this.#seenDropped;
      this.#seenDropped = r.dropped;
      this.#overflowNext = true;
    }
  }

  #append(data: Uint8Array): void {
    const fb = this.#frameBytes;
    let offset = 0;
    while (offset < data.length) {
      if (this.#pendingBytes === 0) this.#pendingStart = this.#received;
      const n = Math.min(data.length - offset, this.#pending.length - this.#pendingBytes);
      this.#pending.set(data.subarray(offset, offset + n), this.#pendingBytes);
      this.#pendingBytes += n;
      offset += n;
      this.#received += n / fb;
      if (this.#pendingBytes === this.#pending.length) {
        const full = this.#pending;
        this.#pending = new Uint8Array(this.#spec.chunk * fb);
        this.#pendingBytes = 0;
        this.#emit(full, this.#pendingStart, this.#spec.chunk);
      }
    }
  }

  #flushPartial(): void {
    if (this.#pendingBytes === 0) return;
    const bytes = this.#pending.slice(0, this.#pendingBytes);
    const frames = this.#pendingBytes / this.#frameBytes;
    this.#pendingBytes = 0;
    this.#emit(bytes, this.#pendingStart, frames);
  }

  #emit(data: Uint8Array, startFrame: number, frames: number): void {
    const out: CapturedChunk = { data, frames, time: this.#clock.timeOf(startFrame) };
    if (this.#overflowNext) {
      out.overflow = true;
      this.#overflowNext = false;
      this.#overflowChunks++;
    }
    this.#sink.chunk(out);
  }
}

/**
 * PortAudio callback size: a whole number of milliseconds, at least 10 ms (a fine clock reading,
 * ~100 callbacks/s at most). Measured on ALSA's pulse plugin: with periods that are not whole
 * milliseconds (1024 frames at 48 kHz, 1103 at 44.1 kHz) it delivers ~0.1 % more frames than time
 * passes and then resyncs with a ~25 ms jump, which the sample clock would have to chase; 10 and
 * 25 ms periods keep the callback clock steady to 0.1 ms over minutes.
 */
export function callbackFrames(rate: number): number {
  if (!Number.isInteger(rate)) return Math.round(rate * 0.01);
  let a = rate;
  let b = 1000;
  while (b !== 0) [a, b] = [b, a % b];
  const stepMs = 1000 / a; // the shortest whole-ms period that is a whole number of frames
  const ms = stepMs * Math.ceil(10 / stepMs);
  return ms <= 50 ? (rate * ms) / 1000 : Math.round(rate * 0.01);
}
