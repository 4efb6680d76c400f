import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromFloat32, type SampleFormat } from '@audex/pcm';
import { type BenchSection, fmt, median, timeRuns } from '@audex/test-utils/bench';
import { createFlacDecoder, createFlacEncoder } from '../src/codecs/flac.js';

const QUICK = process.env.AUDEX_BENCH_QUICK === '1';
const RUNS = QUICK ? 3 : 5;
const SECONDS = 60;

/** Speech-like test audio: a voiced tone with partials, syllable-rate envelope and a little noise. */
function speechLike(rate: number, channels: number): Float32Array {
  const frames = rate * SECONDS;
  const x = new Float32Array(frames * channels);
  let seed = 1;
  const noise = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) >>> 0;
    return (seed / 2 ** 32 - 0.5) * 0.004;
  };
  for (let i = 0; i < frames; i++) {
    const t = i / rate;
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
    const v = env * (0.3 * Math.sin(2 * Math.PI * 150 * t) + 0.15 * Math.sin(2 * Math.PI * 700 * t));
    for (let c = 0; c < channels; c++) x[i * channels + c] = v * (c === 0 ? 1 : 0.8) + noise();
  }
  return x;
}

/**
 * FLAC encode speed and size, ours against Debian's `flac` CLI on the same PCM in one run: `-2`
 * is the level using the same tools as ours (fixed predictors, stereo decorrelation), `-5` the
 * default (LPC). The CLI times include its process start (~2 ms) and reading the raw file.
 */
export async function flacBench(): Promise<BenchSection[]> {
  const dir = mkdtempSync(join(tmpdir(), 'audex-flac-bench-'));
  const rows: (string | number)[][] = [];
  const cases: [string, number, number, SampleFormat][] = [
    ['16 kHz mono int16', 16_000, 1, 'int16'],
    ['48 kHz stereo int16', 48_000, 2, 'int16'],
    ['48 kHz stereo int24', 48_000, 2, 'int24'],
  ];
  try {
    for (const [label, rate, channels, sampleFormat] of cases) {
      const pcm = fromFloat32(speechLike(rate, channels), sampleFormat);
      const step = Math.round(rate / 10) * channels * (sampleFormat === 'int24' ? 3 : 2); // 100 ms writes
      let oursBytes = 0;
      let encoded: Uint8Array[] = [];
      const oursMs = median(
        await timeRuns(
          () => {
            const enc = createFlacEncoder({ rate, channels, sampleFormat, totalFrames: rate * SECONDS });
            encoded = [];
            for (let i = 0; i < pcm.length; i += step) encoded.push(enc.write(pcm.subarray(i, i + step)));
            encoded.push(enc.end());
            oursBytes = encoded.reduce((n, b) => n + b.length, 0);
          },
          RUNS,
          1,
        ),
      );
      const decodeMs = median(
        await timeRuns(
          () => {
            const dec = createFlacDecoder();
            for (const piece of encoded) dec.write(piece);
            dec.end();
          },
          RUNS,
          1,
        ),
      );
      const raw = join(dir, 'in.raw');
      writeFileSync(raw, pcm);
      const cli = (level: string): { ms: number; bytes: number } => {
        const out = join(dir, `out${level}.flac`);
        const args = [
          '-s',
          '-f',
          level,
          '--force-raw-format',
          '--endian=little',
          '--sign=signed',
          `--channels=${channels}`,
          `--bps=${sampleFormat === 'int24' ? 24 : 16}`,
          `--sample-rate=${rate}`,
          '-o',
          out,
          raw,
        ];
        const times: number[] = [];
        execFileSync('flac', args);
        for (let r = 0; r < RUNS; r++) {
          const t0 = performance.now();
          execFileSync('flac', args);
          times.push(performance.now() - t0);
        }
        return { ms: median(times), bytes: statSync(out).size };
      };
      const l2 = cli('-2');
      const l5 = cli('-5');
      const rt = (ms: number) => fmt((SECONDS * 1000) / ms, 0);
      const ratio = (bytes: number) => fmt(bytes / pcm.length, 3);
      rows.push([
        label,
        `${rt(oursMs)}× (${fmt(oursMs, 0)} ms)`,
        `${rt(l2.ms)}× (${fmt(l2.ms, 0)} ms)`,
        `${rt(l5.ms)}× (${fmt(l5.ms, 0)} ms)`,
        ratio(oursBytes),
        ratio(l2.bytes),
        ratio(l5.bytes),
        `${rt(decodeMs)}×`,
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    {
      title: `FLAC encode: ours vs Debian flac (60 s speech-like audio, median of ${RUNS})`,
      columns: [
        'case',
        'ours encode (× real time)',
        'flac -2',
        'flac -5',
        'ours size / PCM',
        'flac -2 size',
        'flac -5 size',
        'ours decode (× real time)',
      ],
      rows,
      notes:
        'Ours: fixed predictors (orders 0–4), best of 4 stereo decorrelations, Rice partitions, 4096-frame blocks, fed in 100 ms writes; flac CLI from a raw file, process start included.',
    },
  ];
}
