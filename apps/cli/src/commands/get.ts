import { once } from 'node:events';
import { open, rm } from 'node:fs/promises';
import { CodecError, encodeRange, type HeaderPatch, listFormats } from '@audex/codec';
import { CliError } from '../cli-error.js';
import { openStore, type StoreFlags } from '../store-options.js';
import { parseTimeOffset } from '../time-value.js';
import { getAnalysed, parseNormalizeFlags, parseSpeechFlag } from './get-analysis.js';

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
  /** Only the speech: `true`/`'join'` joined, `'split'` one file per region (see get-analysis.ts). */
  speech?: string | boolean;
  /** Loudness-normalise: `true` for -23 LUFS or a target in LUFS. */
  normalize?: string | boolean;
  /** True-peak ceiling for --normalize, dBTP (default -1). */
  truePeak?: string;
}

/** The format a key is stored in, from its extension. */
function storedFormat(key: string): string {
  const dot = key.lastIndexOf('.');
  return dot === -1 ? 'wav' : key.slice(dot + 1).toLowerCase();
}

/** Writes to stdout, waiting for it to drain (so a slow pipe holds one chunk, not the file). */
async function writeStdout(chunk: Uint8Array): Promise<void> {
  if (process.stdout.write(chunk)) return;
  await once(process.stdout, 'drain');
}

/**
 * `audex get KEY`: downloads a recording; with `--format` transcodes it, with `--from`/`--to` cuts
 * that range (sample-accurate). Streams chunk by chunk in bounded memory: a stored WAV is read
 * only where the range lies (`encodeRange` from @audex/codec over the store's ranged download).
 * Writes to `-o FILE` (removed again if the command fails) or stdout.
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
  const speech = parseSpeechFlag(flags.speech);
  const normalize = parseNormalizeFlags(flags.normalize, flags.truePeak);
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
  if (speech || normalize) {
    await getAnalysed(key, {
      ...flags,
      sourceFormat: source,
      format: target,
      from,
      to,
      speech,
      normalize,
      output: flags.output,
    });
    return;
  }
  let chunks: AsyncIterable<Uint8Array>;
  let headerPatches: () => HeaderPatch[] = () => [];
  if (target === source && from === undefined && to === undefined) {
    chunks = store.download(key, { stream: true });
  } else {
    try {
      const clip = await encodeRange((range) => store.download(key, { stream: true, range }), {
        sourceFormat: source,
        format: target,
        ...(from === undefined ? {} : { startSeconds: from }),
        ...(to === undefined ? {} : { endSeconds: to }),
      });
      chunks = clip.chunks;
      headerPatches = clip.headerPatches;
    } catch (error) {
      if (error instanceof CodecError && error.code === 'OUT_OF_RANGE') {
        throw new CliError('BAD_RANGE', error.message.replace(/^\[audex\/codec\] /, ''), { cause: error });
      }
      throw error;
    }
  }
  // The first chunk before any output: a missing key or a bad file fails with nothing written.
  const iterator = chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  const rest = async function* (): AsyncGenerator<Uint8Array> {
    if (first.done) return;
    yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  };
  if (!flags.output) {
    for await (const chunk of rest()) await writeStdout(chunk);
    return;
  }
  const file = await open(flags.output, 'w');
  // Only a regular file we wrote is removed on failure (never /dev/null or a pipe).
  const regular = (await file.stat()).isFile();
  try {
    for await (const chunk of rest()) await file.write(chunk);
    for (const patch of headerPatches()) await file.write(patch.bytes, 0, patch.bytes.length, patch.offset);
    await file.close();
  } catch (error) {
    await file.close().catch(() => {});
    if (regular) await rm(flags.output, { force: true });
    throw error;
  }
  process.stderr.write(`wrote ${flags.output}\n`);
}
