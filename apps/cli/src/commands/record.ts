import { bytesPerFrame } from '@audex/pcm';
import { AudioRecorder, RecorderError } from '@audex/recorder';
import { createAudioSource, resolveDevice } from '../audio-source.js';
import { type CaptureFlags, captureConfig, durationMs } from '../capture-options.js';
import { CliError } from '../cli-error.js';
import { LevelMeter } from '../level-meter.js';
import { parseRotate, RecordStatus } from '../record-status.js';
import { waitForStop } from '../stop-signal.js';
import { describeStore, openStore, parseStoreFormat, type StoreFlags } from '../store-options.js';
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
  /** Stored file format: `wav` (default) or `flac`. */
  storeFormat?: string;
  /** Store a file per this much audio (`10m`, `1h`, …), each as it closes. */
  rotate?: string;
}

/** `audex record`: records until Ctrl-C or `--duration`, saves a WAV (or FLAC) to the store, prints its key. */
export async function recordCommand(flags: RecordFlags): Promise<void> {
  const stopAfter = durationMs(flags);
  const storeFormat = parseStoreFormat(flags.storeFormat);
  const rotateSeconds = flags.rotate === undefined ? undefined : parseRotate(flags.rotate);
  const source = createAudioSource();
  captureConfig(flags, null); // reject bad flags before probing devices
  const device = resolveDevice(await source.listInputDevices(), flags.device);
  const config = captureConfig(flags, device);
  const store = await openStore(flags);
  const spoolDir = flags.spoolDir ?? process.env.AUDEX_SPOOL_DIR;
  // The CLI depends on @audex/vad-silero itself and hands the model to the recorder, so voice
  // activity works however the install laid the packages out.
  const vad = flags.vad ? { model: (await import('@audex/vad-silero')).createSileroModel() } : undefined;
  const recorder = newRecorder(
    () =>
      new AudioRecorder(store, config, {
        source,
        // A microphone that is unplugged or whose audio server restarts is re-opened; the outage is a gap.
        reconnect: {},
        ...(rotateSeconds !== undefined ? { rotate: { everyMs: rotateSeconds * 1000 } } : {}),
        ...(vad ? { vad } : {}),
        ...(storeFormat ? { storeFormat } : {}),
        ...(spoolDir ? { spoolDir } : {}),
        ...(stopAfter !== undefined ? { maxDurationMs: stopAfter } : {}),
      }),
  );
  const err = process.stderr;
  const paint = paintFor(err);
  const live = err.isTTY === true && !flags.json;
  let overflows = 0;
  let capturedFrames = 0;
  // With rotation each file's key goes to stdout as soon as it is stored (the last one at the end).
  const status = new RecordStatus(recorder, live, (key) => {
    if (rotateSeconds !== undefined && !flags.json) process.stdout.write(`${key}\n`);
  });
  const meter = live
    ? new LevelMeter(
        err,
        'REC',
        () => ({
          elapsedMs: (capturedFrames / config.rate) * 1000,
          bytes: capturedFrames * bytesPerFrame(config.sampleFormat, config.channels),
        }),
        () => status.note(),
      )
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
    if (error.code !== 'SOURCE_FAILED') {
      // e.g. a rotated file the store refused: it stays in the spool and recording goes on.
      err.write(`${paintFor(err).yellow('warning:')} ${error.message}\n`);
      return;
    }
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
    // The WAV's size (a FLAC's is known only to the store).
    const size =
      storeFormat === 'flac'
        ? undefined
        : Math.round((segment.durationMs / 1000) * config.rate) *
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
          ...(rotateSeconds !== undefined ? { keys: status.stored } : {}),
        })}\n`,
      );
    } else {
      if (err.isTTY) {
        err.write(
          `${paint.green('saved')} ${status.files > 1 ? `${status.files} files, the last ` : ''}${formatDuration(segment.durationMs)} (${size === undefined ? 'FLAC' : formatBytes(size)}) to ${describeStore(flags)}` +
            `${overflows > 0 ? paint.yellow(`, ${overflows} overflow(s)`) : ''}\n`,
        );
      }
      if (rotateSeconds === undefined) process.stdout.write(`${segment.key ?? key}\n`);
    }
  } finally {
    meter?.stop();
    stop.dispose();
    // after a failed upload close() reports it again; the message above already says what to do
    await recorder.close().catch(() => {});
  }
}

/**
 * Creates the recorder, turning a `storeFormat` the capture cannot be stored in (FLAC of a float32
 * or int32 capture, of more than 8 channels) into a usage error spelled with the CLI's flags.
 */
function newRecorder(create: () => AudioRecorder): AudioRecorder {
  try {
    return create();
  } catch (error) {
    if (error instanceof RecorderError && error.field === 'storeFormat') {
      const reason = error.message
        .replace(/^\[audex\/recorder\] /, '')
        .replace(/storeFormat '(\w+)'/g, '--store-format $1')
        .replace(/capture sampleFormat '(\w+)'/g, 'capture with --sample-format $1')
        .replace(/store '(\w+)'/g, 'use --store-format $1');
      throw new CliError('USAGE', reason, { cause: error });
    }
    throw error;
  }
}
