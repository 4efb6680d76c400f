import { EventEmitter } from 'node:events';
import {
  type AudioConfig,
  bytesPerFrame,
  type CapturedChunk,
  convertSampleFormat,
  type SampleFormat,
} from '@audex/pcm';
import { resolveCaptureConfig } from './config.js';
import { CaptureError } from './errors.js';
import {
  loadNaudiodon,
  type NativeAudioIO,
  type NativeInputOptions,
  type NativeReadResult,
} from './naudiodon-binding.js';
import { SampleClock } from './sample-clock.js';
import type { AudioSource, CaptureEvents, CaptureStatus, InputDevice } from './types.js';

/** Options of {@link PortAudioSource}. */
export interface PortAudioSourceOptions {
  /** How long `start()` waits for the first audio before failing with `START_TIMEOUT`, in ms. Default 5000. */
  startTimeoutMs?: number;
  /** No new audio for this long while capturing means the device is gone (`DEVICE_LOST`), in ms. Default 3000. */
  stallTimeoutMs?: number;
  /** Latency to ask PortAudio for, in ms. Default: the device's default high input latency (safe, not minimal). */
  suggestedLatencyMs?: number;
  /** Capacity of the native input ring, in seconds of audio: how long JavaScript may stall without loss. Default 10. */
  bufferSeconds?: number;
  /** How often the ring is drained, in ms. Default: half a chunk, between 5 and 20 ms. */
  pollIntervalMs?: number;
}

// PortAudio's paInt8 through ALSA's pulse plugin delivers garbage (measured here), so int8 is
// captured as int16 and narrowed in JavaScript.
const NATIVE_FORMAT: Record<SampleFormat, NativeInputOptions['sampleFormat']> = {
  int8: 16,
  int16: 16,
  int24: 24,
  int32: 32,
  float32: 1,
};

// After audio starts flowing, start() keeps the clock's anchor free for this long (and at least
// this many callbacks) so that a late first burst does not set it: ~0.1 s on top of the audio
// system's own start-up.
const WARMUP_MS = 120;
const WARMUP_CALLBACKS = 4;
// stop() waits at most this long for frames captured before the stop instant to arrive.
const DRAIN_WAIT_MS = 300;

interface Session {
  io: NativeAudioIO;
  device: InputDevice;
  timer: NodeJS.Timeout | undefined;
  closed: boolean;
  reading: Promise<void> | undefined;
}

/**
 * The default {@link AudioSource}: microphone input through PortAudio (naudiodon, patched so
 * its callback never allocates or blocks). Chunks carry sample-clock timestamps anchored to the
 * wall clock; lost input is marked `overflow` and counted; a vanished device ends the capture
 * with a `DEVICE_LOST` error. Observable: `status` and one `stateChange` event.
 */
export class PortAudioSource extends EventEmitter<CaptureEvents> implements AudioSource {
  private readonly options: Required<Omit<PortAudioSourceOptions, 'suggestedLatencyMs' | 'pollIntervalMs'>> &
    Pick<PortAudioSourceOptions, 'suggestedLatencyMs' | 'pollIntervalMs'>;
  private currentStatus: CaptureStatus = 'idle';
  private overflows = 0;
  private session: Session | undefined;
  private startLatency = Number.NaN;

  /** @param options timeouts, latency and buffering; see {@link PortAudioSourceOptions}. */
  constructor(options: PortAudioSourceOptions = {}) {
    super();
    this.options = {
      startTimeoutMs: options.startTimeoutMs ?? 5000,
      stallTimeoutMs: options.stallTimeoutMs ?? 3000,
      bufferSeconds: options.bufferSeconds ?? 10,
      suggestedLatencyMs: options.suggestedLatencyMs,
      pollIntervalMs: options.pollIntervalMs,
    };
  }

  /** The current lifecycle status. */
  get status(): CaptureStatus {
    return this.currentStatus;
  }

  /** Chunks marked `overflow` (lost input) since the last `start()`. */
  get overflowCount(): number {
    return this.overflows;
  }

  /** Milliseconds the last successful `start()` took from opening the stream to resolving: the audio system's start-up plus the ~120 ms clock warm-up (NaN before any). */
  get startLatencyMs(): number {
    return this.startLatency;
  }

  /**
   * Every PortAudio input device, with its host API and whether it is the default input.
   * PortAudio enumerates afresh on each call, so set `PULSE_SERVER` etc. before calling.
   */
  async listInputDevices(): Promise<InputDevice[]> {
    const pa = loadNaudiodon();
    const apis = pa.getHostAPIs();
    const defaultInput = apis.HostAPIs.find((a) => a.id === apis.defaultHostAPI)?.defaultInput;
    return pa
      .getDevices()
      .filter((d) => d.maxInputChannels > 0)
      .map((d) => ({
        index: d.id,
        name: d.name,
        channels: d.maxInputChannels,
        defaultRate: d.defaultSampleRate,
        hostApi: d.hostAPIName,
        isDefault: d.id === defaultInput,
      }));
  }

  /**
   * Opens the input and resolves once audio is really flowing (callbacks deliver data; a ~120 ms
   * warm-up fixes the sample clock's anchor). Audio starts with the frame the sample clock puts at
   * the instant it resolves: anything captured before is dropped.
   *
   * @throws {CaptureError} `INVALID_STATE` when not idle; `INVALID_CONFIG`/`DEVICE_NOT_FOUND` for a
   * bad config (listing the available inputs); `OPEN_FAILED` when PortAudio refuses the stream;
   * `START_TIMEOUT` when no audio arrives within `startTimeoutMs`. Nothing stays open after a throw.
   */
  async start(
    config: AudioConfig,
    onChunk: (chunk: CapturedChunk) => void,
    onError: (error: Error) => void,
  ): Promise<void> {
    if (this.currentStatus !== 'idle') {
      throw new CaptureError(
        'INVALID_STATE',
        `start() called while ${this.currentStatus}; call stop() first`,
      );
    }
    const { config: cfg, device } = resolveCaptureConfig(config, await this.listInputDevices());
    const { rate, channels, chunk, sampleFormat: format } = cfg;
    const frameBytes = bytesPerFrame(format, channels);
    const narrowInt8 = format === 'int8';
    const chunkMs = (chunk / rate) * 1000;
    const pollMs = this.options.pollIntervalMs ?? Math.min(20, Math.max(5, chunkMs / 2));
    this.setStatus('starting');
    this.overflows = 0;
    let io: NativeAudioIO;
    try {
      io = loadNaudiodon().create({
        inOptions: {
          deviceId: device.index,
          channelCount: channels,
          sampleFormat: NATIVE_FORMAT[format],
          sampleRate: rate,
          framesPerBuffer: callbackFrames(rate),
          closeOnError: false,
          ringFrames: Math.ceil(rate * this.options.bufferSeconds),
          suggestedLatencyMs: Math.round(this.options.suggestedLatencyMs ?? 0),
        },
      });
      io.start();
    } catch (error) {
      this.setStatus('idle');
      const said = loadNaudiodon().diagnostics?.() ?? [];
      throw new CaptureError(
        'OPEN_FAILED',
        `cannot open input device ${device.index} "${device.name}" (${device.hostApi}) with ${format}, ${channels} ch, ${rate} Hz: ${(error as Error).message}; the device's default rate is ${device.defaultRate} Hz and it has ${device.channels} input channels${said.length > 0 ? `; the audio system said: ${said.join(' | ')}` : ''}`,
        { deviceIndex: device.index, cause: error },
      );
    }
    const session: Session = { io, device, timer: undefined, closed: false, reading: undefined };
    this.session = session;

    const clock = new SampleClock(rate);
    let pending = new Uint8Array(chunk * frameBytes);
    let pendingBytes = 0;
    let pendingStart = 0; // device frame index of pending[0]
    let received = 0; // device frames received or skipped as dropped
    // Frames delivered are exactly [firstFrame, endFrame): both cuts come from the sample clock
    // (the frame captured when start() resolves / when stop() is called), not from read timing.
    let firstFrame = Number.POSITIVE_INFINITY;
    let endFrame = Number.POSITIVE_INFINITY;
    let seenOverflows = 0;
    let seenDropped = 0;
    let overflowNext = false;
    let lastCallbacks = 0;
    let lastProgress = performance.now();

    const emit = (bytes: Uint8Array, startFrame: number, frames: number): void => {
      const out: CapturedChunk = { data: bytes, frames, time: clock.timeOf(startFrame) };
      if (overflowNext) {
        out.overflow = true;
        overflowNext = false;
        this.overflows++;
      }
      onChunk(out);
    };
    const flushPartial = (): void => {
      if (pendingBytes === 0) return;
      emit(pending.slice(0, pendingBytes), pendingStart, pendingBytes / frameBytes);
      pending = new Uint8Array(chunk * frameBytes);
      pendingBytes = 0;
    };
    const nativeFrameBytes = narrowInt8 ? 2 * channels : frameBytes;
    const observe = (r: NativeReadResult): void => {
      if (r.callbacks === lastCallbacks) return;
      lastCallbacks = r.callbacks;
      lastProgress = performance.now();
      if (clock.observe(r.cbMonoMs, r.cbFrames, r.inLatency * 1000)) overflowNext = true;
    };
    const consume = (r: NativeReadResult): void => {
      observe(r);
      if (r.overflows !== seenOverflows) {
        seenOverflows = r.overflows;
        overflowNext = true;
      }
      const total = r.buf.length / nativeFrameBytes;
      // keep only the frames in [firstFrame, endFrame)
      const from = Math.min(total, Math.max(0, firstFrame - received));
      const to = Math.max(from, Math.min(total, endFrame - received));
      received += from;
      if (to > from) {
        const raw = r.buf.subarray(from * nativeFrameBytes, to * nativeFrameBytes);
        const data = narrowInt8 ? convertSampleFormat(raw, 'int16', 'int8') : raw;
        let offset = 0;
        while (offset < data.length) {
          if (pendingBytes === 0) pendingStart = received;
          const n = Math.min(data.length - offset, pending.length - pendingBytes);
          pending.set(data.subarray(offset, offset + n), pendingBytes);
          pendingBytes += n;
          offset += n;
          received += n / frameBytes;
          if (pendingBytes === pending.length) {
            const full = pending;
            pending = new Uint8Array(chunk * frameBytes);
            pendingBytes = 0;
            emit(full, pendingStart, chunk);
          }
        }
      }
      received += total - to;
      if (r.dropped !== seenDropped) {
        // The ring was full: frames after the ones just read never arrived (the callback drops
        // what does not fit until this read makes room). Keep the gap on the timeline.
        flushPartial();
        received += r.dropped - seenDropped;
        seenDropped = r.dropped;
        overflowNext = true;
      }
    };

    // Wait for audio to flow: the audio system may take a while (PulseAudio's null sink renders
    // in blocks of up to 2 s until a client asks for low latency). Then keep reading for a short
    // warm-up while the clock's anchor is still free: the first callbacks can come as a late
    // burst, and only callbacks that come on time give the true anchor (estimates are only ever late).
    const t0 = performance.now();
    const held: NativeReadResult[] = [];
    let flowingAt = Number.NaN;
    try {
      for (;;) {
        const r = await io.read(0);
        if (typeof r.callbacks !== 'number') {
          throw new CaptureError(
            'OPEN_FAILED',
            'naudiodon is not the audex-patched build (patches/naudiodon@2.3.6.patch): its read() reports no input counters',
            { deviceIndex: device.index },
          );
        }
        if (r.callbacks > 0) observe(r);
        if (r.buf.length > 0 || r.dropped > 0) held.push(r);
        const now = performance.now();
        if (Number.isNaN(flowingAt) && r.callbacks > 0 && r.frames > 0) flowingAt = now;
        if (!Number.isNaN(flowingAt) && now - flowingAt >= WARMUP_MS && clock.observed >= WARMUP_CALLBACKS) {
          break;
        }
        if (now - t0 > this.options.startTimeoutMs) {
          throw new CaptureError(
            'START_TIMEOUT',
            `input device ${device.index} "${device.name}" (${device.hostApi}) delivered no audio within ${this.options.startTimeoutMs} ms of opening (stream active: ${r.active})`,
            { deviceIndex: device.index },
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } catch (error) {
      session.closed = true;
      this.session = undefined;
      await closeQuietly(io);
      this.setStatus('idle');
      throw error instanceof CaptureError
        ? error
        : new CaptureError(
            'OPEN_FAILED',
            `reading from input device ${device.index} "${device.name}" failed`,
            {
              deviceIndex: device.index,
              cause: error,
            },
          );
    }
    // Audio starts when start() resolves: the frame the sample clock puts at this instant.
    clock.lock();
    firstFrame = Math.max(0, Math.round(clock.frameAt(Date.now())));
    this.startLatency = performance.now() - t0;
    for (const r of held) consume(r);
    held.length = 0;

    const fail = (error: CaptureError): void => {
      if (session.closed) return;
      session.closed = true;
      flushPartial();
      void closeQuietly(io);
      this.setStatus('failed', error);
      onError(error);
    };
    const poll = (): void => {
      session.timer = undefined;
      if (session.closed) return;
      session.reading = io.read(0).then(
        (r) => {
          session.reading = undefined;
          if (session.closed) return;
          consume(r);
          const silentFor = performance.now() - lastProgress;
          if (silentFor > this.options.stallTimeoutMs || (!r.active && r.buf.length === 0)) {
            fail(
              new CaptureError(
                'DEVICE_LOST',
                `input device ${device.index} "${device.name}" (${device.hostApi}) stopped delivering audio: nothing for ${Math.round(silentFor)} ms (stream ${r.active ? 'still open' : 'no longer active'}); the device was unplugged or its audio server died`,
                { deviceIndex: device.index },
              ),
            );
            return;
          }
          session.timer = setTimeout(poll, pollMs);
        },
        (error: unknown) => {
          session.reading = undefined;
          fail(
            new CaptureError(
              'DEVICE_LOST',
              `reading from input device ${device.index} "${device.name}" failed`,
              {
                deviceIndex: device.index,
                cause: error,
              },
            ),
          );
        },
      );
    };
    this.setStatus('capturing');
    session.timer = setTimeout(poll, 0);
    // the final drain on stop(): deliver up to the frame captured at the stop instant
    this.drain = async (stopAt: number) => {
      await session.reading;
      if (session.closed) return;
      endFrame = Math.max(firstFrame, Math.round(clock.frameAt(stopAt)));
      // Those frames may still be in the audio system's buffers (up to the input latency): wait
      // for them, at most DRAIN_WAIT_MS.
      const until = performance.now() + DRAIN_WAIT_MS;
      while (!session.closed) {
        consume(await io.read(0));
        if (received >= endFrame || performance.now() > until) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      if (!session.closed) flushPartial();
    };
  }

  private drain: ((stopAt: number) => Promise<void>) | undefined;

  /**
   * Stops capturing: delivers every frame captured up to the instant `stop()` is called, by the
   * sample clock (waiting at most 300 ms for them to come through the input latency; a last partial
   * chunk included) and nothing after, closes the stream and resolves. Resolves also when idle, and after a fault (even with the audio server gone).
   */
  async stop(): Promise<void> {
    const stopAt = Date.now();
    const session = this.session;
    if (!session) {
      if (this.currentStatus === 'failed') this.setStatus('idle');
      return;
    }
    if (this.currentStatus === 'capturing') this.setStatus('stopping');
    if (session.timer) clearTimeout(session.timer);
    session.timer = undefined;
    try {
      await this.drain?.(stopAt);
    } catch {
      // the device is going away anyway
    }
    this.drain = undefined;
    const wasClosed = session.closed;
    session.closed = true;
    this.session = undefined;
    if (!wasClosed) await closeQuietly(session.io);
    this.setStatus('idle');
  }

  private setStatus(to: CaptureStatus, error?: Error): void {
    const from = this.currentStatus;
    if (from === to) return;
    this.currentStatus = to;
    this.emit('stateChange', error ? { from, to, error } : { from, to });
  }
}

/**
 * PortAudio callback size: a whole number of milliseconds, at least 10 ms (a fine clock reading,
 * ~100 callbacks/s at most). Measured on ALSA's pulse plugin: with periods that are not whole
 * milliseconds (1024 frames at 48 kHz, 1103 at 44.1 kHz) it delivers ~0.1 % more frames than time
 * passes and then resyncs with a ~25 ms jump, which the sample clock would have to chase; 10 and
 * 25 ms periods keep the callback clock steady to 0.1 ms over minutes.
 */
function callbackFrames(rate: number): number {
  if (!Number.isInteger(rate)) return Math.round(rate * 0.01);
  let a = rate;
  let b = 1000;
  while (b !== 0) [a, b] = [b, a % b];
  const stepMs = 1000 / a; // the shortest whole-ms period that is a whole number of frames
  const ms = stepMs * Math.ceil(10 / stepMs);
  return ms <= 50 ? (rate * ms) / 1000 : Math.round(rate * 0.01);
}

// Aborting a stream whose audio server died can hang inside ALSA: never wait more than 3 s.
async function closeQuietly(io: NativeAudioIO): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    io.quit('ABORT').catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 3000);
    }),
  ]);
  clearTimeout(timer);
}
