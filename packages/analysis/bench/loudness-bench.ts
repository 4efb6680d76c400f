import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BenchSection, fmt, median } from '@audex/test-utils/bench';
import { writeSpokenSentences } from '@audex/test-utils/speech';
import { createLoudnessMeter, type LoudnessSummary } from '../src/index.js';

const run = promisify(execFile);
const QUICK = process.env.AUDEX_BENCH_QUICK === '1';

/** Streams a 16-bit WAV (after its 44-byte header) through the meter in 1 MiB reads. */
async function measureFile(file: string, rate: number, channels: number): Promise<LoudnessSummary> {
  const meter = createLoudnessMeter({ rate, channels, sampleFormat: 'int16' });
  const frameBytes = channels * 2;
  let carry: Uint8Array = new Uint8Array(0);
  for await (const piece of createReadStream(file, { start: 44, highWaterMark: 1 << 20 })) {
    const bytes = carry.length ? Buffer.concat([carry, piece as Buffer]) : (piece as Buffer);
    const whole = bytes.length - (bytes.length % frameBytes);
    meter.write(new Uint8Array(bytes.buffer, bytes.byteOffset, whole));
    carry = bytes.subarray(whole);
  }
  return meter.summary();
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

export async function loudnessBench(): Promise<BenchSection[]> {
  const minutes = QUICK ? 5 : 60;
  const runs: number = QUICK ? 1 : 3;
  const dir = await mkdtemp(join(tmpdir(), 'audex-loudness-bench-'));
  const rows: (string | number)[][] = [];
  try {
    for (const [rate, channels] of [
      [16_000, 1],
      [48_000, 2],
    ] as const) {
      // Speech (the espeak-ng sentences) over quiet pink noise, repeated to the length.
      const speech = await writeSpokenSentences(dir, { rate, channels });
      const repeats = Math.ceil((minutes * 60_000) / speech.durationMs) - 1;
      const file = join(dir, `long-${rate}-${channels}.wav`);
      await run(
        'sox',
        [
          '-V1',
          '-m',
          speech.file,
          '-v',
          '0.02',
          `|sox -n -r ${rate} -c ${channels} -p synth ${speech.durationMs / 1000} pinknoise`,
          '-b',
          '16',
          file,
          'repeat',
          String(repeats),
          'trim',
          '0',
          String(minutes * 60),
        ].filter(Boolean),
      );
      const ours: number[] = [];
      const theirs: number[] = [];
      let summary: LoudnessSummary | undefined;
      let ffmpegText = '';
      for (let r = 0; r < runs; r++) {
        const [ms, s] = await timed(() => measureFile(file, rate, channels));
        ours.push(ms);
        summary = s;
        const [ffMs, out] = await timed(() =>
          run(
            'ffmpeg',
            ['-nostats', '-hide_banner', '-i', file, '-af', 'ebur128=peak=true', '-f', 'null', '-'],
            { maxBuffer: 1 << 28 },
          ),
        );
        theirs.push(ffMs);
        ffmpegText = out.stderr;
      }
      const ffI = /I:\s+(-?[\d.]+) LUFS\n\s+Threshold/.exec(ffmpegText)?.[1];
      const ffPeak = /Peak:\s+(-?[\d.]+) dBFS/.exec(ffmpegText)?.[1];
      rows.push([
        `${minutes} min ${rate / 1000} kHz ${channels === 1 ? 'mono' : 'stereo'} int16 WAV`,
        fmt(median(ours) / 1000),
        fmt(median(theirs) / 1000),
        fmt(median(theirs) / median(ours)),
        `${summary!.integratedLufs.toFixed(2)} / ${ffI}`,
        `${summary!.truePeakDbtp.toFixed(2)} / ${ffPeak}`,
      ]);
      await rm(file, { force: true });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return [
    {
      title: `Loudness of a ${minutes} min file: @audex/analysis (streamed in 1 MiB reads) vs ffmpeg ebur128=peak=true (${runs === 1 ? 'single run' : runs === 2 ? 'best of 2' : `median of ${runs}`})`,
      columns: [
        'file',
        'audex s',
        'ffmpeg s',
        'speed ratio (ffmpeg ÷ audex)',
        'I LUFS audex / ffmpeg',
        'true peak dBTP audex / ffmpeg',
      ],
      rows,
      notes:
        'Both read the same WAV from disk; both compute integrated loudness, loudness range and true peak (≥ 192 kHz over-sampling). ' +
        'ffmpeg resamples 16 kHz input to 48 kHz before measuring; audex measures at the native rate.',
    },
  ];
}
