import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromFloat32 } from '@audex/pcm';
import { type BenchSection, fmt, median, statLabel, summarize } from '@audex/test-utils/bench';
import { mp3Codec } from '../src/codecs/mp3.js';
import { opusCodec } from '../src/codecs/opus.js';
import type { Codec } from '../src/types.js';

const SECONDS = 60;
const quick = process.env.AUDEX_BENCH_QUICK === '1';
const RUNS = quick ? 1 : 3;
/** ffmpeg processes started for the per-chunk reference. */
const REF_RUNS = quick ? 3 : 7;

interface Input {
  name: string;
  rate: number;
  channels: number;
  pcm: Uint8Array; // int16 interleaved
}

/** Speech-like: a voiced source (harmonics of a gliding 100–220 Hz pitch) gated by 4 Hz syllables, with noise bursts. */
function speechLike(rate: number): Float32Array {
  const n = rate * SECONDS;
  const out = new Float32Array(n);
  let phase = 0;
  let seed = 1;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const pitch = 160 + 60 * Math.sin(2 * Math.PI * 0.3 * t);
    phase += (2 * Math.PI * pitch) / rate;
    let voiced = 0;
    for (let h = 1; h <= 12; h++) voiced += Math.sin(h * phase) / h;
    const syllable = Math.max(0, Math.sin(2 * Math.PI * 4 * t));
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const noise = (seed / 0x7fffffff - 0.5) * (Math.sin(2 * Math.PI * 1.3 * t) > 0.7 ? 0.4 : 0.02);
    out[i] = 0.25 * voiced * syllable + noise;
  }
  return out;
}

/** Music-like stereo: chords of partials with slow tremolo, different per channel, plus a little noise. */
function musicLike(rate: number): Float32Array {
  const n = rate * SECONDS;
  const out = new Float32Array(n * 2);
  const notes = [220, 277.18, 329.63, 440, 554.37, 659.25, 880, 1760, 3520];
  let seed = 7;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    let l = 0;
    let r = 0;
    for (let k = 0; k < notes.length; k++) {
      const v = Math.sin(2 * Math.PI * notes[k]! * t) / (k + 2);
      l += v * (1 + 0.3 * Math.sin(2 * Math.PI * 0.5 * t + k));
      r += v * (1 + 0.3 * Math.cos(2 * Math.PI * 0.7 * t + k));
    }
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const noise = (seed / 0x7fffffff - 0.5) * 0.02;
    out[2 * i] = 0.3 * l + noise;
    out[2 * i + 1] = 0.3 * r - noise;
  }
  return out;
}

function inputs(): Input[] {
  return [
    {
      name: '16 kHz mono speech-like',
      rate: 16_000,
      channels: 1,
      pcm: fromFloat32(speechLike(16_000), 'int16'),
    },
    { name: '48 kHz stereo', rate: 48_000, channels: 2, pcm: fromFloat32(musicLike(48_000), 'int16') },
  ];
}

/** Encodes the whole input through one encoder in 1 s writes; returns ms. */
function encodeStreamed(codec: Codec, input: Input, bitrate: number): number {
  const t0 = performance.now();
  const encoder = codec.createEncoder({
    rate: input.rate,
    channels: input.channels,
    sampleFormat: 'int16',
    bitrate,
  });
  const second = input.rate * input.channels * 2;
  for (let o = 0; o < input.pcm.length; o += second) encoder.write(input.pcm.subarray(o, o + second));
  encoder.end();
  return performance.now() - t0;
}

function timeCli(command: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${command} failed: ${r.stderr?.toString()}`);
  return ms;
}

function summarizedMs(runs: number, fn: () => number): number {
  fn(); // warm-up (JIT, WASM compile, page cache)
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(fn());
  return summarize(times).value;
}

/** Cost of one streamed 1 s chunk: our live encoder's write() vs an ffmpeg process per chunk (the reference). */
function chunkCost(input: Input, codec: Codec, ffmpegArgs: string[], bitrate: number): [number, number] {
  const second = input.rate * input.channels * 2;
  const encoder = codec.createEncoder({
    rate: input.rate,
    channels: input.channels,
    sampleFormat: 'int16',
    bitrate,
  });
  const ours: number[] = [];
  for (let o = 0; o < input.pcm.length; o += second) {
    const chunk = input.pcm.subarray(o, o + second);
    const t0 = performance.now();
    encoder.write(chunk);
    ours.push(performance.now() - t0);
  }
  encoder.end();
  const reference: number[] = [];
  for (let i = 0; i < REF_RUNS; i++) {
    const chunk = input.pcm.subarray(i * second, (i + 1) * second);
    const t0 = performance.now();
    const r = spawnSync(
      'ffmpeg',
      [
        '-v',
        'error',
        '-f',
        's16le',
        '-ar',
        String(input.rate),
        '-ac',
        String(input.channels),
        '-i',
        'pipe:0',
        ...ffmpegArgs,
        'pipe:1',
      ],
      { input: chunk, maxBuffer: 1 << 26 },
    );
    reference.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr?.toString()}`);
  }
  return [median(ours.slice(1)), median(reference)];
}

/**
 * MP3 and Opus benchmarks, side by side with the Debian CLIs on the same 60 s inputs: encode
 * speed vs `lame` / `opusenc`, and the cost of one streamed 1 s chunk vs the reference's
 * ffmpeg-process-per-chunk.
 */
export async function lossyBench(): Promise<BenchSection[]> {
  const dir = mkdtempSync(join(tmpdir(), 'audex-bench-lossy-'));
  try {
    const encodeRows: (string | number)[][] = [];
    const chunkRows: (string | number)[][] = [];
    for (const input of inputs()) {
      const raw = join(dir, `${input.rate}-${input.channels}.raw`);
      writeFileSync(raw, input.pcm);
      const mode = input.channels === 1 ? 'm' : 'j';
      const khz = String(input.rate / 1000);
      const lame = summarizedMs(RUNS, () =>
        timeCli('lame', [
          '--quiet',
          '-r',
          '-s',
          khz,
          '--bitwidth',
          '16',
          '--signed',
          '--little-endian',
          '-m',
          mode,
          '-b',
          '128',
          '--cbr',
          raw,
          join(dir, 'out.mp3'),
        ]),
      );
      const oursMp3 = summarizedMs(RUNS, () => encodeStreamed(mp3Codec, input, 128_000));
      encodeRows.push([
        'mp3 128k',
        input.name,
        fmt(oursMp3),
        fmt(lame),
        fmt((SECONDS * 1000) / oursMp3),
        fmt(lame / oursMp3),
        '>= 0.7',
      ]);
      const opusenc = summarizedMs(RUNS, () =>
        timeCli('opusenc', [
          '--quiet',
          '--raw',
          '--raw-rate',
          String(input.rate),
          '--raw-chan',
          String(input.channels),
          '--bitrate',
          '64',
          '--framesize',
          '20',
          raw,
          join(dir, 'out.opus'),
        ]),
      );
      const oursOpus = summarizedMs(RUNS, () => encodeStreamed(opusCodec, input, 64_000));
      encodeRows.push([
        'opus 64k',
        input.name,
        fmt(oursOpus),
        fmt(opusenc),
        fmt((SECONDS * 1000) / oursOpus),
        fmt(opusenc / oursOpus),
        '>= 1',
      ]);
      const [mp3Chunk, mp3Ref] = chunkCost(input, mp3Codec, ['-f', 'mp3', '-b:a', '128k'], 128_000);
      chunkRows.push(['mp3', input.name, fmt(mp3Chunk), fmt(mp3Ref), fmt(mp3Ref / mp3Chunk), '>= 20']);
      const [opusChunk, opusRef] = chunkCost(
        input,
        opusCodec,
        ['-f', 'ogg', '-c:a', 'libopus', '-b:a', '64k'],
        64_000,
      );
      chunkRows.push(['opus', input.name, fmt(opusChunk), fmt(opusRef), fmt(opusRef / opusChunk), '>= 20']);
    }
    return [
      {
        title: `Lossy encode, ${SECONDS} s input written in 1 s pieces through one encoder (${statLabel(RUNS)})`,
        columns: [
          'codec',
          'input',
          'audex ms',
          'CLI ms (lame / opusenc)',
          'audex × real time',
          'speed ratio CLI ÷ audex',
          'target',
        ],
        rows: encodeRows,
        notes:
          'MP3: wasm-media-encoders 0.7.0 (libmp3lame 3.100 in WASM). Opus: @evan/opus 1.0.3 (native libopus, WASM fallback), own Ogg writer. CLI times include process start.',
      },
      {
        title: `Streaming: cost of one 1 s chunk (audex: median of the ${SECONDS - 1} chunks after the first; reference: ${statLabel(REF_RUNS)} ffmpeg runs)`,
        columns: [
          'codec',
          'input',
          'audex write() ms',
          'reference: ffmpeg process per chunk, ms',
          'ratio',
          'target',
        ],
        rows: chunkRows,
        notes:
          'The reference encodes each streamed chunk with a new ffmpeg process (a separate file per chunk); audex keeps one live encoder.',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
