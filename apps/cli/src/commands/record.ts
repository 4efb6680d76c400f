import { bytesPerFrame } from '@audex/pcm';
import { AudioRecorder, RecorderError } from '@audex/recorder';
import { createAudioSource, resolveDevice } from '../audio-source.js';
import { type CaptureFlags, captureConfig, durationMs } from '../capture-options.js';
import { CliError } from '../cli-error.js';
import { LevelMeter } from '../level-meter.js';
import { waitForStop } from '../stop-signal.js';
import { describeStore, openStore, type StoreFlags } from '../store-options.js';
import { formatBytes, formatDuration, paintFor } from '../terminal.js';

/** Flags of `audex record`. */
export interface RecordFlags extends CaptureFlags, StoreFlags {
  /** Key parts between the store prefix and the file name. */
  prefix: string[];
  /** Spool (journal) directory for crash recovery. */
  spoolDir?: string;
  /** Print one JSON object instead of text. */
  json?: boolean;
  /** Mark speech regions (voice activity detection) in the stored metadata. */
  vad?: boolean;
}

/** `audex record`: records until Ctrl-C or `--duration`, saves a WAV to the store, prints its key. */
export async function recordCommand(flags: RecordFlags): Promise<void> {
  const stopAfter = durationMs(flags);
  const source = createAudioSource();
  captureConfig(flags, null); // reject bad flags before probing devices
  const device = resolveDevice(await source.listInputDevices(), flags.device);
  const config = captureConfig(flags, device);
  const store = await openStore(flags);
  const spoolDir = flags.spoolDir ?? process.env.AUDEX_SPOOL_DIR;
  const recorder = new AudioRecorder(store, config, {
    source,
    ...(flags.vad ? { vad: true } : {}),
    ...(spoolDir ? { spoolDir } : {}),
    ...(stopAfter !== undefined ? { maxDurationMs: stopAfter } : {}),
  });
  const err = process.stderr;
  const paint = paintFor(err);
  const live = err.isTTY === true && !flags.json;
  let overflows = 0;
  let capturedFrames = 0;
  const meter = live
    ? new LevelMeter(err, 'REC', () => ({
        elapsedMs: (capturedFrames / config.rate) * 1000,
        bytes: capturedFrames * bytesPerFrame(config.sampleFormat, config.channels),
      }))
    : undefined;
  const stop = waitForStop(stopAfter);
  recorder.on('maxDuration', () => stop.request('duration'));
  recorder.on('level', (level) => {
    capturedFrames += level.frames;
    meter?.update(Math.max(0, ...level.peak), Math.max(0, ...level.rms));
  });
  recorder.on('overflow', () => {
    overflows += 1;
  });
  let sourceError: Error | undefined;
  recorder.on('error', (error) => {
    sourceError = error;
    stop.request();
  });
  try {
    const recovered = await recorder.init();
    for (const r of recovered) err.write(`recovered an unfinished recording: ${r.key}\n`);
    const key = await recorder.start(...flags.prefix);
    stop.startClock();
    err.write(
      `recording ${key} ${paint.dim(stopAfter === undefined ? '(Ctrl-C to stop and save)' : `for ${stopAfter / 1000} s (Ctrl-C stops early)`)}\n`,
    );
    meter?.start();
    await stop.stopped;
    meter?.stop();
    const segment = await recorder.stop({ frames: false }).catch((error: unknown) => {
      if (error instanceof RecorderError && error.code === 'UPLOAD_FAILED') {
        throw new CliError(
          'FAILED',
          `could not save the recording to ${describeStore(flags)}: ${error.message}. The audio is kept in ` +
            `${recorder.spoolDir}; run "audex recover" with the same store flags${spoolDir ? ' and --spool-dir' : ''} once the store is reachable`,
          { cause: error },
        );
      }
      throw error;
    });
    if (sourceError) err.write(`${paint.yellow('warning:')} capture ended early: ${sourceError.message}\n`);
    const size =
      Math.round((segment.durationMs / 1000) * config.rate) *
        bytesPerFrame(config.sampleFormat, config.channels) +
      44;
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({
          key: segment.key ?? key,
          store: describeStore(flags),
          durationMs: segment.durationMs,
          startedAt: segment.startedAt.toISOString(),
          endedAt: segment.endedAt.toISOString(),
          sampleRate: config.rate,
          channels: config.channels,
          sampleFormat: config.sampleFormat,
          overflows,
        })}\n`,
      );
    } else {
      if (err.isTTY) {
        err.write(
          `${paint.green('saved')} ${formatDuration(segment.durationMs)} (${formatBytes(size)}) to ${describeStore(flags)}` +
            `${overflows > 0 ? paint.yellow(`, ${overflows} overflow(s)`) : ''}\n`,
        );
      }
      process.stdout.write(`${segment.key ?? key}\n`);
    }
  } finally {
    meter?.stop();
    stop.dispose();
    // after a failed upload close() reports it again; the message above already says what to do
    await recorder.close().catch(() => {});
  }
}
