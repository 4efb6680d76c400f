// The recorder's input room: the audio source from open to close, kept alive. It opens the source
// (at start(), or at init() with pre-roll), watches it (a watchdog catches a source that stops
// delivering without an error), and when the device is lost re-opens it with back-off (the same
// device by name, or the new default) until it is back or the give-up time has passed, telling its
// listener each step. Without `reconnect`, a lost device ends the input as it always did.
import type { AudioSource, InputDevice } from '@audex/capture';
import { type AudioConfig, bytesPerFrame, type CapturedChunk } from '@audex/pcm';
import { RecorderError } from './errors.js';
import type { RecorderSettings } from './options.js';
import { type ChunkSink, Feed } from './pre-roll.js';
import type { Reporter } from './report.js';
import type { DeviceLostEvent, DeviceRestoredEvent, InputStatus } from './types.js';

/**
 * Loads the default source, `PortAudioSource` from `@audex/capture`. Loaded on first use so that a
 * custom source never loads the native `@audex/naudiodon` module.
 * @throws {RecorderError} `SOURCE_FAILED` when it cannot be loaded.
 */
export async function loadDefaultSource(): Promise<AudioSource> {
  try {
    const { PortAudioSource } = await import('@audex/capture');
    return new PortAudioSource();
  } catch (error) {
    throw new RecorderError(
      'SOURCE_FAILED',
      `could not load the default PortAudio source: ${(error as Error).message}; pass options.source`,
      { cause: error },
    );
  }
}

/** Who hears how the input is (the recorder); chunks go to the attached recording. */
export interface InputListener {
  /** The device was lost or stalled; it is being re-opened. */
  lost(event: DeviceLostEvent): void;
  /**
   * The lost source is stopped: whatever it still delivered while stopping is in, nothing more of
   * it will be; from here the timeline goes on in silence until the input is back.
   */
  away(): void;
  /** The source is open again; its first chunk follows shortly. */
  reopened(): void;
  /** Audio flows again: called just before the first chunk after the outage. */
  restored(event: DeviceRestoredEvent): void;
  /** The input ended for good (no reconnect, or it gave up): why, for people; no chunk follows. */
  ended(why: string, cause: unknown): void;
}

// Back-off between re-open attempts: from 250 ms, doubling, at most 1 s during the first 30 s of
// an outage (a restarting audio server is back within seconds), then every 5 s (a failed attempt
// costs a device scan, ~30 ms here; an unplugged device may stay away for hours).
const FIRST_DELAY_MS = 250;
const SHORT_OUTAGE_MS = 30_000;
const SHORT_OUTAGE_MAX_DELAY_MS = 1000;
const LONG_OUTAGE_DELAY_MS = 5000;
// With pre-roll, stop() waits past one chunk at most this long for the audio captured up to its call.
const DETACH_WAIT_MS = 1000;

/** The recorder's audio input: one source, kept open and re-opened. */
export class LiveInput {
  readonly #settings: RecorderSettings;
  readonly #report: Reporter;
  readonly #listener: InputListener;
  /** Where chunks go: the pre-roll ring and the attached recording. */
  readonly #feed: Feed;
  #source: AudioSource | undefined;
  #status: InputStatus = 'closed';
  /** Counts source starts; callbacks of an older start are ignored. */
  #session = 0;
  #lastArrival = 0;
  #lastAudioEnd: number | null = null;
  #watchdog: NodeJS.Timeout | undefined;
  #reconnecting: Promise<void> | undefined;
  #stopping: Promise<void> = Promise.resolve();
  #wake: (() => void) | undefined;
  /** Name of the device opened by index, to find it again after a rescan. */
  #deviceName: string | undefined;
  #restore: { lastAudioEnd: number | null; attempts: number } | undefined;

  constructor(settings: RecorderSettings, report: Reporter, listener: InputListener) {
    this.#settings = settings;
    this.#report = report;
    this.#listener = listener;
    this.#source = settings.source;
    const { rate, channels, sampleFormat } = settings.config;
    this.#feed = new Feed({ rate, frameBytes: bytesPerFrame(sampleFormat, channels) }, settings.preRollMs);
  }

  /** Where the input is. */
  get status(): InputStatus {
    return this.#status;
  }

  /** The source (the default one is loaded on first use). */
  async source(): Promise<AudioSource> {
    this.#source ??= await loadDefaultSource();
    return this.#source;
  }

  /**
   * The source's input devices.
   * @throws {RecorderError} `SOURCE_FAILED` when the source cannot list them.
   */
  async listDevices(): Promise<InputDevice[]> {
    const source = await this.source();
    try {
      return await source.listInputDevices();
    } catch (error) {
      throw new RecorderError('SOURCE_FAILED', `could not list input devices: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * Checks that `index` is an input device of the source.
   * @throws {RecorderError} `INVALID_CONFIG` listing the available devices; `SOURCE_FAILED`.
   */
  async checkDevice(index: number): Promise<InputDevice> {
    const devices = await this.listDevices();
    const device = devices.find((d) => d.index === index);
    if (device) return device;
    const list = devices.map((d) => `${d.index} (${d.name})`).join(', ') || 'none';
    throw new RecorderError(
      'INVALID_CONFIG',
      `inputDeviceIndex ${index} is not an input device; available input devices: ${list}`,
      { field: 'inputDeviceIndex' },
    );
  }

  /**
   * Starts delivering to `sink` (the recording `start()` made at `requestedAt`): without pre-roll
   * it opens the input; with pre-roll (the input already open since init()) the sink first gets
   * the ring's audio from `preRollMs` before `requestedAt`.
   * @returns the capture time of the first frame from the ring, or `null` when none was given.
   * @throws {RecorderError} `SOURCE_FAILED` when the input cannot be opened (nothing is attached).
   */
  async attach(sink: ChunkSink, requestedAt: number): Promise<number | null> {
    const preRollMs = this.#settings.preRollMs;
    // Without pre-roll the recording takes every chunk of the input it opens.
    if (preRollMs === 0) this.#feed.attach(sink, requestedAt);
    try {
      await this.open();
    } catch (error) {
      await this.#feed.detach(requestedAt, 0);
      throw error;
    }
    return preRollMs > 0 ? this.#feed.attach(sink, requestedAt - preRollMs) : null;
  }

  /**
   * Stops delivering to the attached recording after the audio captured up to `stopAt`: with
   * pre-roll the input stays open (the frames after go to the next recording); without, it closes.
   */
  async detach(stopAt: number): Promise<void> {
    if (this.#settings.preRollMs === 0) {
      await this.close();
      await this.#feed.detach(stopAt, 0);
      return;
    }
    const { chunk, rate } = this.#settings.config;
    // While the device is away nothing more is coming: cut at what is there.
    const waitMs = this.#status === 'open' ? (chunk / rate) * 1000 + DETACH_WAIT_MS : 0;
    await this.#feed.detach(stopAt, waitMs);
  }

  /**
   * Opens the source; resolves once audio flows (as the source's `start()` does). Does nothing
   * when already open or re-opening.
   * @throws {RecorderError} `SOURCE_FAILED` when the input cannot be opened (nothing stays open).
   */
  async open(): Promise<void> {
    if (this.#status !== 'closed') return;
    this.#setStatus('opening');
    await this.#stopping;
    try {
      const index = this.#settings.config.inputDeviceIndex;
      if (index !== null && this.#settings.reconnect) {
        this.#deviceName = (await this.listDevices()).find((d) => d.index === index)?.name;
      }
      await this.#start(this.#settings.config);
    } catch (error) {
      this.#setStatus('closed');
      if (error instanceof RecorderError) throw error;
      throw new RecorderError('SOURCE_FAILED', `could not open the input: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (this.status === 'opening') this.#setStatus('open');
  }

  /**
   * Closes the input: stops re-opening, stops the source (which delivers what it captured up to
   * this call first; a failure to stop is a warning). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#status === 'closed') {
      await this.#stopping;
      return;
    }
    this.#setStatus('closed');
    this.#wake?.();
    await this.#reconnecting;
    this.#stopping = this.#stopSource(true);
    await this.#stopping;
  }

  async #start(config: AudioConfig): Promise<void> {
    const source = await this.source();
    const session = ++this.#session;
    await source.start(
      config,
      (chunk) => this.#onChunk(session, chunk),
      (error) => this.#onError(session, error),
    );
    this.#lastArrival = performance.now();
    this.#armWatchdog();
  }

  async #stopSource(warn: boolean): Promise<void> {
    clearTimeout(this.#watchdog);
    try {
      await this.#source?.stop();
    } catch (error) {
      if (!warn) return;
      this.#report.warn({
        code: 'SOURCE_STOP_FAILED',
        message: `[audex/recorder] the source failed to stop cleanly: ${(error as Error).message}`,
        cause: error,
      });
    }
  }

  #onChunk(session: number, chunk: CapturedChunk): void {
    if (session !== this.#session) return;
    this.#lastArrival = performance.now();
    if (this.#restore) {
      const { lastAudioEnd, attempts } = this.#restore;
      this.#restore = undefined;
      const gapMs = lastAudioEnd === null ? 0 : Math.max(0, chunk.time - lastAudioEnd);
      this.#listener.restored({ time: chunk.time, gapMs, attempts });
    }
    if (chunk.frames > 0)
      this.#lastAudioEnd = chunk.time + (chunk.frames / this.#settings.config.rate) * 1000;
    this.#feed.push(chunk);
  }

  #onError(session: number, error: Error): void {
    if (session !== this.#session || (this.#status !== 'open' && this.#status !== 'opening')) return;
    this.#lost('error', error);
  }

  #armWatchdog(): void {
    const reconnect = this.#settings.reconnect;
    if (!reconnect) return;
    const { rate, chunk } = this.#settings.config;
    const limit = (chunk / rate) * 1000 + reconnect.watchdogMs;
    const check = (): void => {
      if (this.#status !== 'open') return;
      const silentFor = performance.now() - this.#lastArrival;
      if (silentFor >= limit) this.#lost('stall');
      else this.#watchdog = setTimeout(check, limit - silentFor).unref();
    };
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(check, limit).unref();
  }

  #lost(reason: 'error' | 'stall', error?: Error): void {
    clearTimeout(this.#watchdog);
    const reconnect = this.#settings.reconnect;
    const message =
      reason === 'stall'
        ? `no audio for ${Math.round(performance.now() - this.#lastArrival)} ms (the watchdog allows ${reconnect?.watchdogMs} ms past the next chunk)`
        : (error?.message ?? 'the source failed');
    if (!reconnect) {
      // As before reconnect existed: capture ends; stop() saves what was captured.
      this.#setStatus('closed');
      this.#stopping = this.#stopSource(false);
      this.#feed.reset();
      this.#listener.ended(`the input failed mid-recording (${message})`, error);
      return;
    }
    const event: DeviceLostEvent = {
      time: Date.now(),
      lastAudioAt: this.#lastAudioEnd,
      reason,
      message,
      ...(error ? { error } : {}),
    };
    this.#setStatus('reconnecting');
    this.#report.logger.warn({ err: error, reason }, `audex input lost: ${message}; re-opening it`);
    this.#listener.lost(event);
    this.#reconnecting = this.#reconnect(event, reconnect.giveUpAfterMs);
  }

  async #reconnect(lost: DeviceLostEvent, giveUpAfterMs: number): Promise<void> {
    // A source stopping may still hand over its last buffered audio (PortAudio flushes a partial
    // chunk): it belongs before the outage, so the silence standing in for it starts after that,
    // and nothing the old source sends later is taken.
    await this.#stopSource(false);
    this.#session++;
    // The outage is measured from the end of that last audio.
    const lastAudioEnd = this.#lastAudioEnd;
    if (this.#status === 'reconnecting') this.#listener.away();
    let lastError: unknown = lost.error;
    for (let attempt = 0; ; attempt++) {
      if (this.#status !== 'reconnecting') return;
      const away = Date.now() - lost.time;
      if (away >= giveUpAfterMs) break;
      const delay =
        attempt === 0
          ? 0
          : Math.min(
              FIRST_DELAY_MS * 2 ** (attempt - 1),
              away < SHORT_OUTAGE_MS ? SHORT_OUTAGE_MAX_DELAY_MS : LONG_OUTAGE_DELAY_MS,
              giveUpAfterMs - away,
            );
      if (delay > 0) await this.#sleep(delay);
      if (this.#status !== 'reconnecting') return;
      try {
        await this.#start(await this.#reopenConfig());
      } catch (error) {
        lastError = error;
        this.#report.logger.debug(
          { err: error, attempt: attempt + 1 },
          'audex could not re-open the input yet',
        );
        await this.#stopSource(false);
        continue;
      }
      if (this.#status !== 'reconnecting') {
        await this.#stopSource(true); // closed while it opened
        return;
      }
      this.#restore = { lastAudioEnd, attempts: attempt + 1 };
      this.#setStatus('open');
      this.#report.logger.info({ attempts: attempt + 1 }, 'audex input re-opened');
      this.#listener.reopened();
      return;
    }
    this.#setStatus('closed');
    const last =
      lastError instanceof Error && lastError !== lost.error ? ` (last attempt: ${lastError.message})` : '';
    this.#listener.ended(
      `the input was lost (${lost.message}) and could not be re-opened within ${giveUpAfterMs} ms${last}`,
      lastError ?? lost.error,
    );
  }

  /** The config to re-open with: the same device found by name after a rescan, or the default. */
  async #reopenConfig(): Promise<AudioConfig> {
    const config = this.#settings.config;
    const index = config.inputDeviceIndex;
    if (index === null || this.#deviceName === undefined) return config;
    const devices = await (await this.source()).listInputDevices();
    const found = devices.find((d) => d.name === this.#deviceName) ?? devices.find((d) => d.index === index);
    if (!found) throw new Error(`input device "${this.#deviceName}" is not present`);
    return found.index === index ? config : { ...config, inputDeviceIndex: found.index };
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).finally(() => {
      this.#wake = undefined;
    });
  }

  #setStatus(to: InputStatus): void {
    this.#status = to;
  }
}
