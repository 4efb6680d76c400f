// The live stream() step at 48 kHz stereo float32, 100 ms chunks, after 1, 5, 15 and 60 min of
// recording, in a fresh process (its heap and RSS are this measurement's alone). Prints one JSON line.
// Run: node --conditions=@audex/source --import tsx bench/stream-step-child.ts <spoolDir> <extraConsumer 0|1> [minutes,…]
//
// The recording is fed faster than real time, as a fast source would: one second of audio at a time,
// yielding to the event loop after each, so the spool writer, the journal commits (fsync every
// 500 ms) and any other consumer run as they do live. At each checkpoint the feed pauses until the
// spool has caught up, then a new live stream (`from: 'now'`) takes paced steps: a step is one
// 4800-frame chunk pushed by the source until the stream's consumer holds it; between steps the
// process idles as a live one does (one chunk every PACE_MS, 4× real time), so writes, commits and
// timers fall between steps as they would live.
import { PerformanceObserver } from 'node:perf_hooks';
import { median, percentile } from '@audex/test-utils/bench';
import { AudioRecorder } from '../src/index.js';
import { nullStore } from './null-store.js';
import { PushSource } from './push-source.js';

const [spoolDir, extraArg, minutesArg] = process.argv.slice(2);
if (!spoolDir) throw new Error('usage: stream-step-child.ts <spoolDir> <extraConsumer 0|1> [minutes,…]');
const extraConsumer = extraArg === '1';
const checkpoints = (minutesArg ?? '1,5,15,60').split(',').map(Number);
const RATE = 48_000;
const CHUNK = 4_800; // 100 ms
const CHUNKS_PER_MIN = (60 * RATE) / CHUNK;
const STEPS = Number(process.env.AUDEX_BENCH_STEPS ?? 200);
const WARMUP = 20;
const PACE_MS = 25;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));
let gcMs = 0;
let gcCount = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    gcCount++;
  }
}).observe({ entryTypes: ['gc'] });

const source = new PushSource();
const recorder = new AudioRecorder(
  nullStore(),
  { rate: RATE, channels: 2, sampleFormat: 'float32', chunk: CHUNK },
  { source, spoolDir },
);
await recorder.init();
await recorder.start('bench');
let extraFrames = 0;
const extra = extraConsumer
  ? (async () => {
      for await (const c of recorder.stream({ chunkSize: CHUNK })) extraFrames += c.byteLength / 8;
    })()
  : null;

let pushed = 0;
const results = [];
for (const minutes of checkpoints) {
  const feedStart = performance.now();
  while (pushed < minutes * CHUNKS_PER_MIN) {
    source.push(10);
    pushed += 10;
    await tick();
  }
  const feedMs = performance.now() - feedStart;
  // Pause until the spool writer and any other consumer have caught up, and a commit or two ran.
  await sleep(1_500);
  while (extra && extraFrames < pushed * CHUNK) await sleep(50);

  const it = recorder.stream({ from: 'now', chunkSize: CHUNK })[Symbol.asyncIterator]();
  const steps: number[] = [];
  let gc0 = 0;
  let gcN0 = 0;
  for (let i = 0; i < WARMUP + STEPS; i++) {
    if (i === WARMUP) {
      gc0 = gcMs;
      gcN0 = gcCount;
    }
    const t0 = performance.now();
    source.push(1);
    pushed++;
    const next = await it.next();
    const dt = performance.now() - t0;
    if (next.done || next.value.byteLength !== CHUNK * 8)
      throw new Error(`step ${i}: expected one ${CHUNK}-frame chunk`);
    if (i >= WARMUP) steps.push(dt);
    await sleep(Math.max(0, PACE_MS - dt));
  }
  await it.return?.();
  const memory = process.memoryUsage();
  results.push({
    minutes,
    medianMs: median(steps),
    p90Ms: percentile(steps, 90),
    steps: steps.length,
    feedMs,
    gcMs: gcMs - gc0,
    gcCount: gcCount - gcN0,
    heapMb: memory.heapUsed / 2 ** 20,
    rssMb: memory.rss / 2 ** 20,
  });
}
await recorder.stop({ frames: false });
await extra;
await recorder.close();
process.stdout.write(`${JSON.stringify({ extraConsumer, results })}\n`);
