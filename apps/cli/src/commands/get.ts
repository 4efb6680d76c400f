import { writeFile } from 'node:fs/promises';
import { decodeAudio, getCodec, listFormats } from '@audex/codec';
import { concatBytes } from '@audex/pcm';
import { CliError } from '../cli-error.js';
import { openStore, type StoreFlags } from '../store-options.js';
import { parseTimeOffset } from '../time-value.js';

/** Flags of `audex get`. */
export interface GetFlags extends StoreFlags {
  /** Output format; default: the stored file unchanged (WAV). */
  format?: string;
  /** Start of the range to cut, from the recording's start. */
  from?: string;
  /** End of the range to cut, from the recording's start. */
  to?: string;
  /** Output file; default stdout. */
  output?: string;
}

/** The format a key is stored in, from its extension. */
function storedFormat(key: string): string {
  const dot = key.lastIndexOf('.');
  return dot === -1 ? 'wav' : key.slice(dot + 1).toLowerCase();
}

/**
 * `audex get KEY`: downloads a recording; with `--format` transcodes it (decode, then encode), with
 * `--from`/`--to` cuts that range (sample-accurate on the decoded audio). Writes to `-o FILE` or stdout.
 */
export async function getCommand(key: string, flags: GetFlags): Promise<void> {
  const formats = listFormats();
  if (flags.format !== undefined && !formats.includes(flags.format)) {
    throw new CliError(
      'BAD_FORMAT',
      `--format "${flags.format}" is not available; use one of ${formats.join(', ')}`,
    );
  }
  const from = flags.from === undefined ? undefined : parseTimeOffset(flags.from, '--from');
  const to = flags.to === undefined ? undefined : parseTimeOffset(flags.to, '--to');
  if (from !== undefined && to !== undefined && to <= from) {
    throw new CliError('BAD_RANGE', `--to ${flags.to} must be after --from ${flags.from}`);
  }
  if (!flags.output && process.stdout.isTTY) {
    throw new CliError(
      'REFUSED_TTY',
      'refusing to write audio to a terminal; use -o FILE or redirect stdout',
    );
  }
  const store = await openStore(flags);
  const source = storedFormat(key);
  const target = flags.format ?? source;
  const data = await store.download(key);
  let result: Uint8Array;
  if (target === source && from === undefined && to === undefined) {
    result = data;
  } else {
    const audio = await decodeAudio(data, source);
    const durationS = audio.frames / audio.rate;
    const startFrame = from === undefined ? 0 : Math.round(from * audio.rate);
    const endFrame = to === undefined ? audio.frames : Math.round(to * audio.rate);
    if (startFrame >= audio.frames || endFrame > audio.frames + Math.round(audio.rate * 0.001)) {
      throw new CliError(
        'BAD_RANGE',
        `range ${from ?? 0}–${to ?? durationS} s is outside the recording (0–${durationS.toFixed(3)} s)`,
      );
    }
    const end = Math.min(endFrame, audio.frames);
    const samples = audio.samples.subarray(startFrame * audio.channels, end * audio.channels);
    const encoder = getCodec(target).createEncoder({
      rate: audio.rate,
      channels: audio.channels,
      sampleFormat: 'float32',
      totalFrames: end - startFrame,
    });
    result = concatBytes([
      encoder.write(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength)),
      encoder.end(),
    ]);
  }
  if (flags.output) {
    await writeFile(flags.output, result);
    process.stderr.write(`wrote ${flags.output}\n`);
  } else {
    await new Promise<void>((resolve, reject) =>
      process.stdout.write(result, (error) => (error ? reject(error) : resolve())),
    );
  }
}
