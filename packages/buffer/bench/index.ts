// @audex/buffer benchmark: cursor reads with 1 vs 60 min buffered against the reference's
// concatenate-everything approach, a 10 s range read from a 60 min buffer, and peak RSS while
// buffering 60 min of 48 kHz stereo float32 as fast as possible (in a child process).
// AUDEX_BENCH_QUICK=1 uses 10 min instead of 60.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchSection, fmt, median, timeRuns, writeBenchReport } from '@audex/test-utils/bench';
import { FrameBuffer } from '../src/index.js';
import { BPF, CHUNK, feed, RATE, toneChunk } from './feed.js';

const quick = process.env.AUDEX_BENCH_QUICK === '1';
const LONG = quick ? 10 : 60;
const SHORT = 1;
const RUNS = quick ? 60 : 150;
const RANGE_RUNS = quick ? 20 : 40;
const dir = await mkdtemp(join(tmpdir(), 'audex-buffer-bench-'));

/** Median ms of `runs` timed runs of `fn` after `warmup` untimed ones. */
async function timeMs(fn: () => Promise<unknown>, runs: number, warmup = 3): Promise<number> {
  return median(await timeRuns(fn, runs, warmup));
}

async function buffered(minutes: number): Promise<FrameBuffer> {
  const buffer = await FrameBuffer.create({
    spoolDir: dir,
    sampleFormat: 'float32',
    channels: 2,
    rate: RATE,
  });
  await feed(buffer, minutes, 10);
  await buffer.flush();
  return buffer;
}

/** The reference's approach: keep every chunk, concatenate them all, then slice what is wanted. */
function naiveRead(chunks: readonly Uint8Array[], startFrame: number, frames: number): Uint8Array {
  const all = Buffer.concat(chunks);
  return all.subarray(startFrame * BPF, (startFrame + frames) * BPF);
}

const rng = (() => {
  let s = 12345;
  return () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32;
  };
})();

// Peak RSS first, each mode in a fresh child process, before this process grows.
const child = fileURLToPath(new URL('./rss-child.ts', import.meta.url));
const rssRows: (string | number)[][] = [];
for (const [label, yieldEvery] of [
  ['producer yields to the event loop every 1 s of audio', 10],
  ['producer never yields (synchronous loop)', 0],
] as const) {
  const run = spawnSync(
    process.execPath,
    ['--conditions=@audex/source', '--import', 'tsx', child, String(LONG), String(yieldEvery)],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (run.status !== 0) throw new Error(`rss child failed: ${run.stderr}`);
  const r = JSON.parse(run.stdout) as { maxRssMb: number; baseRssMb: number; seconds: number };
  rssRows.push([
    label,
    `${LONG} min (${fmt((LONG * 60 * RATE * BPF) / 1e9)} GB raw)`,
    fmt(r.maxRssMb),
    fmt(r.baseRssMb),
    fmt(r.seconds),
    fmt((LONG * 60) / r.seconds),
  ]);
}

// Both buffers side by side; each round times every case once, so drift in machine load hits all alike.
const short = await buffered(SHORT);
const long = await buffered(LONG);
const cases: Record<string, () => Promise<unknown>> = {};
for (const [name, buffer] of [
  ['short', short],
  ['long', long],
] as const) {
  const total = buffer.frameCount;
  // Live: the newest second (RAM). Old: a random second older than the RAM ring (31 s with the defaults), from the spool file.
  cases[`live-${name}`] = () => buffer.cursor({ startFrame: total - RATE }).read(RATE, { minFrames: RATE });
  cases[`old-${name}`] = () => {
    const start = Math.floor(rng() * (total - 32 * RATE - RATE));
    return buffer.cursor({ startFrame: start }).read(RATE, { minFrames: RATE });
  };
}
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = -5; r < RUNS; r++) {
  for (const [k, fn] of Object.entries(cases)) {
    const t = performance.now();
    await fn();
    if (r >= 0) samples[k]!.push(performance.now() - t);
  }
}
const med = (k: string): number => median(samples[k]!);
const cursorRows: (string | number)[][] = [
  ['FrameBuffer cursor, live edge (RAM)', `${SHORT} min`, fmt(med('live-short'))],
  ['FrameBuffer cursor, live edge (RAM)', `${LONG} min`, fmt(med('live-long'))],
  ['FrameBuffer cursor, random old second (spool file)', `${SHORT} min`, fmt(med('old-short'))],
  ['FrameBuffer cursor, random old second (spool file)', `${LONG} min`, fmt(med('old-long'))],
];

const total = long.frameCount;
const rangeDisk = await timeMs(async () => {
  const start = Math.floor(rng() * (total - 40 * RATE - 10 * RATE));
  await long.read(start, start + 10 * RATE);
}, RANGE_RUNS);
const rangeRam = await timeMs(() => long.read(total - 10 * RATE, total), RANGE_RUNS);
const timeRange = await timeMs(async () => {
  const s = long.startTime! + rng() * (long.durationMs - 20_000);
  await long.readTimeRange(s, s + 10_000);
}, RANGE_RUNS);
const lookups = await timeMs(async () => {
  for (let i = 0; i < 10_000; i++) long.frameAt(long.startTime! + rng() * long.durationMs);
}, 10);
const rangeRows: (string | number)[][] = [
  ['read(start, start + 10 s), random old range (spool file)', `${LONG} min`, fmt(rangeDisk)],
  ['read of the last 10 s (RAM)', `${LONG} min`, fmt(rangeRam)],
  ['readTimeRange(t, t + 10 s), random', `${LONG} min`, fmt(timeRange)],
  ['frameAt(time), one lookup (anchors: 1 per s), µs', `${LONG} min`, fmt((lookups * 1000) / 10_000)],
];
await short.clear();
await long.clear();

// Naive baseline at both lengths: the chunks (shared memory, not counted) then a full concat per read.
const naive: Record<number, number> = {};
const chunk = toneChunk();
for (const minutes of [SHORT, LONG]) {
  const chunks = Array.from({ length: (minutes * 60 * RATE) / CHUNK }, () => chunk);
  const total = chunks.length * CHUNK;
  naive[minutes] = await timeMs(
    async () => naiveRead(chunks, total - RATE, RATE),
    minutes === SHORT ? 40 : 5,
    1,
  );
  cursorRows.push([`naive: concatenate everything, then slice 1 s`, `${minutes} min`, fmt(naive[minutes]!)]);
}

const sections: BenchSection[] = [
  {
    title: `Cursor read of 1 s (48 kHz stereo float32), ${SHORT} vs ${LONG} min buffered — median of ${RUNS} reads (naive: of 40 at ${SHORT} min, 5 at ${LONG} min), ms`,
    columns: ['approach', 'buffered', 'median ms'],
    rows: [
      ...cursorRows,
      [
        `ratio live ${LONG} min / ${SHORT} min (target <= 1.2)`,
        '',
        fmt(med('live-long') / med('live-short')),
      ],
      [
        `ratio old-second ${LONG} min / ${SHORT} min (both from the spool file)`,
        '',
        fmt(med('old-long') / med('old-short')),
      ],
      [`ratio naive ${LONG} min / ${SHORT} min`, '', fmt(naive[LONG]! / naive[SHORT]!)],
    ],
    notes:
      'The live cursor reads the newest second (RAM ring); the old-second cursor a random second older than the 30 s RAM ring, read from the spool file (page cache). The naive baseline is what the reference does on every stream step.',
  },
  {
    title: `Range reads from a ${LONG} min buffer (48 kHz stereo float32) — median of ${RANGE_RUNS} reads (frameAt: of 10 runs of 10 000 lookups)`,
    columns: ['operation', 'buffered', 'median'],
    rows: rangeRows,
  },
];

sections.push({
  title: `Peak RSS while buffering ${LONG} min of 48 kHz stereo float32 as fast as possible (single run per row; target < 150 MB)`,
  columns: ['feeding', 'audio', 'peak RSS MB', 'RSS at start MB', 'seconds', '× real time'],
  rows: rssRows,
  notes:
    'Default options (memoryMs 30 000, 1 s blocks, flush every 500 ms). Peak RSS is the VmHWM of a fresh child process, Node + tsx included (see the start column).',
});

await rm(dir, { recursive: true, force: true });
writeBenchReport('@audex/buffer', sections);
