// Buffers N minutes of 48 kHz stereo float32 as fast as possible in a fresh process and prints
// {"maxRssMb", "baseRssMb", "seconds"} as JSON. Peak RSS is this process's VmHWM (/proc/self/status):
// getrusage's maxRSS is not used because Linux carries it over from the parent across fork + exec.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameBuffer } from '../src/index.js';
import { feed, RATE } from './feed.js';

const minutes = Number(process.argv[2] ?? 60);
const yieldEvery = Number(process.argv[3] ?? 10);
const dir = await mkdtemp(join(tmpdir(), 'audex-buffer-rss-'));
const baseRssMb = process.memoryUsage().rss / 2 ** 20;
const t = performance.now();
const buffer = await FrameBuffer.create({ spoolDir: dir, sampleFormat: 'float32', channels: 2, rate: RATE });
await feed(buffer, minutes, yieldEvery);
await buffer.end();
const seconds = (performance.now() - t) / 1000;
const frames = buffer.frameCount;
await buffer.clear();
await rm(dir, { recursive: true, force: true });
function peakRssMb(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb !== undefined) return Number(kb) / 1024;
  } catch {
    // Not Linux: fall back to getrusage (may include the parent's peak).
  }
  return process.resourceUsage().maxRSS / 1024;
}
process.stdout.write(JSON.stringify({ maxRssMb: peakRssMb(), baseRssMb, seconds, frames }));
