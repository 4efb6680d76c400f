// Spoken test audio for voice activity tests: espeak-ng sentences with known silences between them
// (and the spoken intervals measured from each sentence's own signal), and pink noise at a set level.
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The three sentences spoken by {@link writeSpokenSentences}, in order. */
export const SENTENCES = [
  'The quick brown fox jumps over the lazy dog near the river bank.',
  'Please record this sentence and keep every sample on the timeline.',
  'Voice activity detection marks where people are speaking.',
] as const;

/** Options of {@link writeSpokenSentences}. */
export interface SpokenSentencesOptions {
  /** Sample rate of the file, Hz. Default 16000. */
  rate?: number;
  /** Channels (the same voice on each). Default 1. */
  channels?: number;
  /** Silence before the first sentence, s. Default 1. */
  leadSeconds?: number;
  /** Silences after the first, second and third sentence, s. Default [2, 1, 3] (issue 15). */
  gapSeconds?: readonly [number, number, number];
  /** Gain applied to espeak-ng's voice, dB. Default -6 (espeak-ng speaks near full scale). */
  gainDb?: number;
}

/** What {@link writeSpokenSentences} wrote. */
export interface SpokenSentences {
  /** The 16-bit WAV file. */
  readonly file: string;
  /** Spoken intervals `[startMs, endMs]` (first and last 10 ms window above -50 dBFS of each sentence). */
  readonly spoken: readonly (readonly [number, number])[];
  /** The silences between and after the sentences, `[startMs, endMs]`. */
  readonly silences: readonly (readonly [number, number])[];
  /** Length of the file, ms. */
  readonly durationMs: number;
}

async function floatOf(file: string, rate: number): Promise<Float32Array> {
  const { stdout } = await run('sox', ['-V1', file, '-t', 'f32', '-c', '1', '-r', String(rate), '-'], {
    encoding: 'buffer',
    maxBuffer: 1 << 30,
  });
  return new Float32Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.length));
}

/**
 * Speaks {@link SENTENCES} with espeak-ng (22.05 kHz), joins them with the given silences and writes
 * one WAV at `rate` (resampled by sox `rate -v`). The spoken intervals are measured on each
 * sentence's own signal, so they are the truth a detector is judged against.
 */
export async function writeSpokenSentences(
  dir: string,
  options: SpokenSentencesOptions = {},
): Promise<SpokenSentences> {
  const rate = options.rate ?? 16_000;
  const channels = options.channels ?? 1;
  const lead = options.leadSeconds ?? 1;
  const gaps = options.gapSeconds ?? [2, 1, 3];
  const gain = 10 ** ((options.gainDb ?? -6) / 20);
  const voiceRate = 22_050;
  const pieces: Float32Array[] = [new Float32Array(Math.round(lead * voiceRate))];
  const spoken: [number, number][] = [];
  let at = pieces[0]!.length;
  for (const [i, sentence] of SENTENCES.entries()) {
    const wav = join(dir, `sentence-${i}.wav`);
    await run('espeak-ng', ['-w', wav, sentence]);
    const voice = await floatOf(wav, voiceRate);
    await rm(wav, { force: true });
    const win = voiceRate / 100;
    let first = -1;
    let last = -1;
    for (let s = 0; s + win <= voice.length; s += win) {
      let e = 0;
      for (let j = s; j < s + win; j++) e += voice[j]! * voice[j]! * gain * gain;
      if (10 * Math.log10(e / win + 1e-20) > -50) {
        if (first < 0) first = s;
        last = s + win;
      }
    }
    spoken.push([((at + first) * 1000) / voiceRate, ((at + last) * 1000) / voiceRate]);
    pieces.push(voice.map((v) => v * gain));
    at += voice.length;
    const gap = new Float32Array(Math.round(gaps[i]! * voiceRate));
    pieces.push(gap);
    at += gap.length;
  }
  const durationMs = (at * 1000) / voiceRate;
  // Silences run from one spoken interval to the next (or to the end of the file).
  const silences = spoken.map(([, end], i) => [end, spoken[i + 1]?.[0] ?? durationMs] as const);
  const all = new Float32Array(at);
  let o = 0;
  for (const p of pieces) {
    all.set(p, o);
    o += p.length;
  }
  const raw = join(dir, 'spoken.f32');
  await writeFile(raw, all);
  const file = join(dir, `spoken-${rate}-${channels}ch.wav`);
  await run('sox', [
    '-V1',
    '-t',
    'f32',
    '-r',
    String(voiceRate),
    '-c',
    '1',
    raw,
    '-b',
    '16',
    '-c',
    String(channels),
    '-r',
    String(rate),
    file,
    'rate',
    '-v',
  ]);
  await rm(raw, { force: true });
  return { file, spoken, silences, durationMs };
}

/**
 * Writes a 16-bit WAV of pink noise (sox) scaled to an RMS level in dBFS (default -30), all channels
 * carrying the same noise.
 */
export async function writePinkNoise(
  file: string,
  options: { rate?: number; channels?: number; seconds?: number; rmsDbfs?: number } = {},
): Promise<string> {
  const rate = options.rate ?? 16_000;
  const channels = options.channels ?? 1;
  const raw = `${file}.f32`;
  await run('sox', [
    '-V1',
    '-R',
    '-n',
    '-r',
    String(rate),
    '-c',
    '1',
    '-t',
    'f32',
    raw,
    'synth',
    String(options.seconds ?? 10),
    'pinknoise',
  ]);
  const x = new Float32Array((await readFile(raw)).buffer.slice(0));
  let e = 0;
  for (const v of x) e += v * v;
  const k = 10 ** ((options.rmsDbfs ?? -30) / 20) / Math.sqrt(e / x.length);
  await writeFile(
    raw,
    x.map((v) => v * k),
  );
  await run('sox', [
    '-V1',
    '-t',
    'f32',
    '-r',
    String(rate),
    '-c',
    '1',
    raw,
    '-b',
    '16',
    '-c',
    String(channels),
    file,
  ]);
  await rm(raw, { force: true });
  return file;
}

/** Decodes any audio file to interleaved float samples at its own rate and channels (sox). */
export async function readAudioFloat(
  file: string,
): Promise<{ samples: Float32Array; rate: number; channels: number }> {
  const { stdout: info } = await run('soxi', [file]);
  const rate = Number(/Sample Rate\s*:\s*(\d+)/.exec(info)![1]);
  const channels = Number(/Channels\s*:\s*(\d+)/.exec(info)![1]);
  const { stdout } = await run('sox', ['-V1', file, '-t', 'f32', '-'], {
    encoding: 'buffer',
    maxBuffer: 1 << 30,
  });
  return {
    samples: new Float32Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.length)),
    rate,
    channels,
  };
}
