import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVoiceDetector } from '@audex/analysis';
import { fromFloat32 } from '@audex/pcm';
import { type BenchSection, fmt, median } from '@audex/test-utils/bench';
import { readAudioFloat, writeSpokenSentences } from '@audex/test-utils/speech';
import { createSileroModel } from '../src/index.js';

const QUICK = process.env.AUDEX_BENCH_QUICK === '1';

/** CPU time (user + system, all threads) of feeding `seconds` of speech in 20 ms chunks, as a share of real time. */
async function cpuShare(
  rate: number,
  channels: number,
  seconds: number,
): Promise<{ percent: number; rssMb: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'audex-vad-bench-'));
  try {
    const speech = await writeSpokenSentences(dir, { rate, channels });
    const { samples } = await readAudioFloat(speech.file);
    const once = fromFloat32(samples, 'int16');
    const total = new Uint8Array(Math.ceil((seconds * 1000) / speech.durationMs) * once.length);
    for (let at = 0; at < total.length; at += once.length) total.set(once, at);
    const detector = await createVoiceDetector(
      { rate, channels, sampleFormat: 'int16' },
      createSileroModel(),
    );
    const chunk = (rate / 50) * channels * 2;
    // Warm-up: the first 20 s compile the model and JIT the loop.
    await detector.write(total.subarray(0, chunk * 1000));
    const before = process.cpuUsage();
    for (let at = chunk * 1000; at < total.length; at += chunk)
      await detector.write(total.subarray(at, at + chunk));
    const used = process.cpuUsage(before);
    await detector.end();
    const audioMs = ((total.length - chunk * 1000) / (channels * 2) / rate) * 1000;
    return {
      percent: (100 * (used.user + used.system)) / 1000 / audioMs,
      rssMb: process.memoryUsage().rss / 2 ** 20,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function vadBench(): Promise<BenchSection[]> {
  const seconds = QUICK ? 60 : 300;
  const runs: number = QUICK ? 1 : 3;
  const rows: (string | number)[][] = [];
  // A throwaway run first: the 14 MB WASM runtime tiers up (compiles on background threads, which
  // process CPU time counts) during its first minute in the process.
  await cpuShare(16_000, 1, 30);
  for (const [rate, channels] of [
    [16_000, 1],
    [48_000, 2],
  ] as const) {
    const results = [];
    for (let r = 0; r < runs; r++) results.push(await cpuShare(rate, channels, seconds));
    const percent = median(results.map((x) => x.percent));
    rows.push([
      `${rate / 1000} kHz ${channels === 1 ? 'mono' : 'stereo'} int16`,
      fmt(percent),
      fmt((percent / 100) * 3600),
      fmt(median(results.map((x) => x.rssMb))),
    ]);
  }
  return [
    {
      title: `VAD CPU, Silero v5 on onnxruntime-web (WASM, 1 thread), speech fed in 20 ms chunks (${seconds} s, ${runs === 1 ? 'single run' : runs === 2 ? 'best of 2' : `median of ${runs}`})`,
      columns: ['input', 'CPU % of one core (live)', 'CPU s per hour of audio', 'process RSS MB'],
      rows,
      notes:
        'CPU is user+system time of the whole process over audio time, the resampling to 16 kHz mono included. ' +
        'Selection run (2026-12-01, loaded machine, one run each, 16 kHz): Silero v5 on onnxruntime-node 0.35 %, on onnxruntime-web 1.6 %; ' +
        'WebRTC VAD (@echogarden/fvad-wasm) 0.02 %; TEN-VAD WASM 1.1 %.',
    },
  ];
}
