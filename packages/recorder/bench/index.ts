// @audex/recorder benchmarks, side by side in one run:
// 1. the cost of one stream() step at 1 min vs 60 min recorded, against the reference's
//    concatenate-everything approach (the naive baseline);
// 2. peak RSS while recording 60 min of 48 kHz stereo float32 with two streams attached, and
//    stop() time on the LocalStore (in a child process, so RSS is the recorder's alone);
// 3. real capture on the virtual mic: latency from a chunk's last sample being captured to the
//    chunk reaching a stream() consumer;
// 4. the live stream() step at 48 kHz stereo float32, 100 ms chunks, after 1, 5, 15 and 60 min of
//    recording, alone and with a second live stream attached (bench/stream-step-child.ts);
// 5. the stored format: stop() time, peak RSS during stop() and stored size of the same speech
//    recording stored as WAV and as FLAC (storeFormat), side by side;
// 6. the recorder's CPU per hour of recording in real time with default options (spool, commits,
//    loudness and true-peak metering), speech and a tone, 16 kHz mono int16 and 48 kHz stereo
//    float32 (bench/cpu-child.ts, one child process per run);
// 7. the recording that keeps going (bench/continuous.ts): start latency with and without
//    preRollMs, device return → audio flowing, CPU of an idle pre-roll ring per hour.
// AUDEX_BENCH_QUICK=1 records 10 min instead of 60 in part 2, 2 min instead of 10 in part 5.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AudioSource, type InputDevice, PortAudioSource } from '@audex/capture';
import type { AudioConfig, CapturedChunk } from '@audex/pcm';
import {
  type BenchSection,
  fmt,
  median,
  percentile,
  summarize,
  writeBenchReport,
} from '@audex/test-utils/bench';
import { readAudioFloat, writeSpokenSentences } from '@audex/test-utils/speech';
import { startVirtualMic } from '@audex/test-utils/virtual-mic';
import { AudioRecorder } from '../src/index.js';
import { continuousBench } from './continuous.js';
import { nullStore } from './null-store.js';
import { PushSource } from './push-source.js';

const QUICK = process.env.AUDEX_BENCH_QUICK === '1';
const sections: BenchSection[] = [];

// ---- 1. stream() step cost vs recording length ----
async function streamStepCost(): Promise<void> {
  const rate = 16_000;
  const chunk = 1024;
  const chunksPerMin = Math.ceil((60 * rate) / chunk);
  const spool = mkdtempSync(join(tmpdir(), 'audex-bench-rec-'));
  const source = new PushSource();
  const recorder = new AudioRecorder(nullStore(), { rate, chunk }, { source, spoolDir: spool });
  await recorder.init();
  await recorder.start('bench');

  const measure = async (format: string, steps: number): Promise<number[]> => {
    const it = recorder.stream({ from: 'now', chunkSize: chunk, format })[Symbol.asyncIterator]();
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      source.push(1);
      // MP3 output comes in whole frames: a step may yield nothing until the next frame is full.
      const next = await Promise.race([it.next(), new Promise((r) => setTimeout(r, 50, null))]);
      if (next !== null) times.push(performance.now() - t);
    }
    await it.return?.();
    return times;
  };

  // The reference: every step concatenates all chunks so far, then slices out the next chunk.
  const naive: Uint8Array[] = [];
  const naiveData = new Uint8Array(chunk * 2);
  const naiveStep = (position: number): number => {
    const t = performance.now();
    const all = Buffer.concat(naive);
    all.subarray(position, position + chunk * 2);
    return performance.now() - t;
  };
  const fillNaive = (chunks: number): void => {
    for (let i = 0; i < chunks; i++) naive.push(naiveData);
  };

  const at = async (minutes: number): Promise<{ pcm: number; mp3: number; naive: number }> => {
    const pcm = median(await measure('pcm', 400));
    const mp3 = median(await measure('mp3', 200));
    const steps: number[] = [];
    for (let i = 0; i < (minutes > 10 ? 20 : 200); i++)
      steps.push(naiveStep(naive.length * chunk * 2 - chunk * 2));
    return { pcm, mp3, naive: median(steps) };
  };

  source.push(chunksPerMin);
  fillNaive(chunksPerMin);
  await at(1); // warm-up: JIT and first-use allocations
  const one = await at(1);
  for (let m = 1; m < 60; m++) {
    source.push(chunksPerMin);
    await new Promise((r) => setImmediate(r));
  }
  fillNaive(59 * chunksPerMin);
  const sixty = await at(60);
  await recorder.stop({ frames: false });
  await recorder.close();
  rmSync(spool, { recursive: true, force: true });

  sections.push({
    title:
      'stream() step cost vs recording length (16 kHz mono int16, 1024-frame chunks; ms per step, median of 400 PCM steps, 200 MP3 steps, naive: 200 at 1 min, 20 at 60 min)',
    columns: ['approach', 'at 1 min', 'at 60 min', 'ratio 60/1 (target <= 1.2)'],
    rows: [
      ['audex stream() PCM (append + cursor read)', fmt(one.pcm), fmt(sixty.pcm), fmt(sixty.pcm / one.pcm)],
      ['audex stream() MP3 (+ continuous encoder)', fmt(one.mp3), fmt(sixty.mp3), fmt(sixty.mp3 / one.mp3)],
      [
        'reference: concatenate everything per step (naive)',
        fmt(one.naive),
        fmt(sixty.naive),
        fmt(sixty.naive / one.naive),
      ],
    ],
    notes:
      'A step = one 1024-frame chunk pushed by the source until a live stream() consumer holds it. The naive row re-implements the reference (join all chunks, slice the next one).',
  });
}

// ---- 2. peak RSS and stop() time, 60 min of 48 kHz stereo float32 ----
function rssAndStop(): void {
  const minutes = QUICK ? 10 : 60;
  const dir = mkdtempSync(join(tmpdir(), 'audex-bench-rss-'));
  const child = fileURLToPath(new URL('./rss-child.ts', import.meta.url));
  try {
    const run = spawnSync(
      process.execPath,
      ['--conditions=@audex/source', '--import', 'tsx', child, String(minutes), dir],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
    );
    if (run.status !== 0) throw new Error(`rss child failed with ${run.status}`);
    const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
      recordMs: number;
      stopMs: number;
      peakRssMb: number;
      frames: number;
      streamed: number[];
    };
    const gib = (r.frames * 8) / 2 ** 30;
    sections.push({
      title: `Recording ${minutes} min of 48 kHz stereo float32 from a fast SyntheticSource, two streams attached, LocalStore (single run)`,
      columns: ['measure', 'value', 'target'],
      rows: [
        ['peak RSS (child process)', `${fmt(r.peakRssMb)} MB`, '< 200 MB'],
        ['audio recorded', `${fmt(gib)} GiB (${r.frames} frames)`, ''],
        [
          'recording wall time',
          `${fmt(r.recordMs / 1000)} s (${fmt((minutes * 60_000) / r.recordMs)}× real time)`,
          '',
        ],
        ['stop() (stream the WAV from the spool into LocalStore)', `${fmt(r.stopMs)} ms`, ''],
        ['streams drained (bytes)', r.streamed.join(' / '), 'all audio, both streams'],
      ],
      notes:
        'Stream 1: PCM as captured; stream 2: resampled to 16 kHz mono int16. RSS sampled every 50 ms and maxRSS.',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 3. real-capture latency, chunk captured → stream() consumer ----
/**
 * PortAudioSource with a stopwatch on its chunk callback: when each chunk reached the recorder.
 * (The recorder's level events cannot serve: analysis runs after the live readers got the chunk.)
 */
class TimedPortAudioSource implements AudioSource {
  readonly arrivals: { time: number; frames: number; at: number }[] = [];
  readonly #inner = new PortAudioSource();
  listInputDevices(): Promise<InputDevice[]> {
    return this.#inner.listInputDevices();
  }
  start(
    config: AudioConfig,
    onChunk: (chunk: CapturedChunk) => void,
    onError: (error: Error) => void,
  ): Promise<void> {
    return this.#inner.start(
      config,
      (chunk) => {
        this.arrivals.push({
          time: chunk.time,
          frames: chunk.frames,
          at: performance.timeOrigin + performance.now(),
        });
        onChunk(chunk);
      },
      onError,
    );
  }
  stop(): Promise<void> {
    return this.#inner.stop();
  }
}

async function captureLatency(): Promise<void> {
  const mic = await startVirtualMic();
  const spool = mkdtempSync(join(tmpdir(), 'audex-bench-lat-'));
  const rate = 16_000;
  const chunk = 1024;
  const source = new TimedPortAudioSource();
  const recorder = new AudioRecorder(nullStore(), { rate, chunk }, { spoolDir: spool, source });
  try {
    await recorder.init();
    await recorder.start('latency');
    // the stream starts at the recording's first frame: its n-th chunk is the source's n-th chunk
    const received: number[] = [];
    const consumer = (async () => {
      for await (const _ of recorder.stream({ chunkSize: chunk, from: 'start' }))
        received.push(performance.timeOrigin + performance.now());
    })();
    const playing = mic.play({ frequencies: [440, 660, 880, 1100], toneSeconds: 2 });
    await playing;
    await recorder.stop({ returnPcm: false });
    await consumer;
    const latencies: number[] = [];
    const inRecorder: number[] = [];
    received.forEach((now, i) => {
      const arrival = source.arrivals[i];
      if (arrival?.frames !== chunk) return;
      latencies.push(now - (arrival.time + ((chunk - 1) / rate) * 1000));
      inRecorder.push(now - arrival.at);
    });
    if (latencies.length < 10) {
      throw new Error(
        `capture latency: only ${latencies.length} of ${received.length} streamed chunks matched the ${source.arrivals.length} captured`,
      );
    }
    sections.push({
      title:
        'Real capture (virtual mic, PortAudio, 16 kHz mono, 1024-frame chunks): last sample captured → stream() consumer (single run; percentiles over its chunks)',
      columns: ['span', 'chunks', 'p50', 'p95', 'max'],
      rows: [
        [
          'last sample captured → consumer',
          latencies.length,
          `${fmt(percentile(latencies, 50))} ms`,
          `${fmt(percentile(latencies, 95))} ms`,
          `${fmt(Math.max(...latencies))} ms`,
        ],
        [
          'of which inside the recorder (capture callback → consumer)',
          inRecorder.length,
          `${fmt(percentile(inRecorder, 50))} ms`,
          `${fmt(percentile(inRecorder, 95))} ms`,
          `${fmt(Math.max(...inRecorder))} ms`,
        ],
      ],
      notes:
        'Capture time of the chunk’s last sample is the capture timestamp of its first frame plus (frames − 1) / rate; it includes PortAudio/PulseAudio buffering before the callback.',
    });
  } finally {
    await recorder.close().catch(() => {});
    await mic.stop();
    rmSync(spool, { recursive: true, force: true });
  }
}

// ---- 4. the live step at 48 kHz stereo float32 vs recording length (child processes) ----
function streamStep48k(): void {
  const minutes = QUICK ? [1, 5] : [1, 5, 15, 60];
  const child = fileURLToPath(new URL('./stream-step-child.ts', import.meta.url));
  type Point = {
    minutes: number;
    medianMs: number;
    p90Ms: number;
    steps: number;
    gcMs: number;
    heapMb: number;
    rssMb: number;
  };
  const runs: { extraConsumer: boolean; results: Point[] }[] = [];
  for (const extra of ['0', '1']) {
    const dir = mkdtempSync(join(tmpdir(), 'audex-bench-step48-'));
    try {
      const run = spawnSync(
        process.execPath,
        ['--conditions=@audex/source', '--import', 'tsx', child, dir, extra, minutes.join(',')],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
      );
      if (run.status !== 0) throw new Error(`stream-step child failed with ${run.status ?? run.signal}`);
      runs.push(JSON.parse(run.stdout.trim().split('\n').at(-1)!));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const steps = runs[0]!.results[0]!.steps;
  const first = minutes[0]!;
  const last = minutes.at(-1)!;
  sections.push({
    title: `Live stream() step vs recording length, 48 kHz stereo float32, 100 ms chunks (ms per step: median and p90 of ${steps} paced steps, single run per row)`,
    columns: [
      'live streams',
      ...minutes.map((m) => `at ${m} min`),
      `ratio ${last}/${first} min (target <= 1.2)`,
      `GC during the ${steps} steps at ${first} / ${last} min`,
      `heap / RSS at ${last} min`,
    ],
    rows: runs.map((r) => {
      const at = (m: number) => r.results.find((p) => p.minutes === m)!;
      return [
        r.extraConsumer ? 'the measured one + one more reading all of it' : 'the measured one only',
        ...minutes.map((m) => `${fmt(at(m).medianMs)} (p90 ${fmt(at(m).p90Ms)})`),
        fmt(at(last).medianMs / at(first).medianMs),
        `${fmt(at(first).gcMs)} / ${fmt(at(last).gcMs)} ms`,
        `${fmt(at(last).heapMb)} / ${fmt(at(last).rssMb)} MB`,
      ];
    }),
    notes:
      'A step = one 4800-frame chunk pushed by the source until a live stream() consumer (started at "now") holds it. ' +
      'The recording is fed faster than real time, one second of audio per event-loop turn, so the spool writer, the fsync commits (every 500 ms) and the other stream run as they do live; ' +
      'at each checkpoint the feed pauses until they caught up, then steps are paced one per 25 ms (4× real time), writes and commits falling between them. ' +
      'Each row runs in its own process (bench/stream-step-child.ts); the spool is in the OS temp directory.',
  });
}

// ---- 5. stored as WAV vs FLAC: stop() time, memory, size ----
async function storeFormats(): Promise<void> {
  const minutes = QUICK ? 2 : 10;
  const dir = mkdtempSync(join(tmpdir(), 'audex-bench-format-'));
  const child = fileURLToPath(new URL('./store-format-child.ts', import.meta.url));
  try {
    const speech = await writeSpokenSentences(dir, { rate: 48_000, channels: 2 });
    const results = (['wav', 'flac'] as const).map((format) => {
      const run = spawnSync(
        process.execPath,
        ['--conditions=@audex/source', '--import', 'tsx', child, format, String(minutes), dir, speech.file],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
      );
      if (run.status !== 0) throw new Error(`store-format child (${format}) failed with ${run.status}`);
      return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
        format: string;
        frames: number;
        stopMs: number;
        rssBeforeStopMb: number;
        peakRssMb: number;
        size: number;
      };
    });
    const wavSize = results[0]!.size;
    sections.push({
      title: `Stored format: ${minutes} min of 48 kHz stereo int24 speech (espeak-ng, looped, -60 dBFS noise floor) stopped onto a LocalStore (single run each)`,
      columns: [
        'storeFormat',
        'stop() (upload)',
        'audio / stop time',
        'RSS before → peak during stop()',
        'stored size',
        'vs WAV',
      ],
      rows: results.map((r) => [
        r.format,
        `${fmt(r.stopMs)} ms`,
        `${fmt((minutes * 60_000) / r.stopMs)}× real time`,
        `${fmt(r.rssBeforeStopMb)} → ${fmt(r.peakRssMb)} MB`,
        `${fmt(r.size / 2 ** 20)} MiB`,
        `${fmt((100 * r.size) / wavSize)} %`,
      ]),
      notes:
        "FLAC's stop() reads the spool twice (an MD5 pass, so STREAMINFO is complete before the first byte of an upload that cannot seek; then encoding). Each format in its own child process.",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 6. CPU per hour of recording (real time, child processes) ----
async function cpuPerHour(): Promise<void> {
  const runs = 3;
  const [warmupS, measureS] = QUICK ? [2, 8] : [5, 20];
  const child = fileURLToPath(new URL('./cpu-child.ts', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'audex-bench-cpu-'));
  try {
    const shapes = [
      [16_000, 1, 'int16'],
      [48_000, 2, 'float32'],
    ] as const;
    const rows: string[][] = [];
    for (const [rate, channels, sampleFormat] of shapes) {
      const speech = await writeSpokenSentences(dir, { rate, channels });
      const raw = join(dir, `speech-${rate}-${channels}.f32`);
      const { samples } = await readAudioFloat(speech.file);
      writeFileSync(raw, new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
      for (const [name, signal, sourceOnly] of [
        ['speech (espeak-ng, looped)', raw, '0'],
        ['1 kHz tone', 'tone', '0'],
        ['the paced source alone (harness)', 'tone', '1'],
      ] as const) {
        const perHour: number[] = [];
        for (let r = 0; r < runs; r++) {
          const spool = mkdtempSync(join(dir, 'spool-'));
          const run = spawnSync(
            process.execPath,
            [
              '--conditions=@audex/source',
              '--import',
              'tsx',
              child,
              spool,
              String(rate),
              String(channels),
              sampleFormat,
              String(warmupS),
              String(measureS),
              signal,
              sourceOnly,
            ],
            { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
          );
          if (run.status !== 0) throw new Error(`cpu child failed with ${run.status ?? run.signal}`);
          const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { cpuMsPerAudioS: number };
          perHour.push((out.cpuMsPerAudioS * 3600) / 1000);
          rmSync(spool, { recursive: true, force: true });
        }
        const s = summarize(perHour);
        rows.push([
          `${rate / 1000} kHz ${channels === 1 ? 'mono' : 'stereo'} ${sampleFormat}`,
          name,
          `${fmt(s.value)} s (${s.label})`,
          `${fmt(s.value / 36)} %`,
        ]);
      }
    }
    sections.push({
      title: `Recorder CPU per hour of recording, real time, default options (${measureS} s measured after ${warmupS} s per run, ${runs} runs each)`,
      columns: ['capture', 'signal', 'CPU s per hour of audio', 'of one core'],
      rows,
      notes:
        'process.cpuUsage() (user + system, all threads: V8, GC, the spool writes) of a child process recording from a source that delivers 1024-frame chunks every 10 ms of wall time, as PortAudio does; ' +
        'spool, journal commits and loudness/true-peak metering on, no listener, no stream, stop() outside the measurement. The harness row is the source with the recorder left out.',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await streamStepCost();
rssAndStop();
await captureLatency();
streamStep48k();
await storeFormats();
await cpuPerHour();
sections.push(...(await continuousBench()));
writeBenchReport('@audex/recorder', sections);
