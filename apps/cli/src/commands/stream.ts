import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCodec, listFormats } from '@audex/codec';
import { AudioRecorder } from '@audex/recorder';
import { LocalStore, type Store } from '@audex/store';
import { createAudioSource, resolveDevice } from '../audio-source.js';
import { type CaptureFlags, captureConfig, durationMs } from '../capture-options.js';
import { CliError } from '../cli-error.js';
import { waitForStop } from '../stop-signal.js';
import { openStore, type StoreFlags } from '../store-options.js';

/** Flags of `audex stream`. */
export interface StreamFlags extends CaptureFlags, StoreFlags {
  /** Encoded output format. */
  format: string;
  /** Output bitrate in kbit/s for lossy formats. */
  bitrate?: string;
  /** Also save the recording to the store. */
  save?: boolean;
  /** Key parts when saving. */
  prefix: string[];
  /** Spool (journal) directory. */
  spoolDir?: string;
}

function isBrokenPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/**
 * `audex stream`: records and writes one continuous encoded stream to stdout until Ctrl-C,
 * `--duration`, or the reader goes away (EPIPE ends quietly). Without `--save` the recording is
 * kept only in a temporary store that is removed afterwards.
 */
export async function streamCommand(flags: StreamFlags): Promise<void> {
  const formats = listFormats();
  if (!formats.includes(flags.format)) {
    throw new CliError(
      'BAD_FORMAT',
      `--format "${flags.format}" is not available; use one of ${formats.join(', ')}`,
    );
  }
  let bitrate: number | undefined;
  if (flags.bitrate !== undefined) {
    if (!/^\d+$/.test(flags.bitrate) || Number(flags.bitrate) <= 0) {
      throw new CliError('USAGE', `--bitrate "${flags.bitrate}" is not a positive number of kbit/s`);
    }
    bitrate = Number(flags.bitrate) * 1000;
  }
  const out = process.stdout;
  if (out.isTTY) {
    throw new CliError(
      'REFUSED_TTY',
      `refusing to write ${flags.format} audio to a terminal; redirect it: audex stream --format ${flags.format} > live.${flags.format}`,
    );
  }
  const stopAfter = durationMs(flags);
  const source = createAudioSource();
  captureConfig(flags, null); // reject bad flags before probing devices
  const device = resolveDevice(await source.listInputDevices(), flags.device);
  const config = captureConfig(flags, device);

  let scratch: string | undefined;
  let store: Store;
  if (flags.save) {
    store = await openStore(flags);
  } else {
    scratch = await mkdtemp(join(tmpdir(), 'audex-stream-'));
    store = new LocalStore({ root: scratch });
  }
  const spoolDir =
    flags.spoolDir ?? process.env.AUDEX_SPOOL_DIR ?? (scratch ? join(scratch, 'spool') : undefined);
  // without --save the store is thrown away, so nothing may be recovered into it
  const recorder = new AudioRecorder(store, config, {
    source,
    recoverOnInit: flags.save === true,
    ...(spoolDir ? { spoolDir } : {}),
    ...(stopAfter !== undefined ? { maxDurationMs: stopAfter } : {}),
  });
  const stop = waitForStop(stopAfter);
  recorder.on('maxDuration', () => stop.request('duration'));
  const abort = new AbortController();
  let pipeClosed = false;
  const onOutError = (error: unknown) => {
    if (isBrokenPipe(error)) {
      pipeClosed = true;
      abort.abort();
      stop.request();
    }
  };
  out.on('error', onOutError);
  recorder.on('error', () => stop.request());
  try {
    await recorder.init();
    await recorder.start(...flags.prefix);
    stop.startClock();
    const stopping = stop.stopped.then(() => recorder.stop({ frames: false }));
    stopping.catch(() => {});
    try {
      // The recorder's 'wav' stream yields standalone WAV files per chunk (the reference's
      // behaviour); a pipe wants one file, so WAV is built here on the PCM stream with a
      // streaming header (sizes 0xFFFFFFFF: "to the end of the file").
      const wav =
        flags.format === 'wav'
          ? getCodec('wav').createEncoder({
              rate: config.rate,
              channels: config.channels,
              sampleFormat: config.sampleFormat,
            })
          : null;
      const chunks = recorder.stream({
        format: wav ? 'pcm' : flags.format,
        signal: abort.signal,
        ...(bitrate ? { bitrate } : {}),
      });
      for await (const raw of chunks) {
        const chunk = wav ? wav.write(raw) : raw;
        if (pipeClosed) break;
        if (!out.write(chunk)) {
          await new Promise<void>((resolve) => {
            const done = () => {
              out.off('drain', done);
              out.off('close', done);
              resolve();
            };
            out.on('drain', done);
            out.on('close', done);
          });
        }
      }
      if (wav && !pipeClosed) out.write(wav.end());
    } catch (error) {
      if (!pipeClosed && !abort.signal.aborted) throw error;
    }
    stop.request();
    const segment = await stopping;
    if (flags.save) process.stderr.write(`saved ${segment.key}\n`);
    if (!pipeClosed) await new Promise<void>((resolve) => out.write('', () => resolve()));
  } finally {
    stop.dispose();
    await recorder.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
