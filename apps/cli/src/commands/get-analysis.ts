// `audex get KEY --speech / --normalize`: the analysed export. The recording is decoded whole,
// cut to --from/--to, reduced to its speech regions (from the stored metadata when it lists them
// all, else found again by the voice activity detector of @audex/analysis) joined or one file per
// region, loudness-normalised, and encoded to the requested format.
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { detectSpeech, normalizeLoudness, type SpeechRegion } from '@audex/analysis';
import { decodeAudio, getCodec } from '@audex/codec';
import { concatBytes, fromFloat32, type SampleFormat } from '@audex/pcm';
import { CliError } from '../cli-error.js';
import { openStore, type StoreFlags } from '../store-options.js';

/** What `get` hands over when --speech or --normalize is given. */
export interface AnalysedGet extends StoreFlags {
  /** Source format (the key's extension) and output format. */
  sourceFormat: string;
  format: string;
  /** Range in seconds from the recording's start. */
  from: number | undefined;
  to: number | undefined;
  /** `'join'` or `'split'` (one file per region), or undefined for all of the range. */
  speech: 'join' | 'split' | undefined;
  /** Target loudness and true-peak ceiling, or undefined. */
  normalize: { targetLufs: number; truePeakDbtp: number } | undefined;
  /** Output file; required for `'split'`. */
  output: string | undefined;
}

/** Parses `--speech [mode]`. */
export function parseSpeechFlag(value: string | boolean | undefined): 'join' | 'split' | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true || value === 'join') return 'join';
  if (value === 'split') return 'split';
  throw new CliError('USAGE', `--speech "${value}" is not a mode; use --speech (joined) or --speech split`);
}

/** Parses `--normalize [lufs]` and `--true-peak <dbtp>`. */
export function parseNormalizeFlags(
  normalize: string | boolean | undefined,
  truePeak: string | undefined,
): { targetLufs: number; truePeakDbtp: number } | undefined {
  if (normalize === undefined || normalize === false) {
    if (truePeak !== undefined) throw new CliError('USAGE', '--true-peak needs --normalize');
    return undefined;
  }
  const targetLufs = normalize === true ? -23 : Number(normalize);
  if (!Number.isFinite(targetLufs) || targetLufs < -70 || targetLufs > 0) {
    throw new CliError(
      'USAGE',
      `--normalize "${normalize}" must be a loudness from -70 to 0 LUFS (e.g. -16)`,
    );
  }
  const truePeakDbtp = truePeak === undefined ? -1 : Number(truePeak);
  if (!Number.isFinite(truePeakDbtp) || truePeakDbtp < -30 || truePeakDbtp > 0) {
    throw new CliError('USAGE', `--true-peak "${truePeak}" must be from -30 to 0 dBTP (e.g. -1)`);
  }
  return { targetLufs, truePeakDbtp };
}

/** Speech regions of the recording: the stored ones when complete, else detected now. */
async function speechRegions(
  metadata: Record<string, unknown>,
  samples: Float32Array,
  shape: { rate: number; channels: number },
): Promise<SpeechRegion[]> {
  const listed = metadata.speech;
  if (Array.isArray(listed) && listed.length === metadata.speech_count) {
    return listed.map((r: { start_ms: number; end_ms: number }) => ({
      startMs: r.start_ms,
      endMs: r.end_ms,
    }));
  }
  // Silero VAD (the 146 MB runtime) is loaded only here, when a recording has no stored regions.
  const { createSileroModel } = await import('@audex/vad-silero');
  return detectSpeech(samples, { ...shape, sampleFormat: 'float32' }, createSileroModel());
}

function encode(
  format: string,
  samples: Float32Array,
  rate: number,
  channels: number,
  sampleFormat: SampleFormat,
): Uint8Array {
  const codec = getCodec(format);
  const lossless = format === 'wav' || format === 'pcm' || format === 'flac';
  const shapeFormat: SampleFormat = lossless ? sampleFormat : 'float32';
  const encoder = codec.createEncoder({
    rate,
    channels,
    sampleFormat: shapeFormat,
    totalFrames: samples.length / channels,
  });
  return concatBytes([encoder.write(fromFloat32(samples, shapeFormat)), encoder.end()]);
}

/** Runs the analysed export. */
export async function getAnalysed(key: string, flags: AnalysedGet): Promise<void> {
  if (flags.speech === 'split' && !flags.output) {
    throw new CliError(
      'USAGE',
      '--speech split writes one file per region: give -o NAME.EXT (files NAME-1.EXT, NAME-2.EXT, …)',
    );
  }
  const store = await openStore(flags);
  const [bytes, metadata] = await Promise.all([store.download(key), store.getMetadata(key)]);
  const audio = await decodeAudio(bytes, flags.sourceFormat);
  const { rate, channels } = audio;
  const sampleFormat = audio.sampleFormat ?? 'int16';
  const first = flags.from === undefined ? 0 : Math.round(flags.from * rate);
  const last = flags.to === undefined ? audio.frames : Math.min(audio.frames, Math.round(flags.to * rate));
  if (first >= audio.frames || last <= first) {
    throw new CliError(
      'BAD_RANGE',
      `the range lies outside the recording (${(audio.frames / rate).toFixed(3)} s)`,
    );
  }
  const all = audio.samples;
  const pieces: Float32Array[] = [];
  if (flags.speech) {
    for (const region of await speechRegions(metadata, all, { rate, channels })) {
      const from = Math.max(first, Math.round((region.startMs * rate) / 1000));
      const to = Math.min(last, Math.round((region.endMs * rate) / 1000));
      if (to > from) pieces.push(all.subarray(from * channels, to * channels));
    }
    if (pieces.length === 0)
      throw new CliError(
        'BAD_RANGE',
        `no speech in ${key}${flags.from !== undefined || flags.to !== undefined ? ' in that range' : ''}`,
      );
  } else {
    pieces.push(all.subarray(first * channels, last * channels));
  }
  const outputs = flags.speech === 'split' ? pieces : [joinFloat(pieces)];
  const files = outputs.map((samples) => {
    const ready = flags.normalize
      ? normalizeLoudness(samples, { rate, channels, sampleFormat: 'float32' }, flags.normalize).pcm
      : samples;
    return encode(flags.format, ready, rate, channels, sampleFormat);
  });
  if (!flags.output) {
    process.stdout.write(files[0]!);
    return;
  }
  if (flags.speech !== 'split') {
    await writeFile(flags.output, files[0]!);
    process.stderr.write(`wrote ${flags.output}\n`);
    return;
  }
  const ext = extname(flags.output);
  const base = flags.output.slice(0, flags.output.length - ext.length);
  for (const [i, file] of files.entries()) {
    const name = `${base}-${i + 1}${ext}`;
    await writeFile(name, file);
    process.stderr.write(`wrote ${name}\n`);
  }
}

function joinFloat(pieces: Float32Array[]): Float32Array {
  if (pieces.length === 1) return pieces[0]!;
  let total = 0;
  for (const p of pieces) total += p.length;
  const out = new Float32Array(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
